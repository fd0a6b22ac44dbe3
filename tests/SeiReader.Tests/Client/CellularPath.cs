namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// A simulated cellular path for clock exchanges: each leg takes a fixed 20 ms (so the round trip is at least
/// 40 ms) plus log-normal jitter (median 15 ms, σ = 1: a heavy right tail), plus a 5 % chance of a 100-1000 ms stall
/// (radio wake-up, retransmission). Round trips: median ≈ 75 ms, p90 ≈ 190 ms, p99 ≈ 900 ms. The server answers
/// after 0.1-2 ms. <see cref="AsymmetryMicros"/> adds a constant to the client→server leg only, which no two-way
/// method can observe.
/// </summary>
internal sealed class CellularPath
{
    private readonly Random _rng;

    internal CellularPath(int seed, long asymmetryMicros = 0)
    {
        _rng = new Random(seed);
        AsymmetryMicros = asymmetryMicros;
    }

    internal long AsymmetryMicros { get; }

    internal long Leg()
    {
        var normal = Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());
        var jitter = 15_000 * Math.Exp(normal);
        if (_rng.NextDouble() < 0.05) jitter += 100_000 + 900_000 * _rng.NextDouble();
        return 20_000 + (long)jitter;
    }

    /// <summary>One exchange at true time <paramref name="trueNow"/> against a server whose clock reads true time and
    /// a client whose clock reads <c>true + offset + drift·(true - start)</c>.</summary>
    internal (long T0, long T1, long T2, long T3) Exchange(long trueNow, Func<long, long> localClock)
    {
        var up = Leg() + AsymmetryMicros;
        var hold = 100 + _rng.Next(1900);
        var down = Leg();
        var t0 = localClock(trueNow);
        var t1 = trueNow + up;
        var t2 = t1 + hold;
        var t3 = localClock(t2 + down);
        return (t0, t1, t2, t3);
    }

    internal double NextDouble() => _rng.NextDouble();
}
