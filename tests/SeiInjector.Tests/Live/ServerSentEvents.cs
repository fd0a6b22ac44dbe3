using System.Text;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>Reads a <c>text/event-stream</c> as a browser does: <c>event:</c> names, <c>data:</c> lines joined with "\n".</summary>
internal sealed class ServerSentEvents : IDisposable
{
    private readonly StreamReader _reader;

    public ServerSentEvents(Stream stream) => _reader = new StreamReader(stream, Encoding.UTF8);

    /// <summary>One event: its name and its data.</summary>
    public sealed record Event(string Name, string Data);

    /// <summary>Every event read so far, in order.</summary>
    public List<Event> Seen { get; } = [];

    /// <summary>Reads events until one matches; fails when the stream ends first.</summary>
    public async Task<Event> Until(Func<Event, bool> match, CancellationToken cancel)
    {
        while (await Next(cancel).ConfigureAwait(false) is { } e)
            if (match(e)) return e;
        throw new EndOfStreamException($"the event stream ended after {Seen.Count} events without the one awaited");
    }

    /// <summary>Reads until the server ends the stream.</summary>
    public async Task UntilEnd(CancellationToken cancel)
    {
        while (await Next(cancel).ConfigureAwait(false) is not null)
        {
        }
    }

    public void Dispose() => _reader.Dispose();

    private async Task<Event?> Next(CancellationToken cancel)
    {
        var name = "message";
        var data = new List<string>();
        while (await _reader.ReadLineAsync(cancel).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count == 0) continue;
                var e = new Event(name, string.Join('\n', data));
                Seen.Add(e);
                return e;
            }
            if (line.StartsWith("event:", StringComparison.Ordinal)) name = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Add(line.StartsWith("data: ", StringComparison.Ordinal) ? line[6..] : line[5..]);
        }
        return null;
    }
}
