namespace CatEvening.ClockSync;

/// <summary>A reading of a clock: the time and how far off it may be.</summary>
/// <param name="UnixMicroseconds">Microseconds since the Unix epoch (UTC).</param>
/// <param name="UncertaintyMicroseconds">Half-width of the error bar against the reference clock; never negative.</param>
public readonly record struct ClockReading(long UnixMicroseconds, long UncertaintyMicroseconds);

/// <summary>
/// Where an instrument or the injector gets the time from: the host clock, or the host clock corrected by a
/// clock service over the four-timestamp UDP exchange. Implementations are safe to call from several threads.
/// </summary>
public interface IClockSource
{
    /// <summary>The current time and its uncertainty.</summary>
    ClockReading Now();
}

/// <summary>
/// The host's own UTC clock, taken as the reference (uncertainty 0): right when every party runs on this
/// machine, or when this machine is the one the others sync to.
/// </summary>
public sealed class HostClock : IClockSource
{
    /// <summary>The one instance.</summary>
    public static HostClock Instance { get; } = new();

    private HostClock()
    {
    }

    /// <inheritdoc />
    public ClockReading Now() => new((DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10, 0);
}
