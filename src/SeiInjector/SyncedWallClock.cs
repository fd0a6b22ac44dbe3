using System.Net.Sockets;
using CatEvening.ClockSync;
using CatEvening.SeiInjector.Cues;

namespace CatEvening.SeiInjector.Cli;

/// <summary>
/// <c>--clock HOST:PORT</c>: heartbeats stamped with the host clock corrected by a CatEvening clock service
/// (<c>latency-probe clock serve</c>), with the service's uncertainty; the heartbeats name the service so that
/// clients can sync to the same clock.
/// </summary>
internal sealed class SyncedWallClock : IWallClock, IDisposable
{
    private readonly SyncedClock _clock;

    private SyncedWallClock(SyncedClock clock, string timeServer)
    {
        _clock = clock;
        TimeServer = timeServer;
    }

    /// <inheritdoc />
    public string? TimeServer { get; }

    /// <summary>Syncs (16 exchanges, then one a second in the background) with the service at <paramref name="endpoint"/>.</summary>
    /// <exception cref="CliException">The address is malformed or the service does not answer.</exception>
    public static SyncedWallClock Start(string endpoint)
    {
        if (!HostPort.TryParse(endpoint, out var address, out var error))
            throw new CliException(ExitCodes.Usage, $"--clock {error}");
        try
        {
            var clock = SyncedClock.StartAsync(address.Resolve(), 16, TimeSpan.FromSeconds(1), CancellationToken.None).GetAwaiter().GetResult();
            return new SyncedWallClock(clock, endpoint);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or InvalidOperationException)
        {
            throw new CliException(ExitCodes.StreamFailed, $"--clock {endpoint}: {e.Message}");
        }
    }

    /// <inheritdoc />
    public WallClockReading Now()
    {
        var reading = _clock.Now();
        return new WallClockReading(reading.UnixMicroseconds, reading.UncertaintyMicroseconds);
    }

    /// <inheritdoc />
    public void Dispose() => _clock.Dispose();
}
