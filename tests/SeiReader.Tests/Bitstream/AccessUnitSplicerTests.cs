using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class AccessUnitSplicerTests
{
    [Test]
    public void Splice_H264_AfterAudParameterSetsAndExistingSei_BeforeTheFirstSlice()
    {
        var existingSei = UserDataUnregisteredReaderTests.Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [1]));
        foreach (var framing in Nals.AllFramings)
        {
            var au = Nals.Framed(framing, Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, existingSei, Nals.H264Idr, Nals.H264SecondSlice);
            var sei = Nals.SeiNal(VideoCodec.H264, framing, [2, 0, 0, 0]);
            var output = new byte[au.Length + sei.Length];
            var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, framing, sei, output);
            var types = Nals.ReadAll(output, VideoCodec.H264, framing).Select(n => n.Header.Type);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(result.IsSpliced, Is.True, result.ToString());
                Assert.That(result.BytesWritten, Is.EqualTo(output.Length));
                Assert.That(types, Is.EqualTo(new[] { 9, 7, 8, 6, 6, 5, 1 }), framing.ToString());
                Assert.That(SeiTests.ReadUserData(output, VideoCodec.H264, framing), Is.EqualTo(new[] { new byte[] { 1 }, [2, 0, 0, 0] }));
            }
        }
    }

    [Test]
    public void Splice_AnnexB3ByteStartCodes_KeepsEveryOriginalByte()
    {
        byte[] au = [.. Nals.AnnexB3(Nals.H264Sps, Nals.H264Pps), 0, 0, 0, 1, .. Nals.H264Idr];
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [3]);
        var output = new byte[au.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, output);
        int at = result.InsertionOffset;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(at, Is.EqualTo(6 + Nals.H264Sps.Length + Nals.H264Pps.Length));
            Assert.That(output[..at], Is.EqualTo(au[..at]));
            Assert.That(output[at..(at + sei.Length)], Is.EqualTo(sei));
            Assert.That(output[(at + sei.Length)..], Is.EqualTo(au[at..]));
        }
    }

    [Test]
    public void Splice_H265_TakesTheTemporalIdOfTheAccessUnit()
    {
        var au = Nals.Framed(NalFraming.LengthPrefixed4, Nals.H265Aud, Nals.H265TrailTid2);
        var sei = Nals.SeiNal(VideoCodec.H265, NalFraming.LengthPrefixed4, [4]);
        var output = new byte[au.Length + sei.Length];
        Assert.That(AccessUnitSplicer.Splice(au, VideoCodec.H265, NalFraming.LengthPrefixed4, sei, output).IsSpliced, Is.True);
        var nals = Nals.ReadAll(output, VideoCodec.H265, NalFraming.LengthPrefixed4);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nals.Select(n => n.Header.Type), Is.EqualTo(new[] { 35, 39, 1 }));
            Assert.That(nals[1].Header.TemporalId, Is.EqualTo(2));
            Assert.That(sei[5], Is.EqualTo(0x01), "the caller's SEI is not changed");
        }
    }

    [Test]
    public void Splice_NoSlice_HandsBackTheOriginalAndSaysWhy()
    {
        var au = Nals.Framed(NalFraming.AnnexB, Nals.H264Aud, Nals.H264Sps, Nals.H264Pps);
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [5]);
        var output = new byte[au.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, output);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.IsSpliced, Is.False);
            Assert.That(result.Error, Is.EqualTo(BitstreamError.NoVclNalUnit));
            Assert.That(result.BytesWritten, Is.EqualTo(au.Length));
            Assert.That(output[..au.Length], Is.EqualTo(au));
            Assert.That(result.ToString(), Does.Contain("no VCL"));
        }
    }

    [TestCase(new byte[] { 0x55, 0, 0, 1, 0x65, 0x88 }, BitstreamError.MissingStartCode, 0)]
    // A broken unit and no slice after it: nothing to splice before.
    [TestCase(new byte[] { 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0xE5, 0x88 }, BitstreamError.NoVclNalUnit, 11)]
    public void Splice_GarbageAnnexB_HandsBackTheOriginalWithOffset(byte[] au, BitstreamError error, int offset)
    {
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [5]);
        var output = new byte[au.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, output);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((result.IsSpliced, result.Error, result.ErrorOffset), Is.EqualTo((false, error, offset)));
            Assert.That(output[..au.Length], Is.EqualTo(au));
        }
    }

    // A unit with an unreadable header, or an empty one, before the slice (an encoder's broken unit, fresh tester's H14
    // variant): passed over, as FFmpeg's parser does; the SEI goes before the slice and the broken unit stays as it came.
    [TestCase(new byte[] { 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x86, 0x05, 0, 0, 1, 0x65, 0x88 }, 11)]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0, 0, 1, 0x65, 0x88 }, 9)]
    [TestCase(new byte[] { 0, 0, 0, 1, 0xE5, 0x88, 0, 0, 0, 1, 0x65, 0x88 }, 6)]
    public void Splice_BrokenUnitBeforeTheSlice_SeiGoesBeforeTheSlice_TheRestAsItCame(byte[] au, int offset)
    {
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [5]);
        var output = new byte[au.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, output);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((result.IsSpliced, result.Error, result.InsertionOffset), Is.EqualTo((true, BitstreamError.None, offset)));
            Assert.That(output[..offset], Is.EqualTo(au[..offset]));
            Assert.That(output[offset..(offset + sei.Length)], Is.EqualTo(sei));
            Assert.That(output[(offset + sei.Length)..], Is.EqualTo(au[offset..]));
        }
    }

    [Test]
    public void Splice_LengthPastEnd_HandsBackTheOriginal()
    {
        var au = Nals.Framed(NalFraming.LengthPrefixed4, Nals.H264Aud, Nals.H264Idr);
        au[9] = 0x7F;
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.LengthPrefixed4, [5]);
        var result = AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.LengthPrefixed4, sei, new byte[au.Length + sei.Length]);
        Assert.That((result.Error, result.ErrorOffset), Is.EqualTo((BitstreamError.LengthPastEnd, 6)));
    }

    [Test]
    public void Splice_Misuse_Throws()
    {
        var au = Nals.Framed(NalFraming.AnnexB, Nals.H264Idr);
        var sei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [5]);
        using (Assert.EnterMultipleScope())
        {
            Assert.Throws<ArgumentException>(() => AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, sei, new byte[au.Length]));
            Assert.Throws<ArgumentException>(() => AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, Nals.AnnexB(Nals.H264Idr), new byte[100]));
            Assert.Throws<ArgumentException>(() => AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.LengthPrefixed4, sei, new byte[100]));
            Assert.Throws<ArgumentException>(() => AccessUnitSplicer.Splice(au, VideoCodec.H264, NalFraming.AnnexB, [.. sei, .. sei], new byte[200]));
        }
    }

    [Test]
    public void Splice_RandomBytes_NeverThrowsAndNeverLosesBytes()
    {
        var random = new Random(99);
        var sei = Nals.SeiNal(VideoCodec.H265, NalFraming.AnnexB, [5]);
        for (int i = 0; i < 2000; i++)
        {
            var au = Nals.Hostile(random, random.Next(0, 64));
            var output = new byte[au.Length + sei.Length];
            var result = AccessUnitSplicer.Splice(au, VideoCodec.H265, NalFraming.AnnexB, sei, output);
            if (!result.IsSpliced) Assert.That(output[..au.Length], Is.EqualTo(au));
            else Assert.That(result.BytesWritten, Is.EqualTo(output.Length));
        }
    }
}
