using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// <c>GET /v1/events</c>: the console's live updates as server-sent events (<c>text/event-stream</c>). Every
/// <see cref="ControlServerOptions.EventInterval"/> the stream carries the same JSON as the polling routes:
/// <code>
/// event: status     data: GET /v1/status           (always)
/// event: cues       data: GET /v1/cues             (always: it carries "now", the program time of the last frame)
/// event: history    data: GET /v1/history?after=N  (only when there are new entries; N starts at ?after=)
/// </code>
/// so a client that loses the stream can poll those routes and lose nothing. At most
/// <see cref="ControlServerOptions.MaxEventClients"/> streams are open at once; one more gets 503 with <c>Retry-After</c>
/// (the console then polls), so streams cannot take the places the connection cap keeps for the operator's requests.
/// A stream ends when its client goes, when the client reads too slowly (Kestrel's minimum response data rate) or when
/// the server stops.
/// </summary>
internal sealed class LiveEvents : IDisposable
{
    private readonly IInjectorControl _injector;
    private readonly int _maxClients;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _stopping = new();
    private int _clients;

    public LiveEvents(IInjectorControl injector, ControlServerOptions options)
    {
        _injector = injector;
        _maxClients = options.MaxEventClients;
        _interval = options.EventInterval;
        _clock = options.Clock;
    }

    /// <summary>Streams open right now.</summary>
    public int Clients => Volatile.Read(ref _clients);

    /// <summary>Streams to <paramref name="context"/>'s client until it goes or the server stops; 503 beyond the cap.</summary>
    public async Task Serve(HttpContext context, long after)
    {
        var response = context.Response;
        if (Interlocked.Increment(ref _clients) > _maxClients)
        {
            Interlocked.Decrement(ref _clients);
            response.Headers.RetryAfter = "5";
            await HttpEndpoint.WriteError(response, 503,
                $"already {_maxClients} live-update streams open: poll GET /v1/status, /v1/cues and /v1/history instead").ConfigureAwait(false);
            return;
        }
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            response.StatusCode = 200;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            using var timer = new PeriodicTimer(_interval, _clock);
            var buffer = new ArrayBufferWriter<byte>(8192);
            do
            {
                buffer.ResetWrittenCount();
                after = Next(buffer, after);
                await response.Body.WriteAsync(buffer.WrittenMemory, stop.Token).ConfigureAwait(false);
                await response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // The client went or the server is stopping: the stream simply ends.
        }
        catch (IOException)
        {
            // The connection broke mid-write (client gone, or closed for reading too slowly).
        }
        finally
        {
            Interlocked.Decrement(ref _clients);
        }
    }

    /// <summary>Ends every open stream (before the server stops, so that stopping does not wait for them).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    // One tick: status, run of show, and the history entries above `after`; returns the last history number sent.
    private long Next(IBufferWriter<byte> to, long after)
    {
        var status = _injector.Status();
        Event(to, "status"u8, status.ToJson());
        Event(to, "cues"u8, ConsoleJson.Schedule(status, _injector.Cues()));
        var history = _injector.History(after);
        if (history.Count == 0) return after;
        Event(to, "history"u8, ConsoleJson.History(history));
        return history[^1].Number;
    }

    // "event: NAME\ndata: LINE\n...\n\n": one data line per line of the JSON (the status is indented), which the
    // client joins with "\n" again (WHATWG HTML, "Server-sent events", interpreting an event stream).
    private static void Event(IBufferWriter<byte> to, ReadOnlySpan<byte> name, ReadOnlySpan<byte> json)
    {
        to.Write("event: "u8);
        to.Write(name);
        to.Write("\n"u8);
        while (json.Length > 0)
        {
            var end = json.IndexOf((byte)'\n');
            var line = end < 0 ? json : json[..end];
            json = end < 0 ? [] : json[(end + 1)..];
            to.Write("data: "u8);
            to.Write(line.TrimEnd((byte)'\r'));
            to.Write("\n"u8);
        }
        to.Write("\n"u8);
    }
}
