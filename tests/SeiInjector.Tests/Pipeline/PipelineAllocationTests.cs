using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// The per-packet path allocates nothing: a packet that carries no SEI (the vast majority on a live stream) passes the
/// timeline, the cue book, the counters and the muxer without a managed allocation, so a run of hours never makes the
/// GC work for it. Measured as the difference between a short and a long run of the same stream, on the pipeline's own
/// thread (start-up and the carrier frames of the heartbeat cost the same in both).
/// </summary>
public class PipelineAllocationTests
{
    private string _work = null!;

    [SetUp]
    public void SetUp()
    {
        _work = Path.Combine(Path.GetTempPath(), "pipeline-alloc-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_work);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_work, recursive: true);

    private static string Clip(int seconds) => TestMedia.GetOrMake($"alloc-{seconds}s.flv", path =>
        FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", $"testsrc2=size=320x240:rate=30:duration={seconds}", "-f", "lavfi",
            "-i", $"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-bf", "2",
            "-c:a", "aac", "-b:a", "64k", "-f", "flv", "-y", path).EnsureSuccess("alloc clip"));

    [TestCase("flv")]
    [TestCase("mpegts")]
    public void PacketsWithoutSei_AllocateNothing_OnThePipelineThread(string outputFormat)
    {
        var key = SigningKey.Generate(1);
        // A run may allocate once, at a moment that depends on timing (a lock's slow path the first time the I/O
        // watchdog holds it: ~0.5-1.4 KB, seen in CI on a loaded machine). The least of two runs of each length, and
        // ~2,000 packets between the lengths, keep such a one-off far below the 1 B per packet bound, where one byte
        // per packet would still show.
        var (shortBytes, shortPackets) = Least(Clip(4), outputFormat, key);
        var (longBytes, longPackets) = Least(Clip(32), outputFormat, key);
        var perPacket = (double)(longBytes - shortBytes) / (longPackets - shortPackets);
        TestContext.Out.WriteLine($"{outputFormat}: {shortBytes} B over {shortPackets} packets, {longBytes} B over {longPackets} packets: {perPacket:0.###} B per packet");
        Assert.Multiple(() =>
        {
            Assert.That(longPackets - shortPackets, Is.GreaterThan(2000), "the long run has 28 s more of video and audio");
            Assert.That(perPacket, Is.LessThan(1.0), "bytes allocated per extra packet");
        });
    }

    private (long Bytes, long Packets) Least(string input, string outputFormat, SigningKey key)
    {
        var first = Measure(input, outputFormat, key);
        var second = Measure(input, outputFormat, key);
        Assert.That(second.Packets, Is.EqualTo(first.Packets), "the same input gives the same packets");
        return (Math.Min(first.Bytes, second.Bytes), first.Packets);
    }

    // A carrier frame (a signed heartbeat here) allocates its message, payload, signature and journal entry: about a
    // kilobyte (1,157 B on 2026-12-01). Bounded so that a regression shows.
    [Test]
    public void CarrierFrames_AllocateAboutAKilobyteEach()
    {
        var key = SigningKey.Generate(1);
        var (shortBytes, _, shortCarriers) = Measure(Clip(4), "flv", key, HeartbeatPolicy.OnEveryFrame);
        var (longBytes, _, longCarriers) = Measure(Clip(16), "flv", key, HeartbeatPolicy.OnEveryFrame);
        var perCarrier = (double)(longBytes - shortBytes) / (longCarriers - shortCarriers);
        TestContext.Out.WriteLine($"{perCarrier:0} B per carrier frame ({longCarriers - shortCarriers} more carriers)");
        Assert.Multiple(() =>
        {
            Assert.That(longCarriers - shortCarriers, Is.GreaterThan(300), "a heartbeat on every one of 12 s more frames");
            Assert.That(perCarrier, Is.LessThan(2048));
        });
    }

    // Allocated bytes of one run on a thread of its own (the heartbeat off by default: no carrier frames), with the
    // packet monitor `sei-inject run` has.
    private (long Bytes, long Packets, long Carriers) Measure(string input, string outputFormat, SigningKey key, HeartbeatPolicy heartbeat = default)
    {
        long bytes = 0, packets = 0, carriers = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var book = new CueBook(new CueBookOptions { StreamId = "alloc", Heartbeat = heartbeat, Repeat = 3 });
                var monitor = new PacketMonitor();
                var output = Path.Combine(_work, Guid.NewGuid().ToString("N") + (outputFormat == "flv" ? ".flv" : ".ts"));
                var pipeline = new InjectionPipeline(new PipelineOptions { InputUrl = input, OutputUrl = output, OutputFormat = outputFormat, Monitor = monitor },
                    new CueSeiSource(book, new MessageSigner(key)));
                var before = GC.GetAllocatedBytesForCurrentThread();
                var report = pipeline.Run();
                bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                packets = report.Packets;
                carriers = report.CarrierFrames;
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.That(thread.Join(TimeSpan.FromSeconds(120)), Is.True, "the run ended");
        if (failure is not null) throw new AssertionException("the run failed", failure);
        return (bytes, packets, carriers);
    }
}
