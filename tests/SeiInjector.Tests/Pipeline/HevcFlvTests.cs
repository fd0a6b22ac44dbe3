using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// HEVC in FLV and over RTMP (enhanced RTMP), which FFmpeg carries from 6.1 (libavformat 60.16): in and out, judged by
/// FFmpeg. On an older FFmpeg the tests are skipped and say which release lacks it.
/// </summary>
[NonParallelizable]
public class HevcFlvTests
{
    private SigningKey _key = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public void CreateKeyAndFolder()
    {
        _key = SigningKey.Generate(9);
        _work = Directory.CreateTempSubdirectory("sei-inject-hevc-flv-").FullName;
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    [SetUp]
    public void RequireHevcInFlv()
    {
        if (!FFmpegCli.FlvCarriesHevc) Assert.Ignore(FFmpegCli.NoHevcInFlvReason);
    }

    [TestCase(VideoProfile.H265Main)]
    [TestCase(VideoProfile.H265Main10)]
    public void HevcFlvFile_InjectedWithAHeartbeatPerFrame_DecodesTheSamePicturesAndEveryMessageVerifies(VideoProfile profile)
    {
        var input = TestMedia.Get(profile, Container.Flv);
        var output = Path.Combine(_work, $"{profile}-out.flv");
        Inject(input, output);
        AssertSamePicturesAndAHeartbeatPerFrame(input, output);
    }

    [Test]
    public void HevcOverRtmp_ReadFromOneServerAndPublishedToAnother_DecodesTheSamePicturesAndEveryMessageVerifies()
    {
        var input = TestMedia.Get(VideoProfile.H265Main, Container.Flv);
        var received = Path.Combine(_work, "rtmp-received.flv");
        var playPort = FreeTcpPort();
        var publishPort = FreeTcpPort();
        var playUrl = $"rtmp://127.0.0.1:{playPort}/live/in";
        var publishUrl = $"rtmp://127.0.0.1:{publishPort}/live/out";
        // FFmpeg as both RTMP servers (-listen 1): one receives what the injector publishes, one serves the clip to it.
        using var receiver = StartFfmpeg("-v", "error", "-listen", "1", "-i", publishUrl, "-c", "copy", "-f", "flv", "-y", received);
        using var server = StartFfmpeg("-v", "error", "-i", input, "-c", "copy", "-f", "flv", "-listen", "1", playUrl);
        WaitUntilListening(playPort, server);
        WaitUntilListening(publishPort, receiver);

        Inject(playUrl, publishUrl);

        Assert.That(receiver.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the receiving server ends with the injector's stream");
        Assert.That(receiver.ExitCode, Is.Zero, receiver.StandardError.ReadToEnd());
        AssertSamePicturesAndAHeartbeatPerFrame(input, received);
    }

    private void Inject(string input, string output)
    {
        var book = new CueBook(new CueBookOptions { StreamId = "hevc-flv", Heartbeat = HeartbeatPolicy.OnEveryFrame, Repeat = 3 });
        book.Add(new CueRequest("cue-at-1", MessageKind.Custom, CueTime.FromFirstFrame(TimeSpan.FromSeconds(1)), TimeSpan.Zero, TimeSpan.Zero, "{\"n\":1}"u8.ToArray()));
        var source = new RecordingSeiSource(new CueSeiSource(book, new MessageSigner(_key)));
        var report = new InjectionPipeline(new PipelineOptions { InputUrl = input, OutputUrl = output, IoTimeout = TimeSpan.FromSeconds(30) }, source).Run();
        Assert.Multiple(() =>
        {
            Assert.That(report.Cancelled, Is.False);
            Assert.That(source.NotCarriedReasons, Is.Empty);
        });
    }

    private void AssertSamePicturesAndAHeartbeatPerFrame(string input, string output)
    {
        var framesIn = Probe.VideoFrames(input);
        var framesOut = Probe.VideoFrames(output);
        var inspected = new List<InspectedMessage>();
        new StreamInspector(_key.PublicKey).Inspect(output, null, TimeSpan.FromSeconds(10), inspected.Add);
        Assert.Multiple(() =>
        {
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)), "decoded frames");
            Assert.That(framesOut, Has.Count.EqualTo(TestMedia.FrameCount));
            Assert.That(framesOut.Zip(framesIn).Select(f => f.First.Unregistered - f.Second.Unregistered), Is.All.EqualTo(1), "our SEI on every frame");
            Assert.That(inspected.Select(m => m.Verified), Is.All.True);
            Assert.That(inspected.Count(m => m.Message is HeartbeatMessage), Is.EqualTo(TestMedia.FrameCount));
            Assert.That(inspected.Count(m => m.Message is CueMessage c && c.CueId == "cue-at-1"), Is.Positive);
        });
    }

    private static Process StartFfmpeg(params string[] args)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-hide_banner", "-nostdin", .. args]) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until the kernel lists the port as listening (/proc/net/tcp state 0A), without connecting: a server started
    /// with -listen 1 takes exactly one connection. Bounded at 60 s, which only a hang exceeds.
    /// </summary>
    private static void WaitUntilListening(int port, Process server)
    {
        var needle = ":" + port.ToString("X4", CultureInfo.InvariantCulture) + " ";
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(f => f.Length > 3 && (f[1] + " ").EndsWith(needle, StringComparison.Ordinal) && f[3] == "0A"))
                return;
            if (server.HasExited) Assert.Fail($"ffmpeg -listen 1 on port {port} exited: {server.StandardError.ReadToEnd()}");
            Thread.Sleep(20);
        }
        Assert.Fail($"ffmpeg did not listen on port {port} within 60 s");
    }
}
