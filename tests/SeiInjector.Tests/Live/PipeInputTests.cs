using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// An input that cannot be opened again (<c>-i pipe:0</c>, fed by <c>ffmpeg -re ... -f mpegts -</c>) with a network
/// output whose receiver restarts: the output comes back on its own while the pipe is read on, and the run ends with
/// the pipe. The receiver is a TCP sink of the test's own on loopback that records each connection as one output
/// session. Every wait is on a log line or the sink, bounded by a limit only a hang reaches.
/// </summary>
[TestFixture]
[NonParallelizable]
public class PipeInputTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public void PipeInput_TcpReceiverRestarted_OutputReconnects_StartsAtAKeyframe_PipeKeptOpen_RunEndsWithThePipe()
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var dir = Directory.CreateTempSubdirectory("catevening-pipe-").FullName;
        try
        {
            var key = Path.Combine(dir, "key.pem");
            var publicKey = Path.Combine(dir, "key.pub");
            LiveEndToEndTests.SeiInject.Run(["keygen", "--private", key, "--public", publicKey]).EnsureSuccess("keygen");
            using var sink = new TcpSessionSink();
            var log = new StringBuilder();
            var injector = Track(LiveEndToEndTests.SeiInject.Start(["run", "-i", "pipe:0", "--input-format", "mpegts", "-o", sink.Url, "--output-format", "mpegts",
                "--key", key, "--heartbeat", "frame", "--analyze-duration", "500ms", "--io-timeout", "5s"], log, redirectInput: true));
            var feeder = Track(StartFeeder(clip));
            // The studio's bytes go into the injector's standard input until the feeder stops; then the pipe ends.
            var pipe = Task.Run(async () =>
            {
                try
                {
                    await feeder.StandardOutput.BaseStream.CopyToAsync(injector.StandardInput.BaseStream);
                }
                finally
                {
                    injector.StandardInput.Close();
                }
            });
            var bytesPerSecond = new FileInfo(clip).Length / (TestMedia.FrameCount / (double)TestMedia.FrameRate);

            WaitFor(() => sink.Sessions == 1 && sink.Session(0).Length > bytesPerSecond, "the first output session to carry a second of the stream", injector, log);
            sink.Drop();
            WaitFor(() => Said(log, "sei-inject: output reconnecting"), "the output drop to be noticed", injector, log);
            sink.Reopen();
            WaitFor(() => Said(log, "live again (session 2)") && sink.Sessions == 2 && sink.Session(1).Length > 2 * bytesPerSecond,
                "the output to come back and carry two seconds of the stream", injector, log);
            Assert.That(feeder.HasExited, Is.False, "the feeder was never refused: the pipe stayed open through the outage");
            feeder.Kill();
            Assert.That(pipe.Wait(Patience), Is.True, "the pipe closes once the feeder is gone");
            Assert.That(injector.WaitForExit(Patience), Is.True, "the run ends when the pipe ends\n" + Said(log));
            injector.WaitForExit();
            WaitFor(() => sink.IsComplete(1), "the second output session to be closed", injector: null, log);

            var second = Path.Combine(dir, "session-2.ts");
            File.WriteAllBytes(second, sink.Session(1));
            var firstVideo = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1", "-show_entries", "packet=flags",
                "-of", "json", second).EnsureSuccess("ffprobe of the second session");
            var decode = FFmpegCli.Ffmpeg("-v", "error", "-i", second, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "framemd5", "-");
            var inspected = new List<InspectedMessage>();
            using (var verification = VerificationKey.FromPem(File.ReadAllText(publicKey)))
                new StreamInspector(verification).Inspect(second, null, TimeSpan.FromSeconds(30), inspected.Add);
            Assert.Multiple(() =>
            {
                Assert.That(injector.ExitCode, Is.Zero, "the pipe's end is the end of the show, not a failure\n" + Said(log));
                Assert.That(Count(log, "live again"), Is.EqualTo(1), "one drop, one resume\n" + Said(log));
                Assert.That(JsonDocument.Parse(firstVideo.StdOut).RootElement.GetProperty("packets")[0].GetProperty("flags").GetString(), Does.StartWith("K"),
                    "the resumed session starts at a keyframe");
                Assert.That(decode.ExitCode, Is.Zero, decode.StdErr);
                Assert.That(decode.StdOut.Split('\n').Count(l => l.Length > 0 && !l.StartsWith('#')), Is.GreaterThan(TestMedia.FrameRate),
                    "the resumed session decodes, more than a second of it");
                Assert.That(inspected, Is.Not.Empty, "the resumed session carries our SEI");
                Assert.That(inspected, Has.All.Matches<InspectedMessage>(m => m.Verified), "every message verifies");
            });
        }
        finally
        {
            foreach (var process in _started)
            {
                if (!process.HasExited) process.Kill();
                process.WaitForExit();
                process.Dispose();
            }
            _started.Clear();
            Directory.Delete(dir, recursive: true);
        }
    }

    private readonly List<Process> _started = [];

    // Killed at the end of the test if it is still running (a failed assertion leaves no process behind).
    private Process Track(Process process)
    {
        _started.Add(process);
        return process;
    }

    // The studio: the clip looped (continuous timestamps) at its own pace, as MPEG-TS on standard output.
    private static Process StartFeeder(string clip)
    {
        var psi = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["-hide_banner", "-v", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy", "-f", "mpegts", "-"]) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    private static string Said(StringBuilder log)
    {
        lock (log) return "sei-inject said:\n" + log;
    }

    private static bool Said(StringBuilder log, string fragment) => Said(log).Contains(fragment, StringComparison.Ordinal);

    private static int Count(StringBuilder log, string fragment) => Said(log).Split('\n').Count(l => l.Contains(fragment, StringComparison.Ordinal));

    private static void WaitFor(Func<bool> condition, string what, Process? injector, StringBuilder log)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (injector is { HasExited: true }) Assert.Fail($"sei-inject exited ({injector.ExitCode}) while waiting for {what}\n{Said(log)}");
            if (deadline.Elapsed > Patience) Assert.Fail($"timed out waiting for {what}\n{Said(log)}");
            // Polling interval, not a synchronisation: the condition decides.
            Thread.Sleep(20);
        }
    }
}
