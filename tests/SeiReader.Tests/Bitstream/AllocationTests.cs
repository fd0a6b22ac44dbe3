using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

/// <summary>Every per-packet parse path allocates nothing (counted on this thread, after a first warm-up call).</summary>
public class AllocationTests
{
    private static readonly byte[] Sei = UserDataUnregisteredReaderTests.Strip(Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [0, 0, 1], [2, 3]));
    private static readonly byte[] AnnexBUnit = Nals.AnnexB(Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, Sei, Nals.H264Idr, Nals.H264SecondSlice);
    private static readonly byte[] LengthPrefixedUnit = Nals.Framed(NalFraming.LengthPrefixed4, Nals.H264Aud, Nals.H264Sps, Nals.H264Pps, Sei, Nals.H264Idr);
    private static readonly byte[] FramedSei = Nals.SeiNal(VideoCodec.H264, NalFraming.AnnexB, [9, 9]);
    private static readonly byte[] Scratch = new byte[1024];

    private static IEnumerable<TestCaseData> Paths()
    {
        yield return new TestCaseData((Func<int>)(() =>
        {
            var r = new NalUnitReader(AnnexBUnit, VideoCodec.H264, NalFraming.AnnexB);
            int n = 0;
            while (r.Read(out _) == ReadStatus.Success) n++;
            return n;
        })).SetName("NalUnitReader_AnnexB");
        yield return new TestCaseData((Func<int>)(() =>
        {
            var r = new NalUnitReader(LengthPrefixedUnit, VideoCodec.H264, NalFraming.LengthPrefixed4);
            int n = 0;
            while (r.Read(out _) == ReadStatus.Success) n++;
            return n;
        })).SetName("NalUnitReader_LengthPrefixed");
        yield return new TestCaseData((Func<int>)(() =>
        {
            var r = new AnnexBAccessUnitReader(AnnexBUnit, VideoCodec.H264);
            int n = 0;
            while (r.Read(out _) == ReadStatus.Success) n++;
            return n;
        })).SetName("AnnexBAccessUnitReader");
        yield return new TestCaseData((Func<int>)(() =>
        {
            var r = new UserDataUnregisteredReader(LengthPrefixedUnit, VideoCodec.H264, NalFraming.LengthPrefixed4, Scratch);
            int n = 0;
            while (r.Read(out _) == ReadStatus.Success) n++;
            return n;
        })).SetName("UserDataUnregisteredReader");
        yield return new TestCaseData((Func<int>)(() =>
        {
            var r = new SeiMessageReader(Sei.AsSpan(1));
            int n = 0;
            while (r.Read(out _) == ReadStatus.Success) n++;
            return n;
        })).SetName("SeiMessageReader");
        yield return new TestCaseData((Func<int>)(() =>
            AccessUnitInfo.TryRead(AnnexBUnit, VideoCodec.H264, NalFraming.AnnexB, out var info, out _, out _) == ReadStatus.Success ? info.VclCount : -1))
            .SetName("AccessUnitInfo");
        yield return new TestCaseData((Func<int>)(() => Rbsp.TryUnescape(Sei, Scratch, out var rbsp) ? rbsp.Length : -1)).SetName("Rbsp_TryUnescape");
        yield return new TestCaseData((Func<int>)(() =>
            AccessUnitSplicer.Splice(AnnexBUnit, VideoCodec.H264, NalFraming.AnnexB, FramedSei, Scratch).BytesWritten)).SetName("AccessUnitSplicer");
        yield return new TestCaseData((Func<int>)(() =>
        {
            var w = new SeiNalWriter(Scratch, VideoCodec.H264, NalFraming.AnnexB);
            w.WriteUserDataUnregistered(Nals.Uuid, Sei);
            return w.Complete();
        })).SetName("SeiNalWriter");
    }

    [TestCaseSource(nameof(Paths))]
    public void ParsePath_AllocatesNothingPerPacket(Func<int> path)
    {
        int expected = path();
        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 100; i++) sum += path();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(allocated, Is.Zero);
            Assert.That(sum, Is.EqualTo(expected * 100));
            Assert.That(expected, Is.GreaterThan(0));
        }
    }
}
