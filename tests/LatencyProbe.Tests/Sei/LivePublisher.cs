using System.Diagnostics;
using System.Globalization;
using CatEvening.LatencyProbe.Tests.Clock;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>ffmpeg (real-time testsrc, x264 zero latency) piped into <c>sei-inject run</c> with a heartbeat on every frame.</summary>
internal sealed class LivePublisher : IDisposable
{
    private readonly Process _process;
    private readonly StringWriter _log;

    private LivePublisher(Process process, StringWriter log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>What ffmpeg and sei-inject wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    /// <summary>
    /// Starts publishing <paramref name="seconds"/> of video to <paramref name="url"/> in <paramref name="outputFormat"/>;
    /// with <paramref name="then"/>, sei-inject's output (<c>pipe:1</c>) is piped into that shell command.
    /// </summary>
    public static LivePublisher Start(string url, string outputFormat, string keyPath, int seconds, string? then = null, string streamId = "catevening")
    {
        var script = string.Create(CultureInfo.InvariantCulture,
            $"ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc2=size=320x240:rate=25 -t {seconds} " +
            $"-c:v libx264 -preset veryfast -tune zerolatency -g 25 -pix_fmt yuv420p -f flv pipe:1 | " +
            $"dotnet '{SeiInjectorProgram.Path}' run -i pipe:0 --input-format flv -o '{url}' --output-format {outputFormat} --key '{keyPath}' --heartbeat frame --stream-id '{streamId}'") +
            (then is null ? "" : " | " + then);
        var info = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        var process = Process.Start(info)!;
        var log = new StringWriter();
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (log) log.WriteLine(e.Data); };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new LivePublisher(process, log);
    }

    /// <summary>Waits until the publisher has sent all it had and exited by itself.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
