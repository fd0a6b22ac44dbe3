using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class AccessUnitTests
{
    [Test]
    public void AnnexBReader_H264_SplitsAtParameterSetsSeiAndFirstSlices()
    {
        var sei = UserDataUnregisteredReaderTests.Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [1]));
        byte[][] units =
        [
            Nals.AnnexB(Nals.H264Sps, Nals.H264Pps, sei, Nals.H264Idr),
            Nals.AnnexB(Nals.H264Slice, Nals.H264SecondSlice),
            Nals.AnnexB(Nals.H264Aud, Nals.H264Slice),
            Nals.AnnexB(sei, Nals.H264Slice, new byte[] { 0x0A }),
            Nals.AnnexB(Nals.H264Slice),
        ];
        Assert.That(Split([.. units.SelectMany(u => u)], VideoCodec.H264), Is.EqualTo(units));
    }

    [Test]
    public void AnnexBReader_H265_SuffixSeiStaysWithItsPicture()
    {
        byte[] suffix = [0x50, 0x01, 0x05, 0x10, .. Nals.Uuid, 0x80];
        byte[] secondPicture = [0x02, 0x01, 0x80, 0x44];
        byte[][] units =
        [
            Nals.AnnexB(Nals.H265Aud, Nals.H265Vps, Nals.H265Sps, Nals.H265Pps, Nals.H265Idr, suffix),
            Nals.AnnexB(secondPicture, [0x02, 0x01, 0x20, 0x11]),
            Nals.AnnexB(secondPicture),
        ];
        Assert.That(Split([.. units.SelectMany(u => u)], VideoCodec.H265), Is.EqualTo(units));
    }

    [Test]
    public void AnnexBReader_NotFinalBlock_HoldsBackTheLastAccessUnit()
    {
        var data = Nals.AnnexB(Nals.H264Sps, Nals.H264Idr, Nals.H264Slice);
        var reader = new AnnexBAccessUnitReader(data, VideoCodec.H264, isFinalBlock: false);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.Read(out var first), Is.EqualTo(ReadStatus.Success));
            Assert.That(first.Length, Is.EqualTo(8 + Nals.H264Sps.Length + Nals.H264Idr.Length));
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.NeedMoreData));
            Assert.That(reader.BytesConsumed, Is.EqualTo(first.Length));
        }
    }

    [Test]
    public void Info_TellsKeyframesAndContents()
    {
        var idr = AccessUnitInfo.Read(Nals.Framed(NalFraming.LengthPrefixed4, Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, Nals.H264Idr), VideoCodec.H264, NalFraming.LengthPrefixed4);
        var p = AccessUnitInfo.Read(Nals.AnnexB(Nals.H264Slice, Nals.H264SecondSlice), VideoCodec.H264, NalFraming.AnnexB);
        var hevc = AccessUnitInfo.Read(Nals.AnnexB(Nals.H265Aud, Nals.H265TrailTid2), VideoCodec.H265, NalFraming.AnnexB);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((idr.IsKeyframe, idr.IsIdr, idr.HasAccessUnitDelimiter, idr.HasParameterSets, idr.NalUnitCount, idr.VclCount), Is.EqualTo((true, true, true, true, 4, 1)));
            Assert.That((p.IsKeyframe, p.VclCount, p.HasParameterSets), Is.EqualTo((false, 2, false)));
            Assert.That((hevc.IsIrap, hevc.FirstSlice.TemporalId), Is.EqualTo((false, 2)));
        }
        Assert.Throws<BitstreamException>(() => AccessUnitInfo.Read([0x40, 0, 0, 1, 0x65], VideoCodec.H264, NalFraming.AnnexB));
    }

    [TestCase(VideoCodec.H264, new byte[] { 0x65 }, true, true, true)]
    [TestCase(VideoCodec.H264, new byte[] { 0x41 }, true, false, false)]
    [TestCase(VideoCodec.H264, new byte[] { 0x06 }, false, false, false)]
    [TestCase(VideoCodec.H265, new byte[] { 0x2A, 0x01 }, true, true, false)]
    [TestCase(VideoCodec.H265, new byte[] { 0x28, 0x01 }, true, true, true)]
    [TestCase(VideoCodec.H265, new byte[] { 0x4E, 0x01 }, false, false, false)]
    public void Header_ClassifiesSlicesAndRandomAccess(VideoCodec codec, byte[] nal, bool vcl, bool irap, bool idr)
    {
        var h = NalHeader.Read(codec, nal);
        Assert.That((h.IsVcl, h.IsIrap, h.IsIdr), Is.EqualTo((vcl, irap, idr)));
    }

    [Test]
    public void Header_H265Fields()
    {
        var h = NalHeader.Read(VideoCodec.H265, [0x4F, 0x0B]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((h.Type, h.LayerId, h.TemporalId), Is.EqualTo((39, 33, 2)));
            Assert.That((h.IsSei, h.IsPrefixSei, h.IsSuffixSei, h.IsParameterSet), Is.EqualTo((true, true, false, false)));
            Assert.That(NalHeader.Read(VideoCodec.H265, [0x50, 0x01]).IsSuffixSei, Is.True);
            Assert.That(NalHeader.Read(VideoCodec.H265, [0x48, 0x01]).IsEndOfSequence, Is.True);
            Assert.That(NalHeader.Read(VideoCodec.H264, [0x0B]).IsEndOfStream, Is.True);
            Assert.That(NalHeader.Read(VideoCodec.H264, [0x67]).NalRefIdc, Is.EqualTo(3));
        }
    }

    [Test]
    public void HostileBytes_NoParserThrows()
    {
        var random = new Random(4242);
        var scratch = new byte[512];
        for (int i = 0; i < 3000; i++)
        {
            var data = random.Next(3) == 0 ? Nals.Hostile(random, random.Next(0, 300)) : RandomBytes(random, random.Next(0, 300));
            foreach (var codec in new[] { VideoCodec.H264, VideoCodec.H265 })
            {
                foreach (var framing in Nals.AllFramings)
                {
                    var nals = new NalUnitReader(data, codec, framing);
                    while (nals.Read(out _) == ReadStatus.Success) { }
                    var udu = new UserDataUnregisteredReader(data, codec, framing, scratch);
                    for (int guard = 0; guard < 1000 && udu.Read(out _) is ReadStatus.Success or ReadStatus.Malformed && udu.Error != BitstreamError.LengthPastEnd; guard++) { }
                    AccessUnitInfo.TryRead(data, codec, framing, out _, out _, out _);
                    AccessUnitSplicer.TryFindInsertionPoint(data, codec, framing, out _, out _, out _, out _);
                }
                CodecConfiguration.TryParse(codec, data, out _, out _, out _);
                var aus = new AnnexBAccessUnitReader(data, codec);
                while (aus.Read(out _) == ReadStatus.Success) { }
                var sei = new SeiMessageReader(data);
                while (sei.Read(out _) == ReadStatus.Success) { }
            }
        }
        Assert.Pass("3000 random buffers through every parser, both codecs, every framing");
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    private static List<byte[]> Split(byte[] stream, VideoCodec codec)
    {
        var list = new List<byte[]>();
        var reader = new AnnexBAccessUnitReader(stream, codec);
        ReadStatus status;
        while ((status = reader.Read(out var au)) == ReadStatus.Success) list.Add(au.ToArray());
        Assert.That(status, Is.EqualTo(ReadStatus.EndOfData));
        return list;
    }
}
