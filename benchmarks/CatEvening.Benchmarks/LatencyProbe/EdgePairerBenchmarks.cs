using BenchmarkDotNet.Attributes;
using CatEvening.LatencyProbe.Device;

namespace CatEvening.Benchmarks.LatencyProbe;

/// <summary>
/// Pairing photodiode edges: 1000 flashes with their screen edges plus 10 % extra edges. A probe sends a few
/// edges a second, so this only has to show the pairer is nowhere near the serial line's pace.
/// </summary>
[MemoryDiagnoser]
public class EdgePairerBenchmarks
{
    private (int Channel, long Time)[] _edges = [];
    private readonly List<PairingEvent> _events = new(4096);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var edges = new List<(int, long)>();
        for (var i = 0; i < 1000; i++)
        {
            var flash = i * 500_000L;
            edges.Add((0, flash));
            edges.Add((1, flash + 80_000 + random.Next(-5000, 5000)));
            if (i % 10 == 0) edges.Add((1, flash + 300_000));
        }
        _edges = [.. edges.OrderBy(e => e.Item2)];
    }

    [Benchmark(Description = "pair 2100 edges")]
    public int Pair()
    {
        var pairer = new EdgePairer(0, 400_000, 100_000);
        _events.Clear();
        foreach (var (channel, time) in _edges) pairer.Add(channel, time, _events);
        pairer.Flush(_events);
        return _events.Count;
    }
}
