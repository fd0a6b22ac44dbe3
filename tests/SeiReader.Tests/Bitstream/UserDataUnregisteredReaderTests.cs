using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

public class UserDataUnregisteredReaderTests
{
    [Test]
    public void Walk_PrefixAndSuffixSeiInBothFramings_FindsEveryPayloadInOrder()
    {
        byte[] first = [0, 0, 1, 2, 3];
        byte[] second = [0xFE];
        byte[] third = [0, 0, 0, 0];
        var prefix = Strip(Nals.SeiNal(VideoCodec.H265, NalFraming.AnnexB, first, second));
        var writer = SeiNalWriter.CreateMeasuring(VideoCodec.H265, NalFraming.AnnexB, SeiNalKind.Suffix);
        writer.WriteUserDataUnregistered(Nals.Uuid, third);
        var suffix = new byte[writer.Complete()];
        var w = new SeiNalWriter(suffix, VideoCodec.H265, NalFraming.AnnexB, SeiNalKind.Suffix);
        w.WriteUserDataUnregistered(Nals.Uuid, third);
        w.Complete();
        foreach (var framing in new[] { NalFraming.AnnexB, NalFraming.LengthPrefixed4 })
        {
            var au = Nals.Framed(framing, Nals.H265Aud, Nals.H265Vps, prefix, Nals.H265Idr, Strip(suffix));
            Assert.That(SeiTests.ReadUserData(au, VideoCodec.H265, framing), Is.EqualTo(new[] { first, second, third }), framing.ToString());
        }
    }

    [Test]
    public void Walk_NoEscapes_PayloadIsASliceOfTheAccessUnit()
    {
        byte[] plain = [.. Nals.Uuid];
        plain[4] = 0x11;
        var clean = Nals.Framed(NalFraming.LengthPrefixed4, [0x06, 0x05, 0x13, .. plain, 7, 7, 7, 0x80], Nals.H264Idr);
        var reader = new UserDataUnregisteredReader(clean, VideoCodec.H264, NalFraming.LengthPrefixed4, new byte[clean.Length]);
        Assert.That(reader.Read(out var m), Is.EqualTo(ReadStatus.Success));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(m.Payload == clean.AsSpan(7, 19), Is.True, "zero-copy when there is nothing to unescape");
            Assert.That(m.NalOffset, Is.EqualTo(4));
        }
    }

    [Test]
    public void Walk_MalformedSeiNal_ReportsOffsetAndGoesOnWithTheNext()
    {
        byte[] bad = [0x06, 0x05, 0x40, 0x01, 0x02, 0x80];
        byte[] shortUuid = [0x06, 0x05, 0x03, 1, 2, 3, 0x05, 0x10, .. Nals.Uuid, 0x80];
        var good = Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [9]));
        var au = Nals.Framed(NalFraming.LengthPrefixed4, bad, shortUuid, good, Nals.H264Idr);
        var reader = new UserDataUnregisteredReader(au, VideoCodec.H264, NalFraming.LengthPrefixed4, new byte[au.Length]);
        var seen = new List<string>();
        ReadStatus status;
        while ((status = reader.Read(out var m)) != ReadStatus.EndOfData)
            seen.Add(status == ReadStatus.Success ? "data " + m.UserData.Length : $"{reader.Error}@{reader.ErrorOffset}");
        int shortAt = 4 + bad.Length + 4;
        Assert.That(seen, Is.EqualTo(new[] { "SeiPayloadPastEnd@5", $"UserDataTooShort@{shortAt + 1}", "data 0", "data 1" }));
    }

    [Test]
    public void Walk_BrokenFraming_StopsForGood()
    {
        var au = Nals.Framed(NalFraming.LengthPrefixed4, Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [1])));
        var truncated = au[..^3];
        var reader = new UserDataUnregisteredReader(truncated, VideoCodec.H264, NalFraming.LengthPrefixed4, new byte[truncated.Length]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.Malformed));
            Assert.That(reader.Error, Is.EqualTo(BitstreamError.LengthPastEnd));
            Assert.That(reader.Read(out _), Is.EqualTo(ReadStatus.Malformed));
        }
    }

    [Test]
    public void Walk_ScratchShorterThanAccessUnit_Throws()
    {
        Assert.Throws<ArgumentException>(() => new UserDataUnregisteredReader(new byte[10], VideoCodec.H264, NalFraming.AnnexB, new byte[9]));
    }

    [Test]
    public void Walk_ManyAccessUnits_AllocatesNothing()
    {
        var au = Nals.Framed(NalFraming.AnnexB, Nals.H264Aud, Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [0, 0, 1], [5])), Nals.H264Idr);
        var scratch = new byte[au.Length];
        Count(au, scratch);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 1000; i++) total += Count(au, scratch);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(allocated, Is.Zero);
            Assert.That(total, Is.EqualTo(2000));
        }
    }

    private static int Count(byte[] au, byte[] scratch)
    {
        var reader = new UserDataUnregisteredReader(au, VideoCodec.H264, NalFraming.AnnexB, scratch);
        int n = 0;
        while (reader.Read(out _) == ReadStatus.Success) n++;
        return n;
    }

    /// <summary>The NAL unit without its 4-byte Annex B start code.</summary>
    internal static byte[] Strip(byte[] annexBNal) => annexBNal[4..];
}
