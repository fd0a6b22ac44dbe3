using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class SeiTests
{
    [TestCase(0, new byte[] { 0x00 })]
    [TestCase(254, new byte[] { 0xFE })]
    [TestCase(255, new byte[] { 0xFF, 0x00 })]
    [TestCase(256, new byte[] { 0xFF, 0x01 })]
    [TestCase(510, new byte[] { 0xFF, 0xFF, 0x00 })]
    [TestCase(511, new byte[] { 0xFF, 0xFF, 0x01 })]
    public void CodedValue_WritesAndReadsTheFFChain(int value, byte[] coded)
    {
        var buffer = new byte[SeiPrimitives.GetCodedValueLength(value)];
        int n = SeiPrimitives.WriteCodedValue(value, buffer);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(buffer[..n], Is.EqualTo(coded));
            Assert.That(SeiPrimitives.TryReadCodedValue(coded, out long read, out int consumed), Is.True);
            Assert.That((read, consumed), Is.EqualTo(((long)value, coded.Length)));
        }
    }

    [TestCase(0)]
    [TestCase(254)]
    [TestCase(255)]
    [TestCase(256)]
    [TestCase(510)]
    [TestCase(511)]
    public void Writer_PayloadTypeAndSizeAroundFF_ReadBackExactly(int size)
    {
        var payload = Enumerable.Range(0, size).Select(i => (byte)(i % 5 == 0 ? 0 : i % 4)).ToArray();
        foreach (var codec in new[] { VideoCodec.H264, VideoCodec.H265 })
        {
            foreach (var framing in Nals.AllFramings)
            {
                if (framing.LengthSize == 1 && size > 200) continue;
                // payloadType = payloadSize = size: both 0xFF codings at their boundaries.
                var nal = new byte[SeiNalWriter.GetLength(codec, framing, size, payload)];
                Assert.That(SeiNalWriter.Write(codec, framing, size, payload, nal), Is.EqualTo(nal.Length));
                var unit = Nals.ReadAll(nal, codec, framing).Single();
                var scratch = new byte[nal.Length];
                Assert.That(Rbsp.TryUnescape(unit.GetPayload(nal), scratch, out var rbsp), Is.True);
                var reader = new SeiMessageReader(rbsp);
                Assert.That(reader.Read(out var message), Is.EqualTo(ReadStatus.Success), $"{codec} {framing}");
                Assert.That((message.PayloadType, message.Payload.ToArray()), Is.EqualTo((size, payload)), $"{codec} {framing}");
                Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.EndOfData), $"{codec} {framing}");
                if (size < UserDataUnregistered.UuidLength) continue;
                // The same payloadSize as user_data_unregistered: UUID + (size - 16) bytes.
                var userData = payload[UserDataUnregistered.UuidLength..];
                Assert.That(ReadUserData(Nals.SeiNal(codec, framing, userData), codec, framing).Single(), Is.EqualTo(userData), $"{codec} {framing}");
            }
        }
    }

    [Test]
    public void Writer_H264AnnexB_ExactBytes()
    {
        var nal = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [0x01, 0x02]);
        // start code | 06 | type 05 | size 0x12 | UUID (00 00 03 01 escaped to 00 00 03 03 01, 00 00 00 02 to 00 00 03 00 02) | 01 02 | 80
        byte[] expected = [0, 0, 0, 1, 0x06, 0x05, 0x12, 0xCA, 0x7E, 0x0E, 0x11, 0x00, 0x00, 0x03, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x02, 0xAB, 0xCD, 0xEF, 0x42, 0x01, 0x02, 0x80];
        Assert.That(nal, Is.EqualTo(expected));
    }

    [Test]
    public void Writer_H265LengthPrefixed_HeaderAndLength()
    {
        var nal = Nals.SeiNal(VideoCodec.H265, NalFraming.LengthPrefixed(2), [0x42]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nal[..4], Is.EqualTo(new byte[] { 0x00, (byte)(nal.Length - 2), 0x4E, 0x01 }));
            Assert.That(nal[^1], Is.EqualTo(0x80));
        }
    }

    [Test]
    public void Writer_SeveralMessages_OneNalAllReadBack()
    {
        byte[][] payloads = [[], [0, 0, 0], [.. Enumerable.Repeat((byte)0, 300)], [1, 2, 3]];
        var nal = Nals.SeiNal(VideoCodec.H265, NalFraming.AnnexB, payloads);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Nals.ReadAll(nal, VideoCodec.H265, NalFraming.AnnexB), Has.Count.EqualTo(1));
            Assert.That(ReadUserData(nal, VideoCodec.H265, NalFraming.AnnexB), Is.EqualTo(payloads));
        }
    }

    [Test]
    public void Writer_MeasuringMatchesWriting_RandomPayloads()
    {
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var codec = i % 2 == 0 ? VideoCodec.H264 : VideoCodec.H265;
            var framing = i % 3 == 0 ? NalFraming.AnnexB : NalFraming.LengthPrefixed4;
            var payloads = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Nals.Hostile(random, random.Next(0, 4097))).ToArray();
            var nal = Nals.SeiNal(codec, framing, payloads);
            var nals = Nals.ReadAll(nal, codec, framing);
            Assert.That(nals, Has.Count.EqualTo(1), "escaping keeps start codes out");
            Assert.That(nals[0].End, Is.EqualTo(nal.Length));
            Assert.That(ReadUserData(nal, codec, framing), Is.EqualTo(payloads));
        }
    }

    [Test]
    public void Writer_Misuse_Throws()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.Throws<ArgumentException>(() => new SeiNalWriter(new byte[64], VideoCodec.H264, NalFraming.AnnexB, SeiNalKind.Suffix));
            Assert.Throws<ArgumentException>(() => SeiNalWriter.Write(VideoCodec.H264, NalFraming.AnnexB, 5, new byte[20], new byte[10]));
            Assert.Throws<ArgumentException>(() => SeiNalWriter.GetLength(VideoCodec.H264, NalFraming.LengthPrefixed(1), 5, new byte[300]));
            Assert.Throws<InvalidOperationException>(() => new SeiNalWriter(new byte[64], VideoCodec.H264, NalFraming.AnnexB).Complete());
            Assert.Throws<ArgumentException>(() => new SeiNalWriter(new byte[64], VideoCodec.H264, NalFraming.AnnexB).WriteUserDataUnregistered(new byte[15], []));
        }
    }

    [Test]
    public void MessageReader_ForeignMessagesAndTrailingBits()
    {
        // pic_timing (1) of 2 bytes, user data (5) of 17 bytes, recovery point (6) of 1 byte, trailing bits.
        byte[] rbsp = [0x01, 0x02, 0xAA, 0xBB, 0x05, 0x11, .. Nals.Uuid, 0x80, 0x06, 0x01, 0x84, 0x80];
        var reader = new SeiMessageReader(rbsp);
        var types = new List<(int, int)>();
        while (reader.Read(out var m) == ReadStatus.Success) types.Add((m.PayloadType, m.Payload.Length));
        Assert.That(types, Is.EqualTo(new[] { (1, 2), (5, 17), (6, 1) }));
    }

    [Test]
    public void MessageReader_WithoutTrailingBits_StopsAtEnd()
    {
        byte[] rbsp = [0x05, 0x10, .. Nals.Uuid];
        var reader = new SeiMessageReader(rbsp);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.Read(out var m), Is.EqualTo(ReadStatus.Success));
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.EndOfData));
        }
    }

    [TestCase(new byte[] { 0xFF, 0xFF }, BitstreamError.TruncatedSeiPayloadType, 0)]
    [TestCase(new byte[] { 0x05, 0xFF, 0xFF }, BitstreamError.TruncatedSeiPayloadSize, 0)]
    [TestCase(new byte[] { 0x05, 0x20, 1, 2, 3, 0x80 }, BitstreamError.SeiPayloadPastEnd, 0)]
    [TestCase(new byte[] { 0x01, 0x01, 0x00, 0x05, 0xFF, 0xFF, 0x80 }, BitstreamError.SeiPayloadPastEnd, 3)]
    public void MessageReader_BadBytes_MalformedWithOffset(byte[] rbsp, BitstreamError error, int offset)
    {
        var reader = new SeiMessageReader(rbsp);
        ReadStatus status;
        while ((status = reader.Read(out _)) == ReadStatus.Success) { }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(ReadStatus.Malformed));
            Assert.That(reader.Error, Is.EqualTo(error));
            Assert.That(reader.ErrorOffset, Is.EqualTo(offset));
        }
    }

    [Test]
    public void MessageReader_EveryTruncation_NeverThrows()
    {
        var nal = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [1, 2, 3], new byte[300]);
        var rbsp = new byte[nal.Length];
        Assert.That(Rbsp.TryUnescape(nal.AsSpan(5), rbsp, out var full), Is.True);
        for (int cut = 0; cut <= full.Length; cut++)
        {
            var reader = new SeiMessageReader(full[..cut]);
            ReadStatus status;
            while ((status = reader.Read(out _)) == ReadStatus.Success) { }
            Assert.That(status, Is.AnyOf(ReadStatus.EndOfData, ReadStatus.Malformed));
        }
    }

    internal static List<byte[]> ReadUserData(byte[] accessUnit, VideoCodec codec, NalFraming framing)
    {
        var result = new List<byte[]>();
        var reader = new UserDataUnregisteredReader(accessUnit, codec, framing, new byte[accessUnit.Length]);
        ReadStatus status;
        while ((status = reader.Read(out var m)) == ReadStatus.Success)
        {
            Assert.That(m.Uuid.ToArray(), Is.EqualTo(Nals.Uuid));
            result.Add(m.UserData.ToArray());
        }
        Assert.That(status, Is.EqualTo(ReadStatus.EndOfData), reader.DescribeError());
        return result;
    }
}
