using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class CodecConfigurationTests
{
    internal static byte[] AvcC(int lengthSizeMinusOne = 3) =>
    [
        1, 0x64, 0x00, 0x1F, (byte)(0xFC | lengthSizeMinusOne), 0xE1,
        0, (byte)Nals.H264Sps.Length, .. Nals.H264Sps,
        1, 0, (byte)Nals.H264Pps.Length, .. Nals.H264Pps,
    ];

    internal static byte[] HvcC(int lengthSizeMinusOne = 3) =>
    [
        1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5D, 0xF0, 0, 0xFC, 0xFD, 0xF8, 0xF8, 0, 0, (byte)(0x0C | lengthSizeMinusOne),
        3,
        0xA0, 0, 1, 0, (byte)Nals.H265Vps.Length, .. Nals.H265Vps,
        0xA1, 0, 1, 0, (byte)Nals.H265Sps.Length, .. Nals.H265Sps,
        0xA2, 0, 1, 0, (byte)Nals.H265Pps.Length, .. Nals.H265Pps,
    ];

    [TestCase(0, 1)]
    [TestCase(1, 2)]
    [TestCase(3, 4)]
    public void AvcC_GivesLengthSizeAndParameterSets(int lengthSizeMinusOne, int lengthSize)
    {
        var config = CodecConfiguration.Parse(VideoCodec.H264, AvcC(lengthSizeMinusOne));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.Framing, Is.EqualTo(NalFraming.LengthPrefixed(lengthSize)));
            Assert.That(config.ParameterSets.Select(p => p.ToArray()), Is.EqualTo(new[] { Nals.H264Sps, Nals.H264Pps }));
        }
    }

    [Test]
    public void HvcC_GivesLengthSizeAndParameterSets()
    {
        var config = CodecConfiguration.Parse(VideoCodec.H265, HvcC());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(config.Framing, Is.EqualTo(NalFraming.LengthPrefixed4));
            Assert.That(config.ParameterSets.Select(p => p.ToArray()), Is.EqualTo(new[] { Nals.H265Vps, Nals.H265Sps, Nals.H265Pps }));
        }
    }

    [Test]
    public void AnnexBOrEmptyExtradata_IsAnnexB()
    {
        var annexB = CodecConfiguration.Parse(VideoCodec.H264, Nals.AnnexB(Nals.H264Sps, Nals.H264Pps));
        var empty = CodecConfiguration.Parse(VideoCodec.H265, []);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(annexB.Framing.IsAnnexB, Is.True);
            Assert.That(annexB.ParameterSets, Has.Count.EqualTo(2));
            Assert.That(empty.Framing.IsAnnexB, Is.True);
            Assert.That(empty.ParameterSets, Is.Empty);
        }
    }

    [Test]
    public void WriteParameterSets_AsAnnexB_ReadsBack()
    {
        var config = CodecConfiguration.Parse(VideoCodec.H265, HvcC());
        var buffer = new byte[config.GetParameterSetsLength(NalFraming.AnnexB)];
        Assert.That(config.WriteParameterSets(NalFraming.AnnexB, buffer), Is.EqualTo(buffer.Length));
        Assert.That(buffer, Is.EqualTo(Nals.AnnexB(Nals.H265Vps, Nals.H265Sps, Nals.H265Pps)));
    }

    [Test]
    public void ThreeByteLengths_AreRejected()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(CodecConfiguration.TryParse(VideoCodec.H264, AvcC(2), out _, out var e1, out var o1), Is.EqualTo(ReadStatus.Malformed));
            Assert.That((e1, o1), Is.EqualTo((BitstreamError.InvalidLengthSize, 4)));
            Assert.That(CodecConfiguration.TryParse(VideoCodec.H265, HvcC(2), out _, out var e2, out var o2), Is.EqualTo(ReadStatus.Malformed));
            Assert.That((e2, o2), Is.EqualTo((BitstreamError.InvalidLengthSize, 21)));
        }
    }

    [Test]
    public void WrongParameterSetType_IsRejectedWithOffset()
    {
        var avcc = AvcC();
        avcc[8] = 0x68;
        Assert.That(CodecConfiguration.TryParse(VideoCodec.H264, avcc, out _, out var error, out var offset), Is.EqualTo(ReadStatus.Malformed));
        Assert.That((error, offset), Is.EqualTo((BitstreamError.UnexpectedParameterSetType, 8)));
    }

    [Test]
    public void EveryTruncation_IsMalformedNeverThrows()
    {
        foreach (var (codec, record) in new[] { (VideoCodec.H264, AvcC()), (VideoCodec.H265, HvcC()) })
        {
            for (int cut = 1; cut < record.Length; cut++)
            {
                var status = CodecConfiguration.TryParse(codec, record.AsSpan(0, cut), out var config, out var error, out _);
                Assert.That(status, Is.EqualTo(ReadStatus.Malformed), $"{codec} cut at {cut}");
                Assert.That(config, Is.Null);
                Assert.That(error, Is.Not.EqualTo(BitstreamError.None));
            }
        }
        Assert.Throws<BitstreamException>(() => CodecConfiguration.Parse(VideoCodec.H264, AvcC()[..10]));
    }

    [Test]
    public void Converter_AnnexBToEveryLengthSizeAndBack_RoundTrips()
    {
        var annexB = Nals.AnnexB(Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, Nals.H264Idr);
        foreach (var framing in Nals.AllFramings)
        {
            Assert.That(NalFramingConverter.TryGetConvertedLength(annexB, VideoCodec.H264, NalFraming.AnnexB, framing, out int length, out _, out _), Is.EqualTo(ReadStatus.Success));
            var converted = new byte[length];
            NalFramingConverter.TryConvert(annexB, VideoCodec.H264, NalFraming.AnnexB, framing, converted, out int written, out _, out _);
            var back = new byte[annexB.Length];
            NalFramingConverter.TryConvert(converted, VideoCodec.H264, framing, NalFraming.AnnexB, back, out int backWritten, out _, out _);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(written, Is.EqualTo(length));
                Assert.That(converted, Is.EqualTo(Nals.Framed(framing, Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, Nals.H264Idr)));
                Assert.That(back[..backWritten], Is.EqualTo(annexB));
            }
        }
    }

    [Test]
    public void Converter_NalTooLongForOneByteLengths_IsReported()
    {
        var annexB = Nals.AnnexB(Nals.H264Aud, [0x65, .. Enumerable.Repeat((byte)0x44, 300)]);
        Assert.That(NalFramingConverter.TryGetConvertedLength(annexB, VideoCodec.H264, NalFraming.AnnexB, NalFraming.LengthPrefixed(1), out _, out var error, out var offset), Is.EqualTo(ReadStatus.Malformed));
        Assert.That((error, offset), Is.EqualTo((BitstreamError.NalTooLongForLengthSize, 10)));
    }
}
