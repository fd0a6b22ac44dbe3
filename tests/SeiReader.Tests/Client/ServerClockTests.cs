using CatEvening.SeiReader.Client;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

public class ServerClockTests
{
    private const long Start = 1_795_888_800_000_000;

    [Test]
    public void OneExchange_OnASymmetricPath_GivesTheExactOffsetAndHalfTheDelayAsUncertainty()
    {
        var clock = new ServerClock();
        // local = server - 5 s; 30 ms each way; server holds 2 ms.
        Assert.That(clock.AddExchange(Start - 5_000_000, Start + 30_000, Start + 32_000, Start - 5_000_000 + 62_000), Is.EqualTo(ClockExchangeStatus.Accepted));
        var e = clock.GetEstimate(Start - 5_000_000 + 31_000);
        Assert.Multiple(() =>
        {
            Assert.That(e.OffsetMicros, Is.EqualTo(5_000_000));
            Assert.That(e.UncertaintyMicros, Is.EqualTo(30_000));
            Assert.That(e.MinRoundTripMicros, Is.EqualTo(60_000));
            Assert.That(clock.ToServerTime(0), Is.EqualTo(5_000_000));
            Assert.That(clock.ToLocalTime(5_000_000), Is.EqualTo(0));
        });
    }

    [TestCase(100, 0, 0, 50, ClockExchangeStatus.LocalClockWentBack)]
    [TestCase(0, 60, 50, 100, ClockExchangeStatus.ServerTimesReversed)]
    [TestCase(0, 10, 200, 100, ClockExchangeStatus.NegativeDelay)]
    public void AddExchange_ImpossibleTimes_AreRefused(long t0, long t1, long t2, long t3, ClockExchangeStatus expected)
    {
        var clock = new ServerClock();
        Assert.Multiple(() =>
        {
            Assert.That(clock.AddExchange(t0, t1, t2, t3), Is.EqualTo(expected));
            Assert.That(clock.IsSynchronized, Is.False);
            Assert.That(clock.TryGetEstimate(0, out _), Is.False);
            Assert.That(() => clock.GetEstimate(0), Throws.InvalidOperationException);
        });
    }

    [Test]
    public void Estimate_TheTrueOffsetStaysInsideTheUncertaintyInterval()
    {
        var path = new CellularPath(11);
        const long offset = -123_456_789;
        Func<long, long> local = t => t + offset;
        var clock = new ServerClock();
        for (var i = 0; i < 64; i++)
        {
            var now = Start + i * 1_000_000L;
            var (t0, t1, t2, t3) = path.Exchange(now, local);
            clock.AddExchange(t0, t1, t2, t3);
            var e = clock.GetEstimate(t3);
            Assert.That(Math.Abs(e.OffsetMicros - -offset), Is.LessThanOrEqualTo(e.UncertaintyMicros), $"exchange {i}");
        }
    }

    [Test]
    public void Outliers_ABogusReplyDoesNotMoveTheEstimate()
    {
        var path = new CellularPath(12);
        Func<long, long> local = t => t + 2_000_000;
        var clock = new ServerClock();
        for (var i = 0; i < 16; i++)
        {
            var (t0, t1, t2, t3) = path.Exchange(Start + i * 1_000_000L, local);
            clock.AddExchange(t0, t1, t2, t3);
        }
        var before = clock.GetEstimate(Start + 16_000_000 + 2_000_000);
        // A reply from a server whose clock is 10 s off (a misconfigured replica), with a short round trip.
        var s = Start + 16_500_000;
        clock.AddExchange(s + 2_000_000, s + 10_020_000, s + 10_021_000, s + 2_000_000 + 41_000);
        var after = clock.GetEstimate(Start + 16_000_000 + 2_000_000);
        Assert.Multiple(() =>
        {
            Assert.That(Math.Abs(after.OffsetMicros - before.OffsetMicros), Is.LessThan(1000));
            Assert.That(after.SamplesUsed, Is.EqualTo(16));
            Assert.That(after.SamplesHeld, Is.EqualTo(17));
        });
    }

    [Test]
    public void Drift_A60PpmFastLocalClock_IsTrackedOverTenMinutes()
    {
        var path = new CellularPath(13);
        const double ppm = 60;
        Func<long, long> local = t => t + 1_000_000 + (long)((t - Start) * ppm / 1e6);
        var clock = new ServerClock();
        for (var i = 0; i < 300; i++)
        {
            var (t0, t1, t2, t3) = path.Exchange(Start + i * 2_000_000L, local);
            clock.AddExchange(t0, t1, t2, t3);
        }
        var trueNow = Start + 610_000_000L;
        var e = clock.GetEstimate(local(trueNow));
        var trueOffset = trueNow - local(trueNow);
        Assert.Multiple(() =>
        {
            Assert.That(e.DriftPpm, Is.EqualTo(-ppm).Within(3), "server runs slower than local by 60 ppm");
            Assert.That(Math.Abs(e.OffsetMicros - trueOffset), Is.LessThan(5_000));
        });
    }

    /// <summary>The bound: under cellular-like jitter (RTT 40-400 ms, heavy tail) the offset error after 16
    /// exchanges is at most 5 ms at the 95th percentile. Fixed seeds, 2000 trials; the figures are in
    /// benchmarks/RESULTS.md next to what one exchange gets.</summary>
    [Test]
    public void Jitter_16Exchanges_OffsetErrorP95IsAtMost5ms_WhileOneExchangeIsFarWorse()
    {
        var (single, sixteen) = ClockSimulation.ErrorPercentiles(trials: 2000, exchanges: 16, seed: 2026, asymmetryMicros: 0);
        TestContext.Out.WriteLine($"one exchange: p50 {single.P50 / 1000.0:F1} ms, p95 {single.P95 / 1000.0:F1} ms, p99 {single.P99 / 1000.0:F1} ms; " +
                                  $"16 exchanges: p50 {sixteen.P50 / 1000.0:F2} ms, p95 {sixteen.P95 / 1000.0:F2} ms, p99 {sixteen.P99 / 1000.0:F2} ms");
        Assert.Multiple(() =>
        {
            Assert.That(sixteen.P95, Is.LessThanOrEqualTo(5_000));
            Assert.That(single.P95, Is.GreaterThan(4 * sixteen.P95));
        });
    }
}

public class ServerClockAsymmetryTests
{
    /// <summary>The limit no two-way method escapes: when the uplink's minimum delay exceeds the downlink's by 10 ms,
    /// the estimate is off by half of it (5 ms), however many exchanges are made. The docs say so.</summary>
    [Test]
    public void AsymmetricPath_ErrorSettlesAtHalfTheAsymmetry()
    {
        var (_, sixteen) = ClockSimulation.ErrorPercentiles(trials: 500, exchanges: 16, seed: 2027, asymmetryMicros: 10_000);
        TestContext.Out.WriteLine($"10 ms asymmetry, 16 exchanges: p50 {sixteen.P50 / 1000.0:F2} ms, p95 {sixteen.P95 / 1000.0:F2} ms");
        Assert.That(sixteen.P50, Is.InRange(3_500, 6_500));
    }
}

internal static class ClockSimulation
{
    internal readonly record struct Percentiles(long P50, long P95, long P99);

    /// <summary>Runs <paramref name="trials"/> independent clients (random offset ±10 s, drift ±50 ppm), each making
    /// <paramref name="exchanges"/> exchanges one second apart; returns the absolute offset error after the first
    /// exchange and after the last.</summary>
    internal static (Percentiles Single, Percentiles All) ErrorPercentiles(int trials, int exchanges, int seed, long asymmetryMicros)
    {
        var single = new long[trials];
        var all = new long[trials];
        for (var trial = 0; trial < trials; trial++)
        {
            var path = new CellularPath(seed * 100_003 + trial, asymmetryMicros);
            var offset = (long)((path.NextDouble() * 2 - 1) * 10_000_000);
            var ppm = (path.NextDouble() * 2 - 1) * 50;
            const long start = 1_795_888_800_000_000;
            Func<long, long> local = t => t + offset + (long)((t - start) * ppm / 1e6);
            var clock = new ServerClock();
            for (var i = 0; i < exchanges; i++)
            {
                var trueNow = start + i * 1_000_000L;
                var (t0, t1, t2, t3) = path.Exchange(trueNow, local);
                clock.AddExchange(t0, t1, t2, t3);
                var error = Math.Abs(clock.GetEstimate(t3).OffsetMicros - TrueOffsetAt(t3, local, start));
                if (i == 0) single[trial] = error;
                if (i == exchanges - 1) all[trial] = error;
            }
        }
        return (Of(single), Of(all));
    }

    /// <summary>server - local at the local instant <paramref name="localT"/>.</summary>
    private static long TrueOffsetAt(long localT, Func<long, long> local, long start)
    {
        var t = localT - (local(start) - start);
        for (var i = 0; i < 3; i++) t += localT - local(t);
        return t - localT;
    }

    private static Percentiles Of(long[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        long At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Percentiles(At(0.50), At(0.95), At(0.99));
    }
}
