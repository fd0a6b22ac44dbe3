using System.Net;
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
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw new CliException(ExitCodes.Usage, $"--clock '{endpoint}' is not HOST:PORT");
        var host = endpoint[..colon].Trim('[', ']');
        try
        {
            var address = IPAddress.TryParse(host, out var literal) ? literal
                : Dns.GetHostAddresses(host).OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).First();
            var clock = SyncedClock.StartAsync(new IPEndPoint(address, port), 16, TimeSpan.FromSeconds(1), CancellationToken.None).GetAwaiter().GetResult();
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
