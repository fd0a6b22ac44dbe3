using BenchmarkDotNet.Attributes;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.Benchmarks.Bitstream;

/// <summary>
/// Splicing one SEI NAL unit (a 200-byte user_data_unregistered message) into a real 20 KB 720p x264 access unit,
/// next to a plain copy of that access unit: the splice is a copy plus the search for the first slice.
/// </summary>
[MemoryDiagnoser]
public class SpliceBenchmarks
{
    private static readonly byte[] Uuid = [0xCA, 0x7E, 0x0E, 0x11, 0x5E, 0x11, 0x4B, 0x0B, 0x9A, 0x3C, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60];
    private byte[] _annexBUnit = [];
    private byte[] _lengthPrefixedUnit = [];
    private byte[] _annexBSei = [];
    private byte[] _lengthPrefixedSei = [];
    private byte[] _userData = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        var stream = BenchmarkMedia.CleanAnnexB();
        var units = BenchmarkMedia.AccessUnits(stream);
        var packets = BenchmarkMedia.LengthPrefixedPackets(stream);
        int pick = Enumerable.Range(0, units.Count).MinBy(i => Math.Abs(units[i].Count - 20_000));
        _annexBUnit = units[pick].ToArray();
        _lengthPrefixedUnit = packets[pick];
        _userData = new byte[200 - Uuid.Length];
        new Random(1).NextBytes(_userData);
        _annexBSei = WriteSei(NalFraming.AnnexB);
        _lengthPrefixedSei = WriteSei(NalFraming.LengthPrefixed4);
        _destination = new byte[_annexBUnit.Length + _annexBSei.Length + 16];
        var info = AccessUnitInfo.Read(_annexBUnit, VideoCodec.H264, NalFraming.AnnexB);
        Console.WriteLine($"// access unit {pick}: {_annexBUnit.Length} bytes Annex B, {_lengthPrefixedUnit.Length} length-prefixed, {info.NalUnitCount} NAL units; SEI NAL {_annexBSei.Length} bytes");
    }

    private byte[] WriteSei(NalFraming framing)
    {
        var measure = SeiNalWriter.CreateMeasuring(VideoCodec.H264, framing);
        measure.WriteUserDataUnregistered(Uuid, _userData);
        var sei = new byte[measure.Complete()];
        var writer = new SeiNalWriter(sei, VideoCodec.H264, framing);
        writer.WriteUserDataUnregistered(Uuid, _userData);
        writer.Complete();
        return sei;
    }

    /// <summary>The memory bound: copy the access unit once.</summary>
    [Benchmark(Baseline = true)]
    public void CopyAccessUnit() => _annexBUnit.AsSpan().CopyTo(_destination);

    /// <summary>Splice into the Annex B access unit.</summary>
    [Benchmark]
    public int SpliceAnnexB() => AccessUnitSplicer.Splice(_annexBUnit, VideoCodec.H264, NalFraming.AnnexB, _annexBSei, _destination).BytesWritten;

    /// <summary>Splice into the length-prefixed access unit.</summary>
    [Benchmark]
    public int SpliceLengthPrefixed() => AccessUnitSplicer.Splice(_lengthPrefixedUnit, VideoCodec.H264, NalFraming.LengthPrefixed4, _lengthPrefixedSei, _destination).BytesWritten;

    /// <summary>Write the SEI NAL unit itself (escaping included), as the injector does for every message set.</summary>
    [Benchmark]
    public int WriteSeiNal()
    {
        var writer = new SeiNalWriter(_destination, VideoCodec.H264, NalFraming.AnnexB);
        writer.WriteUserDataUnregistered(Uuid, _userData);
        return writer.Complete();
    }
}
