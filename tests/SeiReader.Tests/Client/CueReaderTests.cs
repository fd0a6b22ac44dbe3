using System.Text.Json;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

public class CueReaderTests
{
    private static readonly SigningKey Key = TestKeys.Key1();
    private static readonly MessageSigner Signer = new(Key);

    [OneTimeTearDown]
    public void DisposeKey() => Key.Dispose();

    private static CueReader Reader(DemuxedClip clip, NalFraming framing, List<EventArgs> events, long now = TestKeys.Now, int bits = WrappingTimestamps.NoWrap)
    {
        var options = new VerifierOptions();
        options.StreamIds.Add(TestKeys.StreamId);
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey), options), clip.Codec, framing, clip.TimeBase, bits, () => now);
        reader.CueReceived += (_, e) => events.Add(e);
        reader.HeartbeatReceived += (_, e) => events.Add(e);
        reader.MessageRejected += (_, e) => events.Add(e);
        return reader;
    }

    private static long Ticks90k(DemuxedClip clip, long ticks) => TimeBase.Rescale(ticks, clip.TimeBase, TimeBase.Mpeg90kHz);

    [TestCase(VideoProfile.H264Main)]
    [TestCase(VideoProfile.H265Main)]
    public void Feed_RealClipWithoutCatEveningSei_RaisesNothing_AndSkipsTheEncodersUserData(VideoProfile profile)
    {
        var clip = DemuxedClip.Load(profile);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events);
        foreach (var p in clip.Packets) reader.Feed(p.Data, p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(events, Is.Empty);
            Assert.That(reader.Statistics.Packets, Is.EqualTo(TestMedia.FrameCount));
            Assert.That(reader.Statistics.CatEveningPayloads, Is.Zero);
            Assert.That(reader.Statistics.MalformedSei, Is.Zero);
        });
    }

    [TestCase(VideoProfile.H264HighBPyramid, false)]
    [TestCase(VideoProfile.H264HighBPyramid, true)]
    [TestCase(VideoProfile.H265Main, false)]
    [TestCase(VideoProfile.H265Main, true)]
    public void Feed_SplicedCueAndHeartbeat_RaiseTypedEventsWithTheTargetPts(VideoProfile profile, bool lengthPrefixed)
    {
        var clip = DemuxedClip.Load(profile);
        var carrierIndex = 7;
        var carrier = clip.Packets[carrierIndex];
        var target = carrier.Pts + 3 * (clip.Packets[1].Dts - clip.Packets[0].Dts);
        var cue = TestKeys.Cue(seq: 1, offset: Ticks90k(clip, target - carrier.Pts));
        var hb = TestKeys.Heartbeat(seq: 2);
        var framing = lengthPrefixed ? NalFraming.LengthPrefixed4 : NalFraming.AnnexB;
        var events = new List<EventArgs>();
        var reader = Reader(clip, framing, events);
        for (var i = 0; i < clip.Packets.Count; i++)
        {
            var p = clip.Packets[i];
            var data = i == carrierIndex ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(cue), Signer.Sign(hb)) : p.Data;
            if (lengthPrefixed) data = DemuxedClip.ToLengthPrefixed(data, clip.Codec);
            reader.Feed(data, p.Pts, p.Dts);
        }
        Assert.That(events, Has.Count.EqualTo(2));
        var c = (CueReceivedEventArgs)events[0];
        var h = (HeartbeatReceivedEventArgs)events[1];
        Assert.Multiple(() =>
        {
            Assert.That(c.Cue, Is.EqualTo(cue));
            Assert.That(c.CarrierPts, Is.EqualTo(carrier.Pts));
            Assert.That(c.TargetPts, Is.EqualTo(target));
            Assert.That(c.TimeBase, Is.EqualTo(clip.TimeBase));
            Assert.That(c.KeyId, Is.EqualTo(1));
            Assert.That(h.Heartbeat, Is.EqualTo(hb));
            Assert.That(h.CarrierPts, Is.EqualTo(carrier.Pts));
            Assert.That(reader.Statistics.Accepted, Is.EqualTo(2));
        });
    }

    [Test]
    public void Feed_CarouselRepeatsAndRedundantCopies_AreReportedOnce()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var cue = TestKeys.Cue(seq: 1);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events);
        var first = DemuxedClip.Splice(clip.Packets[3].Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(cue));
        reader.Feed(first, clip.Packets[3].Pts, clip.Packets[3].Dts);
        reader.Feed(first, clip.Packets[3].Pts, clip.Packets[3].Dts);
        var delta = Ticks90k(clip, clip.Packets[25].Pts - clip.Packets[3].Pts);
        var repeat = Signer.Sign(cue.ForCarrier(-delta, TestKeys.Now + 1_000_000));
        reader.Feed(DemuxedClip.Splice(clip.Packets[25].Data, clip.Codec, NalFraming.AnnexB, repeat), clip.Packets[25].Pts, clip.Packets[25].Dts);
        Assert.Multiple(() =>
        {
            Assert.That(events, Has.Count.EqualTo(1));
            Assert.That(reader.Statistics.Repeats, Is.EqualTo(2));
        });
    }

    [Test]
    public void Feed_LateJoinerFirstSeesARepeat_TargetIsInThePast()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events);
        var p = clip.Packets[25];
        var repeat = TestKeys.Cue(seq: 1).ForCarrier(-90_000, TestKeys.Now);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(repeat)), p.Pts, p.Dts);
        Assert.That(((CueReceivedEventArgs)events.Single()).TargetPts, Is.EqualTo(p.Pts - TimeBase.Rescale(90_000, TimeBase.Mpeg90kHz, clip.TimeBase)));
    }

    [Test]
    public void Feed_ForgedAndStaleMessages_RaiseMessageRejectedOncePerDistinctBytes()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events, now: TestKeys.Now + 3_600_000_000);
        var forged = Signer.Sign(TestKeys.Cue(seq: 1, issuedAt: TestKeys.Now + 3_600_000_000));
        forged[40] ^= 0x10;
        var stale = Signer.Sign(TestKeys.Cue(seq: 2));
        var p = clip.Packets[5];
        var packet = DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, forged, stale);
        reader.Feed(packet, p.Pts, p.Dts);
        reader.Feed(packet, p.Pts + 1, p.Dts + 1);
        Assert.That(events.Cast<MessageRejectedEventArgs>().Select(e => e.Reason),
            Is.EqualTo(new[] { RejectionReason.BadSignature, RejectionReason.IssuedTooLongAgo }));
        var staleEvent = (MessageRejectedEventArgs)events[1];
        Assert.Multiple(() =>
        {
            Assert.That(staleEvent.Message, Is.EqualTo(TestKeys.Cue(seq: 2)));
            Assert.That(staleEvent.CarrierPts, Is.EqualTo(p.Pts));
            Assert.That(staleEvent.Detail, Does.Contain("ms ago"));
        });
    }

    [Test]
    public void Feed_PacketWithoutPts_UsesDts_AndWithoutEitherGivesNoTarget()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events);
        var p = clip.Packets[4];
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: 1))), null, p.Dts);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: 2, cueId: "b"))), null, null);
        var e = events.Cast<CueReceivedEventArgs>().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(e[0].TargetPts, Is.EqualTo(p.Dts));
            Assert.That(e[1].CarrierPts, Is.Null);
            Assert.That(e[1].TargetPts, Is.Null);
        });
    }

    [TestCase(WrappingTimestamps.MpegTsBits, 1L << 33)]
    [TestCase(WrappingTimestamps.FlvBits, 1L << 32)]
    public void Feed_TargetAcrossTheTimestampWrap_WrapsLikeTheStream(int bits, long modulus)
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        var events = new List<EventArgs>();
        var options = new VerifierOptions();
        var tb = bits == 33 ? TimeBase.Mpeg90kHz : TimeBase.Milliseconds;
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey), options), clip.Codec, NalFraming.AnnexB, tb, bits, () => TestKeys.Now);
        reader.CueReceived += (_, e) => events.Add(e);
        var p = clip.Packets[0];
        var carrierPts = modulus - TimeBase.Rescale(90_000, TimeBase.Mpeg90kHz, tb);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(offset: 180_000))), carrierPts);
        Assert.That(((CueReceivedEventArgs)events.Single()).TargetPts, Is.EqualTo(TimeBase.Rescale(90_000, TimeBase.Mpeg90kHz, tb)));
    }

    [Test]
    public void Heartbeat_RebaseTicks_IsTheDownstreamShiftAcrossThe33BitWrap()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey)), clip.Codec, NalFraming.AnnexB, TimeBase.Mpeg90kHz,
            WrappingTimestamps.MpegTsBits, () => TestKeys.Now);
        HeartbeatReceivedEventArgs? got = null;
        reader.HeartbeatReceived += (_, e) => got = e;
        var hb = TestKeys.Heartbeat();
        // The injector saw the carrier at PTS 2^33 - 592; the packager rebased it to 1000, past the wrap.
        reader.Feed(DemuxedClip.Splice(clip.Packets[0].Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(hb)), 1000);
        Assert.That(hb.CarrierPts, Is.EqualTo((1L << 33) - 592));
        Assert.That(got!.RebaseTicks, Is.EqualTo(1592));
    }

    [Test]
    public void Property_CorruptedPacketsWithMessages_NeverThrow()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var rng = new Random(9);
        var events = new List<EventArgs>();
        var reader = Reader(clip, NalFraming.AnnexB, events);
        var packet = DemuxedClip.Splice(clip.Packets[2].Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: 1)), Signer.Sign(TestKeys.Heartbeat(seq: 2)));
        var seiEnd = Math.Min(packet.Length, 400);
        for (var i = 0; i < 3000; i++)
        {
            var copy = (byte[])packet.Clone();
            for (var k = rng.Next(1, 4); k > 0; k--) copy[rng.Next(seiEnd)] = (byte)rng.Next(256);
            var cut = copy.AsSpan(0, rng.Next(2) == 0 ? copy.Length : rng.Next(copy.Length)).ToArray();
            Assert.DoesNotThrow(() => reader.Feed(cut, i, i));
            var lp = new byte[cut.Length];
            rng.NextBytes(lp);
            Assert.DoesNotThrow(() => new CueReader(new MessageVerifier(new KeyRing()), clip.Codec, NalFraming.LengthPrefixed4, clip.TimeBase).Feed(lp, 0));
        }
        Assert.That(events.OfType<CueReceivedEventArgs>().Count(), Is.LessThanOrEqualTo(1), "a corrupted cue is never accepted as a different one");
    }

    /// <summary>FFmpeg as the oracle: the spliced stream still decodes frame for frame, and FFmpeg reports a
    /// user_data_unregistered side data on exactly the carrier frames (plus x264's own on the first).</summary>
    [Test]
    public void SplicedStream_FFmpegSeesUserDataOnTheCarrierFramesAndDecodesTheSamePictures()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264HighBPyramid);
        var carriers = new[] { 3, 11, 30 };
        var dir = Directory.CreateTempSubdirectory("catevening-reader");
        try
        {
            var path = Path.Combine(dir.FullName, "spliced.h264");
            var plain = Path.Combine(dir.FullName, "plain.h264");
            using (var output = File.Create(path))
            using (var original = File.Create(plain))
                for (var i = 0; i < clip.Packets.Count; i++)
                {
                    var data = clip.Packets[i].Data;
                    original.Write(data);
                    output.Write(carriers.Contains(i) ? DemuxedClip.Splice(data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: i))) : data);
                }
            // Frames come out in presentation order (coded_picture_number, which named the decode order, is gone from
            // ffprobe 7.x): the carrier in decode order i is output frame number rank(pts of packet i).
            var json = FFmpegCli.Ffprobe("-v", "error", "-show_frames", "-show_entries", "frame=frame_side_data", "-of", "json", path)
                .EnsureSuccess("ffprobe").StdOut;
            var withUserData = JsonDocument.Parse(json).RootElement.GetProperty("frames").EnumerateArray()
                .Select((f, outputIndex) => (f, outputIndex))
                .Where(x => x.f.TryGetProperty("side_data_list", out var l) && l.EnumerateArray().Any(s => s.GetProperty("side_data_type").GetString()!.Contains("User Data Unregistered")))
                .Select(x => x.outputIndex).ToArray();
            var outputOrder = clip.Packets.Select(p => p.Pts).Order().ToList();
            var expected = new[] { 0 }.Concat(carriers).Select(i => outputOrder.IndexOf(clip.Packets[i].Pts)).Order();
            Assert.Multiple(() =>
            {
                Assert.That(withUserData, Is.EqualTo(expected));
                Assert.That(FFmpegCli.VideoFrameMd5(path), Is.EqualTo(FFmpegCli.VideoFrameMd5(plain)));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

public class CueReaderAllocationTests
{
    /// <summary>The budget, asserted without timing: a packet without a CatEvening message allocates nothing once
    /// the reader's scratch buffer has grown (BenchmarkDotNet's MemoryDiagnoser says the same in benchmarks/RESULTS.md).</summary>
    [Test]
    public void Feed_RealPacketsWithoutCatEveningSei_AllocateNothing()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        using var key = TestKeys.Key1();
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), clip.Codec, NalFraming.AnnexB, clip.TimeBase);
        reader.CueReceived += (_, _) => Assert.Fail("no cue in this clip");
        foreach (var p in clip.Packets) reader.Feed(p.Data, p.Pts, p.Dts);
        var packets = clip.Packets;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < packets.Count; i++) reader.Feed(packets[i].Data, packets[i].Pts, packets[i].Dts);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, "bytes allocated while reading 50 real packets, x264's user-data SEI included");
    }
}
