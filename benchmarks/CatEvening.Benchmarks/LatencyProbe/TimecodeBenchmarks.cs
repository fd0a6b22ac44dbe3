using BenchmarkDotNet.Attributes;
using CatEvening.LatencyProbe.Timecode;

namespace CatEvening.Benchmarks.LatencyProbe;

/// <summary>
/// The visual timecode's per-frame work: drawing a 720p frame (render side, 25-60 times a second) and reading the
/// code of a 640x360 frame (read side, every decoded frame). Both must stay far below a frame period.
/// </summary>
[MemoryDiagnoser]
public class TimecodeBenchmarks
{
    private const long Time = 1_795_888_800_123;
    private readonly byte[] _render = new byte[1280 * 720];
    private readonly byte[] _read = new byte[TimecodeReader.ReadWidth * TimecodeReader.ReadHeight];

    [GlobalSetup]
    public void Setup() => TimecodeFrame.Draw(_read, TimecodeReader.ReadWidth, TimecodeReader.ReadHeight, Time);

    [Benchmark(Description = "draw 1280x720 frame")]
    public void Draw720p() => TimecodeFrame.Draw(_render, 1280, 720, Time);

    [Benchmark(Description = "read code of 640x360 frame")]
    public long Read360p()
    {
        TimecodeFrame.TryRead(_read, TimecodeReader.ReadWidth, TimecodeReader.ReadHeight, out var ms);
        return ms;
    }
}
