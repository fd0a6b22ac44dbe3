using System.Net;
using System.Text.RegularExpressions;
using CatEvening.ClockSync;
using CatEvening.Samples.QuickStart;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// The package README's code is real: every C# block is a file of samples/QuickStart (compiled for net10.0 and
/// netstandard2.0 with the solution), and that code works: the quick start fires a cue from a real clip, the UDP time
/// client syncs with the clock service that `latency-probe clock serve` runs.
/// </summary>
public class PackageReadmeTests
{
    private static string Normalize(string code) =>
        string.Join('\n', code.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd())).Trim();

    private static string Readme => File.ReadAllText(Path.Combine(TestMedia.RepositoryRoot, "src", "SeiReader", "README.md"));

    private static Dictionary<string, string> SampleFiles =>
        Directory.GetFiles(Path.Combine(TestMedia.RepositoryRoot, "samples", "QuickStart"), "*.cs")
            .ToDictionary(f => Path.GetFileName(f), f => Normalize(File.ReadAllText(f)));

    [Test]
    public void EveryCSharpBlockOfThePackageReadme_IsACompiledSampleFile_AndEverySampleFileIsShown()
    {
        var blocks = Regex.Matches(Readme, "```(?:csharp|cs|c#)\\n(.*?)```", RegexOptions.Singleline).Select(m => Normalize(m.Groups[1].Value)).ToList();
        var files = SampleFiles;
        Assert.Multiple(() =>
        {
            Assert.That(blocks, Has.Count.GreaterThanOrEqualTo(2), "the quick start and the UDP time client");
            foreach (var block in blocks)
                Assert.That(files.Values, Does.Contain(block), $"README block is no file of samples/QuickStart (edit the file, then copy it):\n{block[..Math.Min(200, block.Length)]}");
            foreach (var (name, text) in files)
                Assert.That(blocks, Does.Contain(text), $"samples/QuickStart/{name} is not shown verbatim in src/SeiReader/README.md");
            Assert.That(Readme, Does.Not.Contain("PingTimeServer16Times").And.Not.Contain("LocalMicros()"), "no fictional helpers");
        });
    }

    [Test]
    public void QuickStartShowClient_OnARealClip_OpensTheInteractionOnTheTargetFrame_WithThisViewersOffset()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var clip = DemuxedClip.Load(VideoProfile.H264HighBPyramid);
        var frame = clip.Packets[1].Dts - clip.Packets[0].Dts;
        var carrier = clip.Packets[6];
        var target = carrier.Pts + (4 * frame);
        var now = TestTime.UnixMicrosNow();
        var cue = TestKeys.Cue(seq: 1, offset: TimeBase.Rescale(target - carrier.Pts, clip.TimeBase, TimeBase.Mpeg90kHz), issuedAt: now);
        var opened = new List<(InteractionEventArgs Event, long Offset)>();
        var log = new List<string>();
        var client = new ShowClient(key.PublicKey.ExportPem(), TestKeys.StreamId, clip.Codec, [], clip.TimeBase, "viewer-42");
        client.InteractionOpened += (e, offset) => opened.Add((e, offset));
        client.Log += log.Add;
        for (var i = 0; i < clip.Packets.Count; i++)
        {
            var p = clip.Packets[i];
            client.OnVideoPacket(i == 6 ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, signer.Sign(cue)) : p.Data, p.Pts, p.Dts);
        }
        // The player shows the frames in presentation order.
        foreach (var pts in clip.Packets.Select(p => p.Pts).Order()) client.OnFrameRendered(pts);
        Assert.Multiple(() =>
        {
            Assert.That(log, Is.Empty);
            Assert.That(opened, Has.Count.EqualTo(1));
            Assert.That(opened.Single().Event.RenderedPts, Is.EqualTo(target), "on the target frame itself");
            Assert.That(opened.Single().Event.Cue.CueId, Is.EqualTo("poll-1"));
            Assert.That(opened.Single().Offset, Is.EqualTo(PeakShaving.OffsetMicros("viewer-42", cue)));
        });
    }

    [Test]
    public void QuickStartShowClient_ReadsARecordingFromAnHourAgo_OnlyWithRecordingTrue()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var cue = TestKeys.Cue(seq: 1, issuedAt: TestTime.UnixMicrosNow() - 3_600_000_000);
        int Opened(bool recording, List<string> log)
        {
            var client = new ShowClient(key.PublicKey.ExportPem(), TestKeys.StreamId, clip.Codec, [], clip.TimeBase, "viewer-1", recording: recording);
            var opened = 0;
            client.InteractionOpened += (_, _) => opened++;
            client.Log += log.Add;
            for (var i = 0; i < clip.Packets.Count; i++)
            {
                var p = clip.Packets[i];
                client.OnVideoPacket(i == 2 ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, signer.Sign(cue)) : p.Data, p.Pts, p.Dts);
            }
            foreach (var pts in clip.Packets.Select(p => p.Pts).Order()) client.OnFrameRendered(pts);
            return opened;
        }
        var liveLog = new List<string>();
        var replayLog = new List<string>();
        Assert.Multiple(() =>
        {
            Assert.That(Opened(recording: false, liveLog), Is.Zero);
            Assert.That(liveLog, Has.Some.Contains("IssuedTooLongAgo"));
            Assert.That(Opened(recording: true, replayLog), Is.EqualTo(1));
            Assert.That(replayLog, Is.Empty);
        });
    }

    [Test]
    public void UdpTimeClient_AgainstTheClockService_FindsItsOffsetWithinTheUncertainty()
    {
        // A service whose clock runs 5 s ahead of this host's: the client must find +5 s.
        const long AheadMicros = 5_000_000;
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new OffsetClock(AheadMicros), http: false);
        var clock = UdpTimeClient.Sync("127.0.0.1", server.LocalEndPoint.Port, exchanges: 8);
        var estimate = clock.GetEstimate(UdpTimeClient.UnixMicrosNow());
        Assert.Multiple(() =>
        {
            Assert.That(clock.IsSynchronized, Is.True);
            Assert.That(Math.Abs(estimate.OffsetMicros - AheadMicros), Is.LessThanOrEqualTo(estimate.UncertaintyMicros + 2),
                $"offset {estimate.OffsetMicros} µs ± {estimate.UncertaintyMicros} µs");
            Assert.That(server.Answered, Is.GreaterThanOrEqualTo(1));
        });
    }

    [Test]
    public void UdpTimeClient_WhereNothingAnswers_ThrowsTimeout()
    {
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.That(() => UdpTimeClient.Sync("127.0.0.1", ((IPEndPoint)silent.LocalEndPoint!).Port, exchanges: 2, timeoutMilliseconds: 200),
            Throws.TypeOf<TimeoutException>());
    }

    private sealed class OffsetClock(long aheadMicros) : IClockSource
    {
        public ClockReading Now() => new(HostClock.Instance.Now().UnixMicroseconds + aheadMicros, 0);
    }

    private static class TestTime
    {
        public static long UnixMicrosNow() => HostClock.Instance.Now().UnixMicroseconds;
    }
}
