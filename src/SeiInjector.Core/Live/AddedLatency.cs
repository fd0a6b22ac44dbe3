using System.Diagnostics;
using Prometheus;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// One per-packet latency of the pipeline, in <see cref="Stopwatch"/> ticks: by default the time each packet spends in
/// the injector's own code, from the moment its read returns to the moment it is handed to the muxer (the latency the
/// injector adds to the live path: <c>catevening_added_latency_seconds</c>); <see cref="PacketMonitor"/> keeps a second
/// one for the muxer's write call itself (<c>catevening_write_seconds</c>: muxing and the socket send, which an
/// <c>ffmpeg -c copy</c> relay pays alike). The pipeline records one sample per packet; the control API reports exact
/// percentiles over the most recent <see cref="WindowSize"/> samples, and the metrics endpoint a cumulative Prometheus
/// histogram over the whole run, kept by prometheus-net in <see cref="Metrics"/>.
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

    /// <summary>The added latency (<c>catevening_added_latency_seconds</c>) in a registry of its own.</summary>
    public AddedLatency()
        : this(Prometheus.Metrics.NewCustomRegistry(), AddedLatencyMetric, "Time each packet spent in the injector's own code, from its read to the muxer.")
    {
    }

    /// <summary>A latency exported as the histogram <paramref name="metricName"/> in <paramref name="registry"/>.</summary>
    /// <param name="registry">Registry the histogram is created in (the metrics endpoint exports it).</param>
    /// <param name="metricName">Prometheus name of the histogram, in seconds.</param>
    /// <param name="help">Its help text.</param>
    public AddedLatency(CollectorRegistry registry, string metricName, string help)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Metrics = registry;
        _histogram = Prometheus.Metrics.WithCustomRegistry(registry).CreateHistogram(metricName, help, new HistogramConfiguration { Buckets = [.. BucketBounds] });
    }

    /// <summary>Name of the injector's added-latency histogram.</summary>
    public const string AddedLatencyMetric = "catevening_added_latency_seconds";

    /// <summary>The registry holding the run's histogram (the metrics endpoint exports it, with whatever else it holds).</summary>
    public CollectorRegistry Metrics { get; }


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
