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
        int Major(string library) => int.Parse(Regex.Match(version, library + @"\s+(\d+)\.").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Multiple(() =>
        {
            Assert.That(FFmpegLibrary.Release.AvFormatMajor, Is.EqualTo(Major("libavformat")));
            Assert.That(FFmpegLibrary.Release.AvCodecMajor, Is.EqualTo(Major("libavcodec")));
            Assert.That(FFmpegLibrary.Release.AvUtilMajor, Is.EqualTo(Major("libavutil")));
        });
    }

    [Test]
    public void VersionTable_ListsFFmpeg9To51NewestFirst_WithEachReleasesMajors()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FFmpegRelease.Supported.Select(r => r.Name), Is.EqualTo(new[] { "9.x", "8.x", "7.x", "6.x", "5.1" }));
            Assert.That(FFmpegRelease.Supported.Select(r => r.AvFormatMajor), Is.EqualTo(new[] { 63, 62, 61, 60, 59 }));
            Assert.That(FFmpegRelease.Supported.Select(r => r.AvCodecMajor), Is.EqualTo(new[] { 63, 62, 61, 60, 59 }));
            Assert.That(FFmpegRelease.Supported.Select(r => r.AvUtilMajor), Is.EqualTo(new[] { 61, 60, 59, 58, 57 }));
            // 7.0 moved AVFormatContext fields, 6.0 AVStream's; 8.x and 9.x kept 7.x's offsets.
            Assert.That(FFmpegRelease.Supported.Select(r => r.Layout), Is.EqualTo(new[]
            {
                StructLayouts.Major61, StructLayouts.Major61, StructLayouts.Major61, StructLayouts.Major60, StructLayouts.Major59,
            }));
            Assert.That(FFmpegRelease.Supported[0].ToString(), Is.EqualTo("FFmpeg 9.x (libavformat 63, libavcodec 63, libavutil 61)"));
        });
    }

    [Test]
    public void LayoutCheck_RejectsTheLayoutOfEveryOtherMajor()
    {
        var others = FFmpegRelease.Supported.Select(r => r.Layout).Distinct().Where(l => l != FFmpegLibrary.Release.Layout).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(others, Has.Count.EqualTo(2));
            foreach (var other in others)
                Assert.That(() => StructLayouts.Verify(other), Throws.TypeOf<FFmpegException>().With.Message.Contains("layout"), other.ToString());
            Assert.That(() => StructLayouts.Verify(FFmpegLibrary.Release.Layout), Throws.Nothing);
        });
    }

    [Test]
    public void CodecIds_AreTheLoadedLibrarysOwn_HevcIs172FromLibavcodec63()
    {
        var ids = CodecIds.Loaded;
        Assert.Multiple(() =>
        {
            Assert.That(ids.Hevc, Is.EqualTo(FFmpegLibrary.Release.AvCodecMajor >= 63 ? 172 : 173));
            Assert.That(ids.H264, Is.EqualTo(27));
            Assert.That(ids.IdOf(KnownCodec.Hevc), Is.EqualTo(ids.Hevc));
            Assert.That(ids.Classify(ids.H264), Is.EqualTo(KnownCodec.H264));
            Assert.That(ids.Classify(ids.Hevc), Is.EqualTo(KnownCodec.Hevc));
            Assert.That(ids.Classify(0), Is.EqualTo(KnownCodec.Other));
            Assert.That(() => ids.IdOf(KnownCodec.Other), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => CodecIds.IdByName("no-such-codec"), Throws.TypeOf<FFmpegException>().With.Message.Contains("'no-such-codec'"));
        });
    }

    [TestCase(VideoProfile.H264Main, KnownCodec.H264, "h264")]
    [TestCase(VideoProfile.H265Main, KnownCodec.Hevc, "hevc")]
    public void StreamsOfRealClips_AreClassifiedByTheLoadedCodecIds(VideoProfile profile, KnownCodec expected, string name)
    {
        using var input = MediaInput.Open(TestMedia.Get(profile, Container.Mp4), null, TimeSpan.FromSeconds(30));
        Assert.Multiple(() =>
        {
            Assert.That(input.Streams.Select(s => s.KnownCodec), Is.EqualTo(new[] { expected, KnownCodec.Other }));
            Assert.That(input.Streams[0].CodecName, Is.EqualTo(name));
            Assert.That(input.Streams[1].CodecName, Is.EqualTo("aac"));
        });
    }

    [Test]
    public void NoFFmpeg_ErrorListsEveryPathTriedAndTheInstallCommand()
    {
        var message = FFmpegLibrary.NotFoundMessage(["/opt/ffmpeg/libavutil.so.61", "libavutil.so.61", "libavutil.so.59"], "sudo apt-get install x");
        Assert.Multiple(() =>
        {
            Assert.That(message, Does.Contain("  /opt/ffmpeg/libavutil.so.61").And.Contain("  libavutil.so.61").And.Contain("  libavutil.so.59"));
            Assert.That(message, Does.Contain("9.x, 8.x, 7.x, 6.x, 5.1"));
            Assert.That(message, Does.Contain("Install them with: sudo apt-get install x"));
            Assert.That(message, Does.Contain(FFmpegLibrary.DirectoryVariable));
        });
    }

    [TestCase("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        "sudo apt-get install libavformat59 libavcodec59 libavutil57 (FFmpeg 5.1 on Debian GNU/Linux 12 (bookworm))")]
    [TestCase("PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n",
        "sudo apt-get install libavformat61 libavcodec61 libavutil59 (FFmpeg 7.1 on Debian GNU/Linux 13 (trixie))")]
    [TestCase("PRETTY_NAME=\"Debian GNU/Linux forky/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=forky\nID=debian\n",
        "sudo apt-get install libavformat63 libavcodec63 libavutil61 (FFmpeg 9.x; its 8.x libraries: libavformat62 libavcodec62 libavutil60 on Debian GNU/Linux forky/sid)")]
    [TestCase("PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n",
        "sudo apt-get install libavformat60 libavcodec60 libavutil58 (FFmpeg 6.1 on Ubuntu 24.04.1 LTS)")]
    [TestCase("PRETTY_NAME=\"Linux Mint 22\"\nID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_CODENAME=wilma\n",
        "sudo apt-get install ffmpeg (it pulls in the libavformat/libavcodec/libavutil of the release's FFmpeg, which must be 5.1 or newer)")]
    [TestCase("NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=41\n",
        "sudo dnf install ffmpeg-libs (RPM Fusion), or Fedora's own sudo dnf install libavformat-free libavcodec-free libavutil-free")]
    [TestCase("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
        "sudo dnf install ffmpeg-libs (RPM Fusion), or Fedora's own sudo dnf install libavformat-free libavcodec-free libavutil-free")]
    [TestCase("ID=arch\n", "sudo pacman -S ffmpeg")]
    public void InstallHint_NamesTheCommandOfTheDetectedDistribution(string osRelease, string expected)
    {
        Assert.That(InstallHint.ForLinux(osRelease), Is.EqualTo(expected));
    }

    [Test]
    public void InstallHint_SaysWhenTheDistributionsFFmpegIsTooOld_AndFallsBackWithoutOsRelease()
    {
        Assert.Multiple(() =>
        {
            Assert.That(InstallHint.ForLinux("PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nID=ubuntu\nVERSION_CODENAME=jammy\n"),
                Does.StartWith("Ubuntu 22.04.4 LTS ships FFmpeg 4.4, older than 5.1").And.Contain(FFmpegLibrary.DirectoryVariable));
            Assert.That(InstallHint.ForLinux(null), Does.Contain("sudo apt-get install ffmpeg").And.Contain("brew install ffmpeg"));
            Assert.That(InstallHint.ForLinux("# comment\n=novalue\ngarbage\n"), Does.Contain("5.1 or newer"));
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

    // The callback FFmpeg polls during blocking I/O, called as FFmpeg calls it: 0 (go on) until the armed call's
    // deadline has passed, then 1 (stop) set by the watchdog, never before; re-arming gives the next call its own
    // deadline; a cancel stops every call at once and for good.
    [Test]
    public unsafe void InterruptGuard_PollAnswersGoOnUntilTheDeadline_StopAfterIt_AndStopForGoodOnceCancelled()
    {
        Assert.That(InterruptGuard.PollsNatively, Is.True, "the C library's strlen was found: FFmpeg's poll stays native");
        using var guard = new InterruptGuard(TimeSpan.FromMilliseconds(200));
        var native = guard.Native;
        guard.ArmUnbounded();
        Assert.That(native->Callback(native->Opaque), Is.EqualTo(0), "unbounded: go on");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        guard.Arm();
        var answer = 0;
        for (var i = 0; i < 3000 && (answer = native->Callback(native->Opaque)) == 0; i++) Thread.Sleep(10);
        var elapsed = clock.Elapsed;
        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(1), "the call is stopped once its deadline has passed");
            Assert.That(guard.TimedOut, Is.True);
            Assert.That(elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200)), "never before the deadline");
        });
        guard.Arm();
        Assert.Multiple(() =>
        {
            Assert.That(native->Callback(native->Opaque), Is.EqualTo(0), "the next call has its own deadline");
            Assert.That(guard.TimedOut, Is.False);
        });
        guard.Cancel();
        Assert.That(native->Callback(native->Opaque), Is.EqualTo(1), "cancelled: stop at once");
        guard.Arm();
        Assert.That(native->Callback(native->Opaque), Is.EqualTo(1), "a cancel is for good");
    }

    // Arm keeps a deadline renewed less than the slack ago (1 % of the timeout): a call is still stopped after its
    // timeout less at most the slack, and a call armed right after an unbounded one (a listener's accept) gets a
    // bounded deadline again.
    [Test]
    public unsafe void InterruptGuard_RenewedWithinItsSlack_StillStopsAStalledCall_AndIsBoundedAgainAfterAnUnboundedCall()
    {
        var timeout = TimeSpan.FromMilliseconds(1500);
        using var guard = new InterruptGuard(timeout);
        var native = guard.Native;
        guard.Arm();
        guard.ArmUnbounded();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        guard.Arm();
        guard.Arm();
        var answer = 0;
        for (var i = 0; i < 3000 && (answer = native->Callback(native->Opaque)) == 0; i++) Thread.Sleep(10);
        var elapsed = clock.Elapsed;
        Assert.Multiple(() =>
        {
            Assert.That(answer, Is.EqualTo(1), "the call after the unbounded one has a deadline");
            Assert.That(guard.TimedOut, Is.True);
            Assert.That(elapsed, Is.GreaterThanOrEqualTo(timeout * 0.99 - TimeSpan.FromMilliseconds(1)), "not before its timeout less the slack");
        });
        guard.Arm();
        Assert.That(native->Callback(native->Opaque), Is.EqualTo(0), "a call after a timeout gets a fresh deadline at once");
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

    // The 64-bit fast path and the 128-bit path must agree with exact arithmetic everywhere, including at their border
    // (|dividend| around long.MaxValue / 2) and for the extremes of long.
    [Test]
    public void Rational_Rescale_AgreesWithExactArithmetic_OnBothSidesOfTheFastPathsBorder()
    {
        var random = new Random(20261130);
        Rational[] bases = [new(1, 90_000), new(1, 1000), new(1, 1_000_000), new(1001, 30_000), new(1, 12_800), new(int.MaxValue, 3), new(7, int.MaxValue)];
        var units = new List<long> { 0, 1, -1, long.MaxValue, long.MinValue + 1, long.MaxValue / 2, -(long.MaxValue / 2), (long.MaxValue / 2) + 1, (1L << 33) - 1 };
        for (var i = 0; i < 2000; i++) units.Add(random.NextInt64(long.MinValue + 1, long.MaxValue) >> random.Next(0, 63));
        var failures = new List<string>();
        foreach (var from in bases)
        foreach (var to in bases)
        foreach (var u in units)
        {
            var exact = Exact((System.Numerics.BigInteger)u * from.Numerator * to.Denominator, (System.Numerics.BigInteger)from.Denominator * to.Numerator);
            if (exact < long.MinValue || exact > long.MaxValue) continue;
            var got = from.Rescale(u, to);
            if (got != (long)exact && failures.Count < 10) failures.Add($"{u} in {from} -> {to}: {got}, exact {exact}");
        }
        foreach (var tb in bases)
        foreach (var u in units)
        {
            var micros = Exact((System.Numerics.BigInteger)u * tb.Numerator * 1_000_000, tb.Denominator);
            if (micros >= long.MinValue && micros <= long.MaxValue && tb.ToMicroseconds(u) is var m && m != (long)micros && failures.Count < 10)
                failures.Add($"{u} in {tb} to µs: {m}, exact {micros}");
            var back = Exact((System.Numerics.BigInteger)u * tb.Denominator, (System.Numerics.BigInteger)tb.Numerator * 1_000_000);
            if (back >= long.MinValue && back <= long.MaxValue && tb.FromMicroseconds(u) is var f && f != (long)back && failures.Count < 10)
                failures.Add($"{u} µs to {tb}: {f}, exact {back}");
        }
        Assert.That(failures, Is.Empty);

        static System.Numerics.BigInteger Exact(System.Numerics.BigInteger n, System.Numerics.BigInteger d)
        {
            if (d < 0) { n = -n; d = -d; }
            var half = d / 2;
            return n >= 0 ? (n + half) / d : -((-n + half) / d);
        }
    }
}
