using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Interop;

public class FFmpegInteropTests
{
    [Test]
    public void LoadedRelease_MatchesTheLibrariesTheFFmpegCliUses()
    {
        var version = FFmpegCli.Ffprobe("-version").EnsureSuccess("ffprobe -version").StdOut;
        var major = int.Parse(Regex.Match(version, @"libavformat\s+(\d+)\.").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(FFmpegLibrary.Release.AvFormatMajor, Is.EqualTo(major));
        Assert.That(FFmpegRelease.Supported.Select(r => r.AvFormatMajor), Is.EqualTo(new[] { 61, 60, 59 }));
    }

    [Test]
    public void LayoutCheck_RejectsTheLayoutOfEveryOtherMajor()
    {
        var others = FFmpegRelease.Supported.Where(r => r.AvFormatMajor != FFmpegLibrary.Release.AvFormatMajor).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(others, Has.Count.EqualTo(2));
            foreach (var other in others)
                Assert.That(() => StructLayouts.Verify(other.Layout), Throws.TypeOf<FFmpegException>().With.Message.Contains("layout"), other.ToString());
            Assert.That(() => StructLayouts.Verify(FFmpegLibrary.Release.Layout), Throws.Nothing);
        });
    }

    [Test]
    public void NoFFmpeg_ErrorListsEveryPathTriedAndTheInstallCommand()
    {
        var message = FFmpegLibrary.NotFoundMessage(["libavutil.so.61", "/opt/ffmpeg/libavutil.so.60", "libavutil.so.59"]);
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Contain("  libavutil.so.61").And.Contain("  /opt/ffmpeg/libavutil.so.60").And.Contain("  libavutil.so.59"));
            Assert.That(message, Does.Contain("7.x, 6.x, 5.1"));
            Assert.That(message, Does.Contain("apt-get install libavformat59"));
            Assert.That(message, Does.Contain(FFmpegLibrary.DirectoryVariable));
        });
    }

    [Test]
    public void OpeningAMissingFile_ThrowsWithTheAverrorCodeAndFFmpegsText()
    {
        var e = Assert.Throws<FFmpegException>(() => MediaInput.Open("/nonexistent/clip.flv", null, TimeSpan.FromSeconds(5)))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.ErrorCode, Is.EqualTo(-2), "AVERROR(ENOENT)");
            Assert.That(e.ErrorText, Is.EqualTo("No such file or directory"));
            Assert.That(e.Message, Does.Contain("/nonexistent/clip.flv"));
            Assert.That(e.WasInterrupted, Is.False);
        });
    }

    [Test]
    public void UnknownFormatNames_AreNamedInTheError()
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        Assert.That(() => MediaInput.Open(clip, "no-such-demuxer", TimeSpan.FromSeconds(5)), Throws.TypeOf<FFmpegException>().With.Message.Contains("'no-such-demuxer'"));
        Assert.That(() => MediaOutput.Create("/tmp/x.unknown-extension", null, TimeSpan.FromSeconds(5)), Throws.TypeOf<FFmpegException>().With.Message.Contains("--output-format"));
    }

    [TestCase("rtmp://127.0.0.1:1935/live/main", "flv")]
    [TestCase("RTMPS://cdn.example/ingest/key", "flv")]
    [TestCase("srt://127.0.0.1:9000?mode=caller", "mpegts")]
    [TestCase("udp://127.0.0.1:1234", "mpegts")]
    [TestCase("tcp://127.0.0.1:1234", "mpegts")]
    [TestCase("/tmp/out.mp4", null)]
    [TestCase("pipe:1", null)]
    public void StreamingUrls_ImplyTheirMuxer(string url, string? expected)
    {
        Assert.That(MediaOutput.DefaultFormatForUrl(url), Is.EqualTo(expected));
    }

    [Test]
    public void RtmpOutputWithoutFormat_GetsTheFlvMuxer()
    {
        using var output = MediaOutput.Create("rtmp://127.0.0.1:9/live/never-opened", null, TimeSpan.FromSeconds(5));
        Assert.That(output.FormatName, Is.EqualTo("flv"));
    }

    [Test]
    public void StalledNetworkInput_TimesOutInsteadOfHanging()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var accept = server.AcceptTcpClientAsync();
        var open = Task.Run(() => MediaInput.Open($"tcp://127.0.0.1:{port}", "flv", TimeSpan.FromSeconds(1)));
        Assert.That(() => open.Wait(TimeSpan.FromSeconds(60)), Throws.InnerException.TypeOf<FFmpegException>()
            .With.InnerException.Property(nameof(FFmpegException.WasInterrupted)).True
            .And.InnerException.Message.Contains("I/O timeout"));
        accept.Result.Dispose();
    }

    [Test]
    public void Pipeline_CancelledWhileItsInputStalls_StopsAndStillClosesTheOutput()
    {
        var clip = File.ReadAllBytes(TestMedia.Get(VideoProfile.H264Main, Container.Flv));
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await server.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.WriteAsync(clip.AsMemory(0, clip.Length / 2));
            await Task.Delay(TimeSpan.FromSeconds(60));
        });
        var output = Path.Combine(Path.GetTempPath(), $"sei-inject-cancel-{Guid.NewGuid():N}.flv");
        using var key = SigningKey.Generate(1);
        var book = new CueBook(new CueBookOptions { StreamId = "cancel" });
        var monitor = new PacketMonitor();
        var pipeline = new InjectionPipeline(
            new PipelineOptions
            {
                InputUrl = $"tcp://127.0.0.1:{port}", InputFormat = "flv", OutputUrl = output,
                IoTimeout = TimeSpan.FromSeconds(60), AnalyzeDuration = TimeSpan.FromMilliseconds(200), Monitor = monitor,
            },
            new CueSeiSource(book, new MessageSigner(key)));
        using var stop = new CancellationTokenSource();
        try
        {
            var run = Task.Run(() => pipeline.Run(stop.Token));
            // Cancel once the pipeline has written packets and then gone quiet (the input stalls after half the clip):
            // a packet count unchanged for a second. How soon that is depends on the load, not on what is asserted.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(50);
            long seen = -1;
            while (!run.IsCompleted && DateTime.UtcNow < deadline && (monitor.Packets == 0 || monitor.Packets != seen))
            {
                seen = monitor.Packets;
                Thread.Sleep(1000);
            }
            stop.Cancel();
            Assert.That(run.Wait(TimeSpan.FromSeconds(50)), Is.True, "the run ends soon after cancellation, not at the 60 s I/O timeout");
            var packets = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", output).EnsureSuccess("ffprobe of the cancelled output");
            Assert.Multiple(() =>
            {
                Assert.That(run.Result.Cancelled, Is.True);
                Assert.That(run.Result.Packets, Is.GreaterThan(0));
                Assert.That(packets.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(run.Result.Packets), "every packet read was written and the file is complete");
            });
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Test]
    public void Rational_RescalesExactly_RoundingHalfAwayFromZero()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new Rational(1, 1000).Rescale(1, new Rational(1, 90_000)), Is.EqualTo(90));
            Assert.That(new Rational(1, 12_800).Rescale(512, new Rational(1, 90_000)), Is.EqualTo(3600));
            Assert.That(new Rational(1, 90_000).Rescale(-45, new Rational(1, 1000)), Is.EqualTo(-1), "-0.5 ms rounds away from zero");
            Assert.That(new Rational(1, 90_000).Rescale((1L << 33) * 1000, new Rational(1, 1_000_000)), Is.EqualTo((((1L << 33) * 1000 * 100) + 4) / 9));
            Assert.That(new Rational(1, 1000).ToMicroseconds(1500), Is.EqualTo(1_500_000));
        });
    }
}
