namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// One latency measurement: when it was taken, how long the path took, and how far off the figure may be.
/// </summary>
/// <param name="TimestampUnixMicroseconds">When the sample was taken, in microseconds since the Unix epoch (UTC).</param>
/// <param name="LatencyMilliseconds">The measured delay in milliseconds.</param>
/// <param name="UncertaintyMilliseconds">
/// Half-width of the error bar in milliseconds: the true delay lies within
/// <see cref="LatencyMilliseconds"/> ± this value as far as the instrument can tell. Never negative.
/// </param>
public readonly record struct LatencySample(long TimestampUnixMicroseconds, double LatencyMilliseconds, double UncertaintyMilliseconds)
{
    /// <summary>The timestamp as a UTC <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset Timestamp => UnixTime.ToDateTimeOffset(TimestampUnixMicroseconds);
}
