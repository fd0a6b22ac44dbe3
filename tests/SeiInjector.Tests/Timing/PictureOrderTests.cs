using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Tests.Pipeline;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Timing;

/// <summary>
/// <see cref="PictureOrder"/> on real x264/x265 output in MPEG-TS, read through FFmpeg as the pipeline reads it: the picture
/// order count of every access unit, over the count step, is its PTS in frames from the last count reset, which FFmpeg's
/// demuxer reads from the PES headers (the oracle). Covers H.264 POC type 2 (no B-frames) and 0 (B-frames, B-pyramid),
/// H.265 with B-frames and open GOPs, and both framings.
/// </summary>
public class PictureOrderTests
{
    private const long FrameTicks = 3600; // 25 fps in MPEG-TS's 90 kHz

    public static IEnumerable<TestCaseData> Encodings()
    {
        yield return new TestCaseData("h264-bf0", VideoCodec.H264, new[] { "-c:v", "libx264", "-preset", "veryfast", "-bf", "0" }).SetName("H264_NoBFrames_PocType2");
        yield return new TestCaseData("h264-bf", VideoCodec.H264, new[] { "-c:v", "libx264", "-preset", "veryfast" }).SetName("H264_BFrames_PocType0");
        yield return new TestCaseData("h264-pyramid", VideoCodec.H264, new[] { "-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-x264-params", "b-pyramid=normal" }).SetName("H264_BPyramid");
        yield return new TestCaseData("h265-bf3", VideoCodec.H265, new[] { "-c:v", "libx265", "-preset", "veryfast", "-x265-params", "bframes=3:log-level=error" }).SetName("H265_BFrames");
    }

    [TestCaseSource(nameof(Encodings))]
    public void CountOverStep_IsThePtsInFrames_OfEveryAccessUnit(string name, VideoCodec codec, string[] videoArgs)
    {
        var path = FieldMedia.Clip("poc-" + name, 3, "mpegts", videoArgs);
        var annexB = new PictureOrder(codec, NalFraming.AnnexB);
        var lengthPrefixed = new PictureOrder(codec, NalFraming.LengthPrefixed4);
        var expected = new List<long>();
        var read = new List<long>();
        var readFramed = new List<long>();
        long resetPts = 0, resetPoc = 0, framedResetPoc = 0;
        var resets = 0;
        var converted = new byte[1 << 20];
        using (var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30), rawTimestamps: true))
        using (var packet = new Packet())
        {
            var video = input.Streams.First(s => s.MediaType == MediaType.Video).Index;
            annexB.ReadParameterSets(input.Streams[video].Extradata);
            for (var n = 0; n < 10_000 && input.Read(packet) == ReadResult.Packet; n++)
            {
                if (packet.StreamIndex != video)
                {
                    packet.Unref();
                    continue;
                }
                Assert.That(annexB.TryRead(packet.Data, out var poc), Is.True, $"access unit {expected.Count} read");
                Assert.That(NalFramingConverter.TryConvert(packet.Data, codec, NalFraming.AnnexB, NalFraming.LengthPrefixed4, converted, out var length, out _, out _),
                    Is.EqualTo(ReadStatus.Success));
                Assert.That(lengthPrefixed.TryRead(converted.AsSpan(0, length), out var framed), Is.True);
                if (poc.Reset)
                {
                    resetPts = packet.Pts;
                    resetPoc = poc.Value;
                    framedResetPoc = framed.Value;
                    resets++;
                }
                expected.Add((packet.Pts - resetPts) / FrameTicks);
                read.Add((poc.Value - resetPoc) / poc.UnitsPerFrame);
                readFramed.Add((framed.Value - framedResetPoc) / framed.UnitsPerFrame);
                packet.Unref();
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(expected, Has.Count.EqualTo(75));
            Assert.That(resets, Is.GreaterThanOrEqualTo(1), "the first picture resets the count");
            Assert.That(read, Is.EqualTo(expected), "Annex B (MPEG-TS)");
            Assert.That(readFramed, Is.EqualTo(expected), "length-prefixed (MP4, FLV, Matroska)");
            Assert.That(annexB.FrameRate is { } rate ? rate.Numerator / (double)rate.Denominator : 0, Is.EqualTo(25), "the VUI timing");
        });
    }

    // A unit whose header is unreadable but whose type bits say "slice" (forbidden_zero_bit set; H.265 TemporalId 0),
    // before the real slice of every access unit: passed over (the walk stopped at it and read no count, so a PES without
    // PTS could not be placed by its count). The counts equal those of the clean access units.
    [TestCase("h264-bf", VideoCodec.H264, new byte[] { 0xE5, 0x88, 0x84 })]
    [TestCase("h265-bf3", VideoCodec.H265, new byte[] { 0x02, 0x00, 0xAF })]
    public void UnreadableSliceTypedUnitBeforeTheSlice_IsPassedOver(string name, VideoCodec codec, byte[] broken)
    {
        var args = Encodings().Select(e => e.Arguments).First(a => (string)a[0]! == name)[2] as string[];
        var path = FieldMedia.Clip("poc-" + name, 3, "mpegts", args);
        var clean = new PictureOrder(codec, NalFraming.AnnexB);
        var dirty = new PictureOrder(codec, NalFraming.AnnexB);
        var counts = 0;
        using var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30), rawTimestamps: true);
        using var packet = new Packet();
        var video = input.Streams.First(st => st.MediaType == MediaType.Video).Index;
        clean.ReadParameterSets(input.Streams[video].Extradata);
        dirty.ReadParameterSets(input.Streams[video].Extradata);
        for (var n = 0; n < 10_000 && input.Read(packet) == ReadResult.Packet; n++)
        {
            if (packet.StreamIndex == video)
            {
                byte[] withBroken = [0, 0, 0, 1, .. broken, .. packet.Data];
                Assert.That(clean.TryRead(packet.Data, out var expected), Is.True);
                Assert.That(dirty.TryRead(withBroken, out var got), Is.True, $"access unit {counts} read past the broken unit");
                Assert.That(got, Is.EqualTo(expected), $"access unit {counts}");
                counts++;
            }
            packet.Unref();
        }
        Assert.That(counts, Is.EqualTo(75));
    }

    [Test]
    public void AnAccessUnitWithoutASlice_IsNotRead()
    {
        var order = new PictureOrder(VideoCodec.H264);
        byte[] delimiterAndSei = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 0x05, 0x01, 0xff, 0x80];
        Assert.That(order.TryRead(delimiterAndSei, out _), Is.False);
    }
}
