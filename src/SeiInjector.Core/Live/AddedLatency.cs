using System.Diagnostics;
using Prometheus;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The time each packet spends inside the injector, from the moment it is read to the moment it is written
/// (the latency the injector adds to the live path). The pipeline records one sample per packet; the control API
/// reports exact percentiles over the most recent <see cref="WindowSize"/> samples, and the metrics endpoint a
/// cumulative Prometheus histogram over the whole run (<c>catevening_added_latency_seconds</c>, kept by prometheus-net
/// in <see cref="Metrics"/>).
/// </summary>
/// <remarks>One writer (the pipeline thread) and any number of readers; recording takes one short lock.</remarks>
public sealed class AddedLatency
{
    /// <summary>Number of recent samples the percentiles are taken over.</summary>
    public const int WindowSize = 1 << 16;

    /// <summary>Upper bounds, in seconds, of the histogram buckets (Prometheus <c>le</c>); +Inf is implied.</summary>
    public static IReadOnlyList<double> BucketBounds { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private readonly long[] _window = new long[WindowSize];
    private readonly Histogram _histogram;
    private long _count;

    public AddedLatency()
    {
        Metrics = Prometheus.Metrics.NewCustomRegistry();
        _histogram = Prometheus.Metrics.WithCustomRegistry(Metrics).CreateHistogram("catevening_added_latency_seconds",
            "Time each packet spent in the injector, from read to write.", new HistogramConfiguration { Buckets = [.. BucketBounds] });
    }

    /// <summary>The run's histogram, <c>catevening_added_latency_seconds</c>, in a registry of its own (the metrics endpoint exports it).</summary>
    public CollectorRegistry Metrics { get; }

    /// <summary>Records one packet that was read at <paramref name="readTimestamp"/> and has just been written.</summary>
    /// <param name="readTimestamp">The <see cref="Stopwatch.GetTimestamp"/> value taken when the read returned.</param>
    public void RecordSince(long readTimestamp) => Record(Stopwatch.GetTimestamp() - readTimestamp);

    /// <summary>Records one sample of <paramref name="stopwatchTicks"/> (in <see cref="Stopwatch.Frequency"/> units).</summary>
    public void Record(long stopwatchTicks)
    {
        if (stopwatchTicks < 0) stopwatchTicks = 0;
        lock (_window)
        {
            _window[_count % WindowSize] = stopwatchTicks;
            _count++;
        }
        // Exemplar.None: without it prometheus-net asks the default provider for a trace-context exemplar on every
        // observation (an AsyncLocal read of Activity.Current), about 2.5 % of the injector's CPU in a perf profile.
        _histogram.Observe(stopwatchTicks / (double)Stopwatch.Frequency, Exemplar.None);
    }

    /// <summary>The percentiles over the recent window.</summary>
    public AddedLatencySnapshot Snapshot()
    {
        long[] recent;
        long count;
        lock (_window)
        {
            count = _count;
            recent = _window.AsSpan(0, (int)Math.Min(count, WindowSize)).ToArray();
        }
        Array.Sort(recent);
        return new AddedLatencySnapshot(
            count,
            recent.Length,
            Percentile(recent, 0.50),
            Percentile(recent, 0.99),
            recent.Length == 0 ? TimeSpan.Zero : ToTimeSpan(recent[^1]));
    }

    // Nearest-rank percentile: the smallest sample with at least p of the samples at or below it.
    private static TimeSpan Percentile(long[] sorted, double p)
    {
        if (sorted.Length == 0) return TimeSpan.Zero;
        var rank = (int)Math.Ceiling(p * sorted.Length);
        return ToTimeSpan(sorted[Math.Clamp(rank, 1, sorted.Length) - 1]);
    }

    private static TimeSpan ToTimeSpan(long stopwatchTicks) =>
        TimeSpan.FromSeconds(stopwatchTicks / (double)Stopwatch.Frequency);
}

/// <summary>Added latency at one moment.</summary>
/// <param name="Count">Packets recorded since the start.</param>
/// <param name="WindowCount">Packets the percentiles are taken over (the most recent ones).</param>
/// <param name="P50">Median over the window.</param>
/// <param name="P99">99th percentile over the window.</param>
/// <param name="Max">Largest sample in the window.</param>
public sealed record AddedLatencySnapshot(long Count, int WindowCount, TimeSpan P50, TimeSpan P99, TimeSpan Max);
