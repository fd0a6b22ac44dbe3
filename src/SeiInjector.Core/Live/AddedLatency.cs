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
/// samples per packet), reading takes one among readers. A reader racing the writer may see a few samples newer than the
/// count it read in place of the oldest ones: the percentiles stay those of a recent window.</remarks>
public sealed class AddedLatency
{
    /// <summary>Number of recent samples the percentiles are taken over.</summary>
    public const int WindowSize = 1 << 16;

    /// <summary>Upper bounds, in seconds, of the histogram buckets (Prometheus <c>le</c>); +Inf is implied.</summary>
    public static IReadOnlyList<double> BucketBounds { get; } =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    /// <summary>Samples staged before they go into the window together (a power of two dividing <see cref="WindowSize"/>).</summary>
    internal const int StagingSize = 64;

    private readonly long[] _window = new long[WindowSize];
    // The newest samples, written here one at a time and copied into the window StagingSize at a time: see Record.
    private readonly long[] _staging = new long[StagingSize];
    private readonly long[] _scratch = new long[WindowSize];
    private readonly Lock _scratchGate = new();
    private readonly Histogram _histogram;
    private long _count;

    // The histogram as the pipeline thread keeps it: per bucket (the BucketBounds, in Stopwatch ticks, then +Inf) the
    // samples and the sum of their ticks, under a sequence count (odd while the writer updates them; a reader retries).
    // prometheus-net's histogram is brought up to date from them just before each collection, not once per packet.
    private static readonly long[] BoundTicks = [.. BucketBounds.Select(b => (long)decimal.Floor((decimal)b * Stopwatch.Frequency))];
    // The instance's own copy of BoundTicks, allocated with the bucket arrays next to it: Record reads the bounds from
    // the same page as the counts instead of from a static on a page of its own.
    private readonly long[] _boundTicks = [.. BoundTicks];
    private readonly long[] _bucketCounts = new long[BoundTicks.Length + 1];
    private readonly long[] _bucketTicks = new long[BoundTicks.Length + 1];
    private int _bucketVersion;
    private readonly Lock _flushGate = new();
    private readonly long[] _flushedCounts = new long[BoundTicks.Length + 1];
    private readonly long[] _flushedTicks = new long[BoundTicks.Length + 1];
    private readonly long[] _readCounts = new long[BoundTicks.Length + 1];
    private readonly long[] _readTicks = new long[BoundTicks.Length + 1];

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
        registry.AddBeforeCollectCallback(Flush);
    }

    /// <summary>Name of the injector's added-latency histogram.</summary>
    public const string AddedLatencyMetric = "catevening_added_latency_seconds";

    /// <summary>The registry holding the run's histogram (the metrics endpoint exports it, with whatever else it holds).</summary>
    public CollectorRegistry Metrics { get; }


    /// <summary>Records one sample of <paramref name="stopwatchTicks"/> (in <see cref="Stopwatch.Frequency"/> units).</summary>
    /// <remarks>Call from one thread at a time (the pipeline's). It takes no lock and does no floating-point work: the
    /// sample goes into the window and into its bucket's count and tick sum; prometheus-net's histogram takes them at the
    /// next collection (two <c>Histogram.Observe</c> calls per packet, with their bucket search over doubles and atomic
    /// updates, were about 10 % of the injector's own code per packet in a perf profile).</remarks>
    public void Record(long stopwatchTicks)
    {
        if (stopwatchTicks < 0) stopwatchTicks = 0;
        // No lock (this runs for every packet): the one writer stores the sample, then publishes the new count.
        var count = _count;
        // The sample goes into the small staging array (one or two cache lines, used by every packet), and every
        // StagingSize samples the staging array into the window in one copy. Writing each sample straight into the
        // 512 KB window stored into a line last touched 65,536 samples ago, on a page the TLB had lost since the last
        // poll() sleep: the most expensive single instruction of the injector's own code per packet (RESULTS.md,
        // eleventh pass). The copy takes the window's lines eight at a time, a page per 512 samples.
        var slot = (int)(count & (StagingSize - 1));
        _staging[slot] = stopwatchTicks;
        if (slot == StagingSize - 1)
            _staging.AsSpan().CopyTo(_window.AsSpan((int)((count - slot) & (WindowSize - 1)), StagingSize));
        Volatile.Write(ref _count, count + 1);
        // Samples are mostly in the first buckets: a linear search ends soonest.
        var bucket = 0;
        var bounds = _boundTicks;
        while (bucket < bounds.Length && stopwatchTicks > bounds[bucket]) bucket++;
        // A sequence lock: odd while the bucket changes. The two writes are release writes, so neither can be seen
        // before the odd count (a plain store may move ahead of a volatile one in .NET's model; on x64 these are plain
        // stores either way).
        var version = _bucketVersion;
        Volatile.Write(ref _bucketVersion, version + 1);
        Volatile.Write(ref _bucketCounts[bucket], _bucketCounts[bucket] + 1);
        Volatile.Write(ref _bucketTicks[bucket], _bucketTicks[bucket] + stopwatchTicks);
        Volatile.Write(ref _bucketVersion, version + 2);
    }

    // Before each collection: what each bucket gained since the last one goes into prometheus-net's histogram as one
    // Observe of (the mean of those samples, their count), so its buckets, count and sum are exactly the samples' (the
    // mean of samples within a bucket's bounds is within them).
    private void Flush()
    {
        lock (_flushGate)
        {
            if (!ReadBuckets()) return;
            for (var i = 0; i < _readCounts.Length; i++)
            {
                var samples = _readCounts[i] - _flushedCounts[i];
                if (samples <= 0) continue;
                var mean = (_readTicks[i] - _flushedTicks[i]) / (double)samples / Stopwatch.Frequency;
                // Rounding must not carry a mean equal to its bucket's upper bound over it.
                if (i < BucketBounds.Count) mean = Math.Min(mean, BucketBounds[i]);
                _histogram.Observe(mean, samples);
                _flushedCounts[i] = _readCounts[i];
                _flushedTicks[i] = _readTicks[i];
            }
        }
    }

    // A consistent copy of the buckets, retried while the writer is inside an update (a few nanoseconds, unless it was
    // preempted there). False after a bounded number of tries (tens of milliseconds): this collection then shows the
    // histogram as of the previous one, and the next catches up.
    private bool ReadBuckets()
    {
        var spin = new SpinWait();
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var before = Volatile.Read(ref _bucketVersion);
            if ((before & 1) == 0)
            {
                _bucketCounts.AsSpan().CopyTo(_readCounts);
                _bucketTicks.AsSpan().CopyTo(_readTicks);
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _bucketVersion) == before) return true;
            }
            spin.SpinOnce();
        }
        return false;
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
            if (n == 0) return new AddedLatencySnapshot(count, 0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
            // The window holds the samples copied from the staging array (a multiple of StagingSize); the ones still
            // staged go where their copy will put them: over the oldest copied ones once the window is full, after the
            // copied ones before that. Either way the scratch holds the most recent n samples.
            var staged = (int)(count & (StagingSize - 1));
            var copied = count - staged;
            _window.AsSpan(0, n).CopyTo(_scratch);
            _staging.AsSpan(0, staged).CopyTo(_scratch.AsSpan((int)(copied & (WindowSize - 1)), staged));
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
