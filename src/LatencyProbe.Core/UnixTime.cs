namespace CatEvening.LatencyProbe;

/// <summary>Microseconds since the Unix epoch, the time unit of every CatEvening clock and report.</summary>
public static class UnixTime
{
    /// <summary>The host's UTC clock now, in microseconds since the Unix epoch.</summary>
    public static long NowMicroseconds() => FromDateTimeOffset(DateTimeOffset.UtcNow);

    /// <summary>A point in time in microseconds since the Unix epoch.</summary>
    public static long FromDateTimeOffset(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>A UTC <see cref="DateTimeOffset"/> from microseconds since the Unix epoch.</summary>
    public static DateTimeOffset ToDateTimeOffset(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * 10);
}
