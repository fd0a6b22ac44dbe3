using System.CommandLine;
using CatEvening.ClockSync;

namespace CatEvening.LatencyProbe.Cli;

/// <summary>The <c>--clock HOST:PORT</c> option: take the time from a clock service instead of the host clock.</summary>
internal static class ClockOption
{
    public static Option<string?> Create() => new("--clock")
    {
        Description = "Clock service HOST:PORT (latency-probe clock serve) to take the time from; default: this host's clock.",
    };

    /// <summary>A clock for the run; disposing it stops any background syncing.</summary>
    public sealed class Source(IClockSource clock, IDisposable? owner) : IDisposable
    {
        public IClockSource Clock { get; } = clock;

        public void Dispose() => owner?.Dispose();
    }

    /// <summary>The host clock when <paramref name="endpoint"/> is null, else a clock synced to that service (16 exchanges first, then one a second).</summary>
    public static async Task<Source> OpenAsync(string? endpoint, CancellationToken cancellationToken)
    {
        if (endpoint is null) return new Source(HostClock.Instance, null);
        var synced = await SyncedClock.StartAsync(Endpoint.Resolve(endpoint), 16, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        var estimate = synced.Client.Clock.GetEstimate(HostClock.Instance.Now().UnixMicroseconds);
        Console.Error.WriteLine($"clock: synced to {endpoint}: offset {estimate.OffsetMicros / 1000.0:0.000} ms ± {estimate.UncertaintyMicros / 1000.0:0.000} ms");
        return new Source(synced, synced);
    }
}
