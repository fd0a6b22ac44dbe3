using System.Diagnostics;

namespace CatEvening.SeiInjector.Cues;

/// <summary>A wall-clock reading: microseconds since the Unix epoch (UTC) and how far from true UTC it may be.</summary>
/// <param name="UnixMicros">Microseconds since 1970-01-01T00:00:00Z.</param>
/// <param name="UncertaintyMicros">Bound on the error of <paramref name="UnixMicros"/>, microseconds, ≥ 0.</param>
public readonly record struct WallClockReading(long UnixMicros, long UncertaintyMicros);

/// <summary>
/// The clock heartbeats carry. The default is the system clock; a synchronised clock (latency-probe's
/// <c>--clock HOST:PORT</c>) plugs in here.
/// </summary>
public interface IWallClock
{
    /// <summary>The current time.</summary>
    WallClockReading Now();

    /// <summary>Address (<c>host:port</c>) of the time server clients may query, or null; heartbeats carry it.</summary>
    string? TimeServer { get; }
}

/// <summary>
/// The system clock, read once for an anchor and then advanced with the monotonic stopwatch, so readings never step
/// backwards when NTP slews the system clock. Its uncertainty is unknown to it: it reports a configured bound.
/// </summary>
public sealed class SystemWallClock : IWallClock
{
    private readonly long _anchorMicros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
    private readonly long _anchorTimestamp = Stopwatch.GetTimestamp();
    private readonly long _uncertaintyMicros;

    /// <summary>Creates the clock.</summary>
    /// <param name="uncertainty">Bound to report for the system clock's error; 50 ms when not given (unsynchronised host).</param>
    public SystemWallClock(TimeSpan? uncertainty = null) =>
        _uncertaintyMicros = (long)(uncertainty ?? TimeSpan.FromMilliseconds(50)).TotalMicroseconds;

    /// <inheritdoc />
    public string? TimeServer => null;

    /// <inheritdoc />
    public WallClockReading Now() =>
        new(_anchorMicros + (long)Stopwatch.GetElapsedTime(_anchorTimestamp).TotalMicroseconds, _uncertaintyMicros);
}
