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
/// <remarks>One writer (the pipeline thread) and any number of readers; recording takes no lock (the pipeline records two
/// samples per packet), reading takes one among readers.</remarks>
public sealed class AddedLatency
{
    /// <summary>Number of recent samples the percentiles are taken over.</summary>
    public const int WindowSize = 1 << 16;

    /// <summary>Upper bounds, in seconds, of the histogram buckets (Prometheus <c>le</c>); +Inf is implied.</summary>
    public static IReadOnlyList<double> BucketBounds { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private readonly long[] _window = new long[WindowSize];
    private readonly long[] _scratch = new long[WindowSize];
    private readonly Lock _scratchGate = new();
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
        // No lock (this runs for every packet): the one writer stores the sample, then publishes the new count.
        var count = _count;
        _window[(int)(count & (WindowSize - 1))] = stopwatchTicks;
        Volatile.Write(ref _count, count + 1);
        // Exemplar.None: without it prometheus-net asks the default provider for a trace-context exemplar on every
        // observation (an AsyncLocal read of Activity.Current), about 2.5 % of the injector's CPU in a perf profile.
        _histogram.Observe(stopwatchTicks / (double)Stopwatch.Frequency, Exemplar.None);
    }

    /// <summary>The percentiles over the recent window.</summary>
    /// <remarks>
    /// Taken whenever the status is read (the console's event stream reads it twice a second): the window is copied
    /// into a scratch array kept for the purpose (no 512 KB allocation per call) and the two ranks are found by
    /// selection, O(n), instead of sorting the 65,536 samples (several ms of CPU per call).
    /// </remarks>
    public AddedLatencySnapshot Snapshot()
    {
        lock (_scratchGate)
        {
            // The writer may overwrite the oldest samples while they are copied: then a few copied samples are newer
            // than the count read here, which leaves the percentiles over the recent window either way.
            var count = Volatile.Read(ref _count);
            var n = (int)Math.Min(count, WindowSize);
            _window.AsSpan(0, n).CopyTo(_scratch);
            if (n == 0) return new AddedLatencySnapshot(count, 0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
            var samples = _scratch.AsSpan(0, n);
            var max = long.MinValue;
            foreach (var sample in samples) max = Math.Max(max, sample);
            // p99 first: afterwards everything before its index is at or below it, so the median is selected there.
            var i99 = RankIndex(n, 0.99);
            var p99 = Select(samples, i99);
            var p50 = Select(samples[..(i99 + 1)], RankIndex(n, 0.50));
            return new AddedLatencySnapshot(count, n, ToTimeSpan(p50), ToTimeSpan(p99), ToTimeSpan(max));
        }
    }

    // Nearest-rank percentile: the smallest sample with at least p of the samples at or below it, as a 0-based index
    // into the sorted samples.
    private static int RankIndex(int n, double p) => Math.Clamp((int)Math.Ceiling(p * n), 1, n) - 1;

    /// <summary>
    /// The <paramref name="k"/>-th smallest of <paramref name="values"/> (0-based), reordering them so that everything
    /// before index <paramref name="k"/> is at or below it and everything after at or above it (Hoare's selection with a
    /// median-of-three pivot; linear on average).
    /// </summary>
    internal static long Select(Span<long> values, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, values.Length);
        int lo = 0, hi = values.Length - 1;
        while (hi > lo)
        {
            var mid = lo + ((hi - lo) / 2);
            if (values[mid] < values[lo]) (values[mid], values[lo]) = (values[lo], values[mid]);
            if (values[hi] < values[lo]) (values[hi], values[lo]) = (values[lo], values[hi]);
            if (values[hi] < values[mid]) (values[hi], values[mid]) = (values[mid], values[hi]);
            var pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            // Now [lo, j] <= pivot <= [i, hi], and anything strictly between j and i equals the pivot.
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return values[k];
        }
        return values[k];
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
