using System.Diagnostics;

namespace CatEvening.Tests.Shared;

/// <summary>
/// <c>ffmpeg -re</c> publishing a clip to a URL (stream copy, paced at its own frame rate) until disposed: the studio of
/// the live tests. Looped, its timestamps run on continuously.
/// </summary>
public sealed class FFmpegPublisher : IDisposable
{
    private readonly string[] _args;
    private Process _process;
    private bool _disposed;

    private FFmpegPublisher(string[] args)
    {
        _args = args;
        _process = Launch(args);
    }

    /// <summary>True once ffmpeg has exited (the clip ended, or the server refused or dropped it).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts publishing <paramref name="clip"/> to <paramref name="url"/> in <paramref name="format"/>, looped unless told otherwise.</summary>
    public static FFmpegPublisher Start(string clip, string url, string format = "flv", bool loop = true) =>
        new(["-hide_banner", "-v", "error", "-re", .. (loop ? new[] { "-stream_loop", "-1" } : []), "-i", clip, "-c", "copy", "-f", format, url]);

    /// <summary>
    /// Starts publishing to a listener, which is not listening the instant it says it will: a publisher refused before it
    /// is gets started again until <paramref name="accepted"/> holds. Once accepted, it is never restarted. Polls every
    /// 50 ms; throws <see cref="TimeoutException"/> after <paramref name="patience"/> (a bound for a hang), or as soon as
    /// <paramref name="gaveUp"/> returns a reason (the listener's process or task ended).
    /// </summary>
    public static FFmpegPublisher StartWhenAccepted(string clip, string url, string format, bool loop, Func<bool> accepted, Func<string?> gaveUp,
        TimeSpan patience)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(gaveUp);
        var publisher = Start(clip, url, format, loop);
        try
        {
            var deadline = Stopwatch.StartNew();
            while (!accepted())
            {
                if (gaveUp() is { } reason) throw new InvalidOperationException($"the listener never accepted the publisher: {reason}");
                if (deadline.Elapsed > patience) throw new TimeoutException($"the listener on {url} never accepted the publisher within {patience.TotalSeconds:0} s");
                if (publisher._process.HasExited)
                {
                    publisher._process.Dispose();
                    publisher._process = Launch(publisher._args);
                }
                // Polling interval, not a synchronisation: the condition decides.
                Thread.Sleep(50);
            }
            return publisher;
        }
        catch
        {
            publisher.Dispose();
            throw;
        }
    }

    private static Process Launch(string[] args)
    {
        var psi = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Stops ffmpeg (killed if still running) and waits for it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
