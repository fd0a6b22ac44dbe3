using BenchmarkDotNet.Attributes;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.Benchmarks.Bitstream;

/// <summary>
/// Removing emulation prevention bytes from every slice of a real 720p x264 stream (CABAC), next to a plain copy of
/// the same slices: the 85 MB noisy stream (memory bound) and the 1.2 MB clean one (cache resident, more
/// emulation prevention bytes per megabyte).
/// </summary>
[MemoryDiagnoser]
public class EmulationPreventionBenchmarks
{
    private readonly List<ArraySegment<byte>> _slices = [];
    private byte[] _scratch = [];

    /// <summary>Which stream's slices.</summary>
    [Params("noisy", "clean")]
    public string Stream { get; set; } = "noisy";

    [GlobalSetup]
    public void Setup()
    {
        var stream = Stream == "noisy" ? BenchmarkMedia.NoisyAnnexB() : BenchmarkMedia.CleanAnnexB();
        var reader = new NalUnitReader(stream, VideoCodec.H264, NalFraming.AnnexB);
        while (reader.Read(out NalUnit nal) == ReadStatus.Success)
        {
            if (nal.Header.IsVcl) _slices.Add(new ArraySegment<byte>(stream, nal.Offset + 1, nal.Length - 1));
        }
        _scratch = new byte[_slices.Max(s => s.Count)];
        long bytes = _slices.Sum(s => (long)s.Count);
        int escapes = _slices.Sum(s => s.Count - Rbsp.Unescape(s, _scratch));
        Console.WriteLine($"// {Stream}: {_slices.Count} slices, {bytes} bytes, {escapes} emulation prevention bytes");
    }

    /// <summary>The memory bound: copy every slice once.</summary>
    [Benchmark(Baseline = true)]
    public void CopySlices()
    {
        foreach (var slice in _slices) slice.AsSpan().CopyTo(_scratch);
    }

    /// <summary>Unescape every slice into scratch (a zero-copy slice when a slice has nothing to remove).</summary>
    [Benchmark]
    public int UnescapeSlices()
    {
        int total = 0;
        foreach (var slice in _slices)
        {
            Rbsp.TryUnescape(slice, _scratch, out ReadOnlySpan<byte> rbsp);
            total += rbsp.Length;
        }
        return total;
    }
}
