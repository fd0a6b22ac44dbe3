using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class NalUnitReaderTests
{
    [Test]
    public void AnnexB_MixedStartCodesAndTrailingZeros_YieldsEachNalWithoutFraming()
    {
        byte[] data = [0, 0, 0, 0, 1, .. Nals.H264Sps, 0, 0, 1, .. Nals.H264Pps, 0, 0, 0, 0, 0, 0, 1, .. Nals.H264Idr, 0, 0];
        var nals = Nals.ReadAll(data, VideoCodec.H264, NalFraming.AnnexB);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nals.Select(n => n.Header.Type), Is.EqualTo(new[] { 7, 8, 5 }));
            Assert.That(nals[0].GetBytes(data).ToArray(), Is.EqualTo(Nals.H264Sps));
            Assert.That(nals[1].GetBytes(data).ToArray(), Is.EqualTo(Nals.H264Pps));
            Assert.That(nals[2].GetBytes(data).ToArray(), Is.EqualTo(Nals.H264Idr));
            Assert.That(nals[0].FramedOffset, Is.EqualTo(0), "leading zeros belong to the first NAL unit");
            Assert.That(nals[1].FramedOffset, Is.EqualTo(5 + Nals.H264Sps.Length), "3-byte start code");
            Assert.That(data[nals[2].FramedOffset..nals[2].Offset], Is.EqualTo(new byte[] { 0, 0, 0, 1 }), "the zero_byte frames the next NAL unit");
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    public void LengthPrefixed_EverySize_YieldsEachNal(int lengthSize)
    {
        var framing = NalFraming.LengthPrefixed(lengthSize);
        var data = Nals.Framed(framing, Nals.H265Vps, Nals.H265Sps, Nals.H265Pps, Nals.H265Idr);
        var nals = Nals.ReadAll(data, VideoCodec.H265, framing);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nals.Select(n => (H265NalUnitType)n.Header.Type), Is.EqualTo(new[] { H265NalUnitType.Vps, H265NalUnitType.Sps, H265NalUnitType.Pps, H265NalUnitType.IdrWRadl }));
            Assert.That(nals[3].GetBytes(data).ToArray(), Is.EqualTo(Nals.H265Idr));
            Assert.That(nals[1].FramedOffset, Is.EqualTo(lengthSize + Nals.H265Vps.Length));
            Assert.That(nals[1].Offset - nals[1].FramedOffset, Is.EqualTo(lengthSize));
        }
    }

    [TestCase(new byte[] { 0x12, 0, 0, 1, 0x65, 0x88 }, BitstreamError.MissingStartCode, 0)]
    [TestCase(new byte[] { 0, 0, 7, 0, 0, 1, 0x65, 0x88 }, BitstreamError.MissingStartCode, 2)]
    [TestCase(new byte[] { 0x65, 0x88, 0x80 }, BitstreamError.MissingStartCode, 0)]
    public void AnnexB_BadBytes_MalformedWithOffset(byte[] data, BitstreamError error, int offset)
    {
        var reader = new NalUnitReader(data, VideoCodec.H264, NalFraming.AnnexB);
        ReadStatus status;
        while ((status = reader.Read(out _)) == ReadStatus.Success) { }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(ReadStatus.Malformed));
            Assert.That(reader.Error, Is.EqualTo(error));
            Assert.That(reader.ErrorOffset, Is.EqualTo(offset));
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.Malformed), "errors are sticky");
        }
    }

    [TestCase(new byte[] { 0, 0, 0, 2, 0x65 }, BitstreamError.LengthPastEnd, 0)]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x65, 0, 0 }, BitstreamError.TruncatedLengthPrefix, 5)]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x65, 0xFF, 0xFF, 0xFF, 0xFF, 0x65 }, BitstreamError.LengthPastEnd, 5)]
    public void LengthPrefixed_BadBytes_MalformedWithOffset(byte[] data, BitstreamError error, int offset)
    {
        var reader = new NalUnitReader(data, VideoCodec.H264, NalFraming.LengthPrefixed4);
        ReadStatus status;
        while ((status = reader.Read(out _)) == ReadStatus.Success) { }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(ReadStatus.Malformed));
            Assert.That(reader.Error, Is.EqualTo(error));
            Assert.That(reader.ErrorOffset, Is.EqualTo(offset));
            Assert.That(reader.DescribeError(), Does.Contain(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    // A unit whose header is unreadable, or that is empty, while the framing around it is sound (fresh tester, H14 kind: an
    // encoder's `86 05`, an H.265 `4e` alone): returned with its error, and the walk goes on with the units after it, as
    // FFmpeg's parser skips such a unit. It was a sticky error that hid every unit after it, our SEI included.
    [TestCase(new byte[] { 0, 0, 1, 0, 0, 1, 0x65 }, VideoCodec.H264, 0, BitstreamError.EmptyNalUnit, 3, 0, new[] { 5 })]
    [TestCase(new byte[] { 0, 0, 1, 0x65, 0x88, 0, 0, 0, 1 }, VideoCodec.H264, 0, BitstreamError.EmptyNalUnit, 9, 0, new[] { 5 })]
    [TestCase(new byte[] { 0, 0, 1, 0xE5, 0x88 }, VideoCodec.H264, 0, BitstreamError.ForbiddenZeroBitSet, 3, 2, new int[0])]
    [TestCase(new byte[] { 0, 0, 1, 0x86, 0x05, 0, 0, 1, 0x06, 0x05, 0x01, 0xAA, 0x80, 0, 0, 1, 0x65, 0x88 }, VideoCodec.H264, 0, BitstreamError.ForbiddenZeroBitSet, 3, 2, new[] { 6, 5 })]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x4E, 0, 0, 0, 1, 0x26, 0x01, 0xAF }, VideoCodec.H265, 0, BitstreamError.TruncatedNalHeader, 4, 1, new[] { 19 })]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x26, 0x00, 0xAF, 0, 0, 1, 0x4E, 0x01, 0x05 }, VideoCodec.H265, 0, BitstreamError.InvalidTemporalId, 4, 3, new[] { 39 })]
    [TestCase(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 0x65 }, VideoCodec.H264, 4, BitstreamError.EmptyNalUnit, 4, 0, new[] { 5 })]
    [TestCase(new byte[] { 0, 0, 0, 1, 0x85, 0, 0, 0, 1, 0x65 }, VideoCodec.H264, 4, BitstreamError.ForbiddenZeroBitSet, 4, 1, new[] { 5 })]
    public void UnreadableUnit_IsReturnedWithItsError_AndTheUnitsAfterItAreRead(byte[] data, VideoCodec codec, int lengthSize, BitstreamError error, int offset, int length, int[] typesAfter)
    {
        var framing = lengthSize == 0 ? NalFraming.AnnexB : NalFraming.LengthPrefixed(lengthSize);
        var reader = new NalUnitReader(data, codec, framing);
        var units = new List<NalUnit>();
        ReadStatus status;
        while ((status = reader.Read(out var nal)) == ReadStatus.Success) units.Add(nal);
        var bad = units.FindIndex(u => u.HeaderError != BitstreamError.None);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(ReadStatus.EndOfData), "the walk reached the end");
            Assert.That(units.Count(u => u.HeaderError != BitstreamError.None), Is.EqualTo(1));
            Assert.That(units[bad].HeaderError, Is.EqualTo(error));
            Assert.That(units[bad].Offset, Is.EqualTo(offset));
            Assert.That(units[bad].Length, Is.EqualTo(length));
            Assert.That(units[bad].Header.IsReadable, Is.False);
            Assert.That(units[bad].Header.IsVcl || units[bad].Header.IsSei || units[bad].Header.IsParameterSet || units[bad].Header.IsAccessUnitDelimiter, Is.False, "it matches no kind");
            Assert.That(units[bad].GetPayload(data).Length, Is.Zero.Or.EqualTo(Math.Max(0, length - NalHeader.GetLength(codec))));
            Assert.That(units.Where(u => u.HeaderError == BitstreamError.None).Select(u => u.Header.Type), Is.EqualTo(typesAfter));
        }
    }

    // Review finding: the converter's length pass skipped empty units and its write pass did not, so an exact-size
    // destination was too short (an exception where the library promises none). Both passes skip them now; a unit with an
    // unreadable header is carried as it came.
    [Test]
    public void Convert_EmptyAndUnreadableUnits_ExactSizeDestination_EmptyOnesDropped_BrokenOnesCarried()
    {
        byte[] annexB = [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0, 0, 1, 0x86, 0x05, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0, 0, 1];
        Assert.That(NalFramingConverter.TryGetConvertedLength(annexB, VideoCodec.H264, NalFraming.AnnexB, NalFraming.LengthPrefixed4, out var length, out _, out _),
            Is.EqualTo(ReadStatus.Success));
        var destination = new byte[length];
        Assert.That(NalFramingConverter.TryConvert(annexB, VideoCodec.H264, NalFraming.AnnexB, NalFraming.LengthPrefixed4, destination, out var written, out _, out _),
            Is.EqualTo(ReadStatus.Success));
        Assert.Multiple(() =>
        {
            Assert.That(written, Is.EqualTo(length));
            Assert.That(destination, Is.EqualTo(new byte[] { 0, 0, 0, 2, 0x09, 0xF0, 0, 0, 0, 2, 0x86, 0x05, 0, 0, 0, 3, 0x65, 0x88, 0x84 }));
        });
    }

    [Test]
    public void AnnexB_NotFinalBlock_LastNalNeedsMoreDataAndResumes()
    {
        var whole = Nals.AnnexB(Nals.H264Sps, Nals.H264Pps, Nals.H264Idr);
        var nals = new List<byte[]>();
        int start = 0;
        // Feed the stream in small chunks, resuming from BytesConsumed each time, as a network reader would.
        for (int end = 3; end <= whole.Length; end = Math.Min(whole.Length, end + 5))
        {
            bool final = end == whole.Length;
            var chunk = whole.AsSpan(start, end - start);
            var reader = new NalUnitReader(chunk, VideoCodec.H264, NalFraming.AnnexB, final);
            ReadStatus status;
            while ((status = reader.Read(out var nal)) == ReadStatus.Success) nals.Add(nal.GetBytes(chunk).ToArray());
            Assert.That(status, Is.EqualTo(final ? ReadStatus.EndOfData : ReadStatus.NeedMoreData));
            start += reader.BytesConsumed;
            if (final) break;
        }
        Assert.That(nals, Is.EqualTo(new[] { Nals.H264Sps, Nals.H264Pps, Nals.H264Idr }));
    }

    [Test]
    public void EveryFraming_RandomSplits_YieldTheSameNalUnits()
    {
        var random = new Random(11);
        byte[][] nals = [Nals.H265Aud, Nals.H265Vps, Nals.H265Sps, Nals.H265Pps, Nals.H265Idr, Nals.Hostile(random, 300), Nals.H265TrailTid2];
        nals[5][0] = 0x02;
        nals[5][1] = 0x01;
        nals[5][^1] = 0x80;
        foreach (var framing in Nals.AllFramings)
        {
            byte[] whole = framing.IsAnnexB ? Nals.AnnexB([.. nals.Select(EscapeBody)]) : Nals.Framed(framing, [.. nals.Where(n => n.Length < 256)]);
            var expected = Nals.ReadAll(whole, VideoCodec.H265, framing).Select(n => n.GetBytes(whole).ToArray()).ToList();
            for (int round = 0; round < 50; round++)
            {
                var got = new List<byte[]>();
                int start = 0, end = 0;
                while (true)
                {
                    end = Math.Min(whole.Length, end + random.Next(1, 40));
                    bool final = end == whole.Length;
                    var chunk = whole.AsSpan(start, end - start);
                    var reader = new NalUnitReader(chunk, VideoCodec.H265, framing, final);
                    ReadStatus status;
                    while ((status = reader.Read(out var nal)) == ReadStatus.Success) got.Add(nal.GetBytes(chunk).ToArray());
                    Assert.That(status, Is.EqualTo(final ? ReadStatus.EndOfData : ReadStatus.NeedMoreData).Or.EqualTo(ReadStatus.EndOfData), $"{framing}");
                    start += reader.BytesConsumed;
                    if (final) break;
                }
                Assert.That(got, Is.EqualTo(expected), framing.ToString());
            }
        }
    }

    private static byte[] EscapeBody(byte[] nal)
    {
        var escaped = new byte[Rbsp.GetEscapedLength(nal)];
        Rbsp.Escape(nal, escaped);
        return escaped;
    }

    [Test]
    public void LengthPrefixed_NotFinalBlock_SaysHowManyBytesAreMissing()
    {
        var data = Nals.Framed(NalFraming.LengthPrefixed4, Nals.H264Idr);
        var reader = new NalUnitReader(data.AsSpan(0, 7), VideoCodec.H264, NalFraming.LengthPrefixed4, isFinalBlock: false);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.NeedMoreData));
            Assert.That(reader.BytesNeeded, Is.EqualTo(data.Length - 7));
            Assert.That(reader.BytesConsumed, Is.EqualTo(0));
        }
    }

    [Test]
    public void Empty_AndOnlyZeros_AreEndOfData()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(new NalUnitReader([], VideoCodec.H264, NalFraming.AnnexB).Read(out _), Is.EqualTo(ReadStatus.EndOfData));
            Assert.That(new NalUnitReader(new byte[9], VideoCodec.H264, NalFraming.AnnexB).Read(out _), Is.EqualTo(ReadStatus.EndOfData));
            Assert.That(new NalUnitReader([], VideoCodec.H265, NalFraming.LengthPrefixed(2)).Read(out _), Is.EqualTo(ReadStatus.EndOfData));
        }
    }

    [Test]
    public void EveryTruncation_OfEveryFraming_NeverThrows()
    {
        foreach (var framing in Nals.AllFramings)
        {
            var data = Nals.Framed(framing, Nals.H265Aud, Nals.H265Vps, Nals.H265Sps, Nals.H265Idr);
            for (int cut = 0; cut <= data.Length; cut++)
            {
                var reader = new NalUnitReader(data.AsSpan(0, cut), VideoCodec.H265, framing);
                int n = 0;
                ReadStatus status;
                while ((status = reader.Read(out _)) == ReadStatus.Success) n++;
                Assert.That(status, Is.AnyOf(ReadStatus.EndOfData, ReadStatus.Malformed), $"{framing} cut at {cut}");
                if (cut == data.Length) Assert.That((status, n), Is.EqualTo((ReadStatus.EndOfData, 4)));
            }
        }
    }
}
