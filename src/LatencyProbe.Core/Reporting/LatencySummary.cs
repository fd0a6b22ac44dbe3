namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Order statistics of a set of <see cref="LatencySample"/>s, the figures every instrument reports.
/// </summary>
/// <remarks>
/// Percentiles interpolate linearly between the two nearest ranks (the "type 7" definition used by
/// NumPy, R and Excel's PERCENTILE.INC), so p50 of an even count is the mean of the two middle samples.
/// <see cref="UncertaintyMilliseconds"/> is the largest per-sample uncertainty: the error bar that every
/// sample in the set stays within, which is what a technician may quote next to any of the other figures.
/// </remarks>
public sealed record LatencySummary
{
    /// <summary>Number of samples summarised.</summary>
    public required int Count { get; init; }

    /// <summary>Median latency in milliseconds (NaN when there are no samples).</summary>
    public required double P50Milliseconds { get; init; }

    /// <summary>95th percentile in milliseconds (NaN when there are no samples).</summary>
    public required double P95Milliseconds { get; init; }

    /// <summary>99th percentile in milliseconds (NaN when there are no samples).</summary>
    public required double P99Milliseconds { get; init; }

    /// <summary>Smallest latency in milliseconds (NaN when there are no samples).</summary>
    public required double MinMilliseconds { get; init; }

    /// <summary>Largest latency in milliseconds (NaN when there are no samples).</summary>
    public required double MaxMilliseconds { get; init; }

    /// <summary>Arithmetic mean in milliseconds (NaN when there are no samples).</summary>
    public required double MeanMilliseconds { get; init; }

    /// <summary>Largest per-sample uncertainty in milliseconds (NaN when there are no samples).</summary>
    public required double UncertaintyMilliseconds { get; init; }

    /// <summary>Latency of the most recent sample in milliseconds (NaN when there are no samples).</summary>
    public required double CurrentMilliseconds { get; init; }

    /// <summary>The summary of no samples at all: count 0, every figure NaN.</summary>
    public static LatencySummary Empty { get; } = new()
    {
        Count = 0,
        P50Milliseconds = double.NaN,
        P95Milliseconds = double.NaN,
        P99Milliseconds = double.NaN,
        MinMilliseconds = double.NaN,
        MaxMilliseconds = double.NaN,
        MeanMilliseconds = double.NaN,
        UncertaintyMilliseconds = double.NaN,
        CurrentMilliseconds = double.NaN,
    };

    /// <summary>Summarises <paramref name="samples"/>, given in the order they were taken.</summary>
    public static LatencySummary Of(IReadOnlyList<LatencySample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0) return Empty;
        var sorted = new double[samples.Count];
        double sum = 0, uncertainty = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            sorted[i] = samples[i].LatencyMilliseconds;
            sum += sorted[i];
            uncertainty = Math.Max(uncertainty, samples[i].UncertaintyMilliseconds);
        }
        Array.Sort(sorted);
        return new LatencySummary
        {
            Count = sorted.Length,
            P50Milliseconds = Percentile(sorted, 0.50),
            P95Milliseconds = Percentile(sorted, 0.95),
            P99Milliseconds = Percentile(sorted, 0.99),
            MinMilliseconds = sorted[0],
            MaxMilliseconds = sorted[^1],
            MeanMilliseconds = sum / sorted.Length,
            UncertaintyMilliseconds = uncertainty,
            CurrentMilliseconds = samples[^1].LatencyMilliseconds,
        };
    }

    /// <summary>Type-7 percentile of an ascending, non-empty array; <paramref name="p"/> in [0, 1].</summary>
    public static double Percentile(ReadOnlySpan<double> ascending, double p)
    {
        if (ascending.IsEmpty) throw new ArgumentException("no values", nameof(ascending));
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 1);
        var rank = p * (ascending.Length - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(lower + 1, ascending.Length - 1);
        return ascending[lower] + ((rank - lower) * (ascending[upper] - ascending[lower]));
    }
}
