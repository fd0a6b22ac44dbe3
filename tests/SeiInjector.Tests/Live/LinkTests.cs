using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// Links that never stop the show (issue 9, field cases H11 and H12), on real servers over loopback: the injector
/// listens for its publisher (RTMP <c>--listen</c>, SRT <c>mode=listener</c>) and writes to an nginx-rtmp ingest that
/// is killed and started again; a live input whose audio comes a second before its video starts anyway.
/// Every wait is on a condition (status, log line, server log) with a bound that only a hang reaches.
/// </summary>
[TestFixture]
[NonParallelizable]
public class LinkTests
{
    private const string Token = "link-test-token-0123456789";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private string _dir = "";
    private string _clip = "";
    private VerificationKey _publicKey = null!;

    [OneTimeSetUp]
    public void MakeKeys()
    {
        _clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        _dir = Directory.CreateTempSubdirectory("catevening-links-").FullName;
        LiveEndToEndTests.SeiInject.Run(["keygen", "--private", Key, "--public", PublicKeyPath]).EnsureSuccess("keygen");
        SecretFile.Write(TokenFile, Token + "\n");
        _publicKey = VerificationKey.FromPem(File.ReadAllText(PublicKeyPath));
    }

    [OneTimeTearDown]
    public void Clean()
    {
        _publicKey.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Key => Path.Combine(_dir, "key.pem");
    private string PublicKeyPath => Path.Combine(_dir, "key.pub");
    private string TokenFile => Path.Combine(_dir, "token");

    // H11: the injector listens; the ingest nginx is killed twice for about five seconds (until the injector has
    // dropped 5 s of packets it kept reading). The publisher stays connected throughout, the output comes back after
    // each restart, cues fired around the outages end delivered or expired, and none is sent after it ended.
    [TestCase("rtmp")]
    [TestCase("srt")]
    public void ListeningInput_IngestRestartedTwice_PublisherKept_OutputResumes_CuesDeliveredOrExpired_EndedNeverResent(string protocol)
    {
        var audit = Path.Combine(_dir, $"h11-{protocol}.jsonl");
        using var ingest = NginxRtmp.StartPrivate();
        var port = NginxRtmp.FreeTcpPort();
        var (inputUrl, listenArgs, publishUrl, publishFormat) = protocol == "rtmp"
            ? ($"rtmp://127.0.0.1:{port}/live/show", new[] { "--listen" }, $"rtmp://127.0.0.1:{port}/live/show", "flv")
            : ($"srt://127.0.0.1:{port}?mode=listener", Array.Empty<string>(), $"srt://127.0.0.1:{port}?mode=caller", "mpegts");
        using var injector = Injector.Start(
            ["-i", inputUrl, .. listenArgs, "-o", ingest.Url("show"), "--output-format", "flv", "--analyze-duration", "500ms"], Key, TokenFile, audit);
        injector.WaitForLog("waiting for a publisher on", Patience);
        using var api = new ControlClient(injector.Control, Encoding.UTF8.GetBytes(Token));
        using var publisher = FFmpegPublisher.StartWhenAccepted(_clip, publishUrl, publishFormat, loop: true, () => Status(api)?.Input == LinkState.Connected,
            () => injector.HasExited ? "sei-inject exited\n" + injector.Log : null, Patience);
        WaitFor(api, s => s.Output == LinkState.Connected && s.Packets > 100, "the injector to go live", injector);
        using var reader = LiveViewer.Start(ingest.Url("show"), _publicKey);

        var resumes = new List<TimeSpan>();
        for (var outage = 1; outage <= 2; outage++)
        {
            Assert.That(Fire(api, $$"""{"id":"long-{{outage}}","duration":"60s"}"""), Is.EqualTo(201));
            Assert.That(Fire(api, $$"""{"id":"ends-during-{{outage}}","duration":"2s"}"""), Is.EqualTo(201));
            var deliveredBefore = ((outage - 1) * 3) + 2;
            var before = WaitFor(api, s => s.Cues.Delivered == deliveredBefore, $"outage {outage}: the cues fired before it to go out", injector);

            ingest.Stop();
            var down = WaitFor(api, s => s.Output == LinkState.Reconnecting && s.OutputReconnects == outage,
                $"outage {outage}: the output drop to show in the status, counted at once", injector);
            var closesSoon = DateTimeOffset.UtcNow.AddMilliseconds(300);
            Assert.Multiple(() =>
            {
                Assert.That(Fire(api, $$"""{"id":"during-{{outage}}","duration":"30s"}"""), Is.EqualTo(201));
                Assert.That(Fire(api, $$"""{"id":"missed-{{outage}}","at":"{{closesSoon:O}}","duration":"500ms"}"""), Is.EqualTo(201));
            });
            // About five seconds of outage, measured by what the injector keeps reading and dropping (25 frames and
            // about 47 audio packets a second), which also shows the input is still read while the output is down.
            WaitFor(api, s => s.DroppedPackets >= down.DroppedPackets + 340 && s.Cues.Expired == outage,
                $"outage {outage}: five seconds of dropped packets and 'missed-{outage}' expired", injector);

            ingest.Start();
            var back = Stopwatch.StartNew();
            var resumed = WaitFor(api, s => s.Output == LinkState.Connected && s.Packets > before.Packets + 10,
                $"outage {outage}: the output to resume", injector);
            resumes.Add(back.Elapsed);
            TestContext.Out.WriteLine($"{protocol} outage {outage}: output resumed {back.Elapsed.TotalSeconds:0.000} s after nginx was back");
            WaitFor(api, s => s.Cues.Delivered == (outage * 3) && s.Cues.Pending == 0,
                $"outage {outage}: 'during-{outage}' to go out after it", injector);
            Assert.That(resumed.InputReconnects, Is.Zero, "the publisher's link is never dropped");
        }
        var last = Status(api)!;
        // The viewer reconnects to the restarted ingest on its own schedule and may miss the keyframe the output resumes
        // on: wait until the carousel has brought it what stayed active (60 s windows), rather than for a fixed stretch.
        reader.WaitUntilSeen(
            m => new[] { "long-1", "long-2" }.All(id => m.Count(x => (x.Message as CueMessage)?.CueId == id && x.Verified) > 1)
                && m.Any(x => (x.Message as CueMessage)?.CueId == "during-2" && x.Verified),
            "the viewer to receive 'long-1' and 'long-2' again after the outages, and 'during-2'", Patience);
        var publisherKept = !publisher.HasExited;
        Assert.That(injector.Stop(), Is.Zero, injector.Log);
        var seen = reader.Finish();

        var lines = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var log = AuditReplay.Load(audit);
        Assert.Multiple(() =>
        {
            Assert.That(publisherKept, Is.True, "the publisher was never dropped");
            Assert.That(last.InputReconnects, Is.Zero, "the input never reconnected");
            Assert.That(last.OutputReconnects, Is.EqualTo(2));
            Assert.That(resumes, Has.All.LessThanOrEqualTo(TimeSpan.FromSeconds(10)), "the output resumes soon after nginx is back (benchmarks/output-resume.sh measures the 2 s claim)");
            Assert.That(log.Cues, Has.All.Matches<AuditCueRecord>(c => c.WasDelivered || c.State == AuditCueState.Expired),
                "every cue ends delivered or expired");
            for (var outage = 1; outage <= 2; outage++)
            {
                Assert.That(log.Find($"missed-{outage}")!.State, Is.EqualTo(AuditCueState.Expired));
                Assert.That(log.Find($"during-{outage}")!.WasDelivered, Is.True);
                Assert.That(log.Find($"ends-during-{outage}")!.State, Is.EqualTo(AuditCueState.Ended));
            }
            // Never re-send an ended cue: no transmission of it signed after its 'ended' record, neither in the
            // audit log nor in what a viewer pulled from the ingest.
            foreach (var ended in lines.Where(l => Event(l) == "ended"))
            {
                var id = ended.GetProperty("id").GetString()!;
                var endedAt = DateTimeOffset.Parse(ended.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                var endedNumber = ended.GetProperty("n").GetInt64();
                var after = lines.Where(l => l.GetProperty("n").GetInt64() > endedNumber && Event(l) is "delivered" or "repeated"
                    && l.TryGetProperty("id", out var i) && i.GetString() == id);
                Assert.That(after, Is.Empty, $"'{id}' is not sent again after it ended");
                var endedMicros = endedAt.ToUnixTimeMilliseconds() * 1000;
                var late = seen.Where(m => (m.Message as CueMessage)?.CueId == id && m.Message!.IssuedAtMicros > endedMicros + 1000).ToList();
                Assert.That(late, Is.Empty, $"the viewer received '{id}' signed after it ended");
            }
            // What was active through an outage is sent again once the output is back (the carousel on keyframes).
            foreach (var id in new[] { "long-1", "long-2" })
                Assert.That(seen.Count(m => (m.Message as CueMessage)?.CueId == id && m.Verified), Is.GreaterThan(1), $"the viewer keeps receiving '{id}'");
            Assert.That(seen.Any(m => (m.Message as CueMessage)?.CueId == "during-2" && m.Verified), Is.True, "the viewer received 'during-2'");
        });
    }

    // Field tester's defect 4 (fifteenth session): the input is down (its publisher gone) and the ingest restarts
    // meanwhile. Nothing is written while the input is down, so the output's death used to be learnt from the first
    // packet after the input came back, and the status said "connected" until then. The idle output is watched now: its
    // drop shows (and is counted) while the input is still down, and both links come back once both ends are.
    [Test]
    public void PulledInputDown_IngestRestartedMeanwhile_TheIdleOutputsDropShowsAtOnce_BothLinksComeBack()
    {
        using var source = NginxRtmp.StartPrivate();
        using var ingest = NginxRtmp.StartPrivate();
        using var injector = Injector.Start(["-i", source.Url("in"), "-o", ingest.Url("show"), "--output-format", "flv"], Key, TokenFile,
            Path.Combine(_dir, "idle-output.jsonl"));
        using var api = new ControlClient(injector.Control, Encoding.UTF8.GetBytes(Token));
        var publisher = FFmpegPublisher.Start(_clip, source.Url("in"), "flv", loop: true);
        try
        {
            WaitFor(api, s => s.Input == LinkState.Connected && s.Output == LinkState.Connected && s.Packets > 100, "the injector to go live", injector);
            publisher.Dispose();
            WaitFor(api, s => s.Input == LinkState.Reconnecting, "the input to drop with its publisher", injector);

            ingest.Stop();
            var outputDown = WaitFor(api, s => s.Output == LinkState.Reconnecting, "the idle output's drop to show", injector);
            Assert.Multiple(() =>
            {
                Assert.That(outputDown.Input, Is.EqualTo(LinkState.Reconnecting), "shown while the input is still down, before any packet was written");
                Assert.That(outputDown.OutputReconnects, Is.EqualTo(1), "counted as it happens");
                Assert.That(outputDown.InputReconnects, Is.EqualTo(1));
            });

            ingest.Start();
            publisher = FFmpegPublisher.Start(_clip, source.Url("in"), "flv", loop: true);
            var back = WaitFor(api, s => s.Input == LinkState.Connected && s.Output == LinkState.Connected && s.Packets > outputDown.Packets + 100,
                "both links to come back", injector);
            Assert.Multiple(() =>
            {
                Assert.That(back.OutputReconnects, Is.EqualTo(1), "the output's one drop, counted once");
                Assert.That(back.InputReconnects, Is.EqualTo(1));
            });
        }
        finally
        {
            publisher.Dispose();
        }
        Assert.That(injector.Stop(), Is.Zero, injector.Log);
    }

    // H12: audio arrives a second before the video, and the injector probes only 500 ms: it waits for the video
    // stream (its first packet announces it) and runs, with both streams in its output.
    [Test]
    public void AudioFirst_VideoOneSecondLater_ShortProbe_WaitsForTheVideoAndRuns()
    {
        var source = TestMedia.GetOrMake("H12-audio-first.flv", path => FFmpegCli.Ffmpeg(
            "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=9", "-stream_loop", "3", "-itsoffset", "1", "-i", _clip,
            "-map", "0:a", "-map", "1:v", "-c:v", "copy", "-c:a", "aac", "-b:a", "64k", "-f", "flv", path).EnsureSuccess("making the audio-first clip"));
        using var server = NginxRtmp.StartPrivate();
        var output = Path.Combine(_dir, "h12.flv");
        var audit = Path.Combine(_dir, "h12.jsonl");
        using var injector = Injector.Start(["-i", server.Url("h12"), "-o", output, "--output-format", "flv", "--analyze-duration", "500ms"], Key, TokenFile, audit);
        server.WaitForPlayers("h12", 1, Patience);
        using var publisher = FFmpegPublisher.Start(source, server.Url("h12"), "flv", loop: false);
        using var api = new ControlClient(injector.Control, Encoding.UTF8.GetBytes(Token));
        WaitFor(api, s => s.Output == LinkState.Connected && s.Frames > 50, "the injector to go live with video", injector);
        Assert.That(injector.Stop(), Is.Zero, injector.Log);

        var streams = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json", output).EnsureSuccess("ffprobe");
        var kinds = JsonDocument.Parse(streams.StdOut).RootElement.GetProperty("streams").EnumerateArray()
            .Select(s => $"{s.GetProperty("codec_type").GetString()} {s.GetProperty("codec_name").GetString()}").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(injector.Log, Does.Not.Contain("no H.264 or H.265"));
            Assert.That(kinds, Is.EquivalentTo(new[] { "audio aac", "video h264" }), "both streams are in the output");
        });
    }

    // The wait is bounded: an input with no video at all fails with a clear error naming what it has.
    [Test]
    public void LiveInputWithoutVideo_FailsAfterTheBoundedWait_NamingItsStreams()
    {
        var audioOnly = TestMedia.GetOrMake("audio-only.flv", path => FFmpegCli.Ffmpeg(
            "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=30", "-c:a", "aac", "-b:a", "64k", "-f", "flv", path).EnsureSuccess("making the audio-only clip"));
        using var server = NginxRtmp.StartPrivate();
        var output = Path.Combine(_dir, "no-video.flv");
        using var key = SigningKey.Generate(1);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var pipeline = new InjectionPipeline(
            new PipelineOptions
            {
                InputUrl = server.Url("no-video"), OutputUrl = output, AnalyzeDuration = TimeSpan.FromMilliseconds(500),
                VideoStreamWait = TimeSpan.FromSeconds(2), IoTimeout = TimeSpan.FromSeconds(30), Log = log.Enqueue,
            },
            new CueSeiSource(new CueBook(new CueBookOptions { StreamId = "no-video" }), new MessageSigner(key)));
        var run = Task.Run(() => pipeline.Run());
        server.WaitForPlayers("no-video", 1, Patience);
        using var publisher = FFmpegPublisher.Start(audioOnly, server.Url("no-video"), "flv", loop: false);
        Assert.That(() => run.Wait(Patience), Throws.InnerException.TypeOf<InjectionException>()
            .With.InnerException.Message.Contains("no H.264 or H.265 video stream after waiting 2 s")
            .And.InnerException.Message.Contains("Audio aac"));
        // The wait is announced once, when the first audio packet is held, not once per packet.
        Assert.That(log.Where(l => l.StartsWith("waiting for a video stream", StringComparison.Ordinal)),
            Is.EqualTo(new[] { $"waiting for a video stream on {server.Url("no-video")} (audio came first; up to 2 s)" }));
    }

    private static string? Event(JsonElement line) => line.TryGetProperty("event", out var e) ? e.GetString() : null;

    private static int Fire(ControlClient api, string json) => api.FireAsync(Encoding.UTF8.GetBytes(json)).Result.Status;

    private static StatusView? Status(ControlClient api)
    {
        try
        {
            var answer = api.StatusAsync().Result;
            return answer.IsSuccess ? StatusView.Parse(answer.Body) : null;
        }
        catch (AggregateException e) when (e.InnerException is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static StatusView WaitFor(ControlClient api, Func<StatusView, bool> condition, string what, Injector injector)
    {
        var deadline = Stopwatch.StartNew();
        StatusView? last = null;
        while (deadline.Elapsed < Patience && !injector.HasExited)
        {
            if (Status(api) is { } status)
            {
                last = status;
                if (condition(status)) return status;
            }
            // Polling interval of the status endpoint, not a synchronisation: the condition decides.
            Thread.Sleep(50);
        }
        Assert.Fail($"timed out waiting for {what}; last status {last}\n{injector.Log}");
        return last!;
    }

    /// <summary>The parts of <c>GET /v1/status</c> these tests read.</summary>
    private sealed record StatusView(LinkState Input, LinkState Output, int InputReconnects, int OutputReconnects, long Frames, long Packets,
        long DroppedPackets, CueCounts Cues)
    {
        public static StatusView Parse(string json)
        {
            var r = JsonDocument.Parse(json).RootElement;
            var c = r.GetProperty("cues");
            return new StatusView(State(r, "input"), State(r, "output"), r.GetProperty("input_reconnects").GetInt32(),
                r.GetProperty("output_reconnects").GetInt32(), r.GetProperty("frames").GetInt64(), r.GetProperty("packets").GetInt64(),
                r.GetProperty("dropped_packets").GetInt64(),
                new CueCounts(c.GetProperty("pending").GetInt32(), c.GetProperty("active").GetInt32(), c.GetProperty("delivered").GetInt32(),
                    c.GetProperty("expired").GetInt32(), c.GetProperty("cancelled").GetInt32()));
        }

        private static LinkState State(JsonElement r, string name) => Enum.Parse<LinkState>(r.GetProperty(name).GetString()!, ignoreCase: true);
    }

    /// <summary><c>sei-inject run</c> with the control API and an audit log.</summary>
    private sealed class Injector : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();
        private string? _control;

        private Injector(string[] args, string key, string tokenFile, string audit)
        {
            _process = LiveEndToEndTests.SeiInject.Start(
                ["run", .. args, "--key", key, "--control", "127.0.0.1:0", "--token-file", tokenFile, "--audit", audit, "--io-timeout", "5s"], _log);
        }

        /// <summary>Where the control API is served (HOST:PORT, a port the kernel picked), once the injector says so.</summary>
        public string Control => _control ??= LiveEndToEndTests.SeiInject.WaitForAddress(_process, _log, "control API and operator console");

        public bool HasExited => _process.HasExited;

        public string Log
        {
            get
            {
                lock (_log) return "sei-inject said:\n" + _log;
            }
        }

        public static Injector Start(string[] args, string key, string tokenFile, string audit) => new(args, key, tokenFile, audit);

        public void WaitForLog(string fragment, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (!Log.Contains(fragment, StringComparison.Ordinal))
            {
                if (deadline.Elapsed > timeout || HasExited) Assert.Fail($"sei-inject did not say '{fragment}'\n{Log}");
                Thread.Sleep(20);
            }
        }

        public int Stop()
        {
            FFmpegCli.Run("kill", ["-15", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30))) Assert.Fail("sei-inject did not stop on SIGTERM\n" + Log);
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
