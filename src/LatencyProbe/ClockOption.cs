using System.CommandLine;
using System.Net.Sockets;
using CatEvening.ClockSync;

namespace CatEvening.LatencyProbe.Cli;

/// <summary>The <c>--clock HOST:PORT</c> option: take the time from a clock service instead of the host clock.</summary>
internal static class ClockOption
{
    public static Option<string?> Create() => new("--clock")
    {
        Description = "Clock service HOST:PORT (latency-probe clock serve) to take the time from; default: this host's clock.",
        Validators = { Addresses.Validator("--clock") },
    };

    /// <summary>A clock for the run; disposing it stops any background syncing.</summary>
    public sealed class Source(IClockSource clock, IDisposable? owner) : IDisposable
    {
        public IClockSource Clock { get; } = clock;

        public void Dispose() => owner?.Dispose();
    }

    /// <summary>The host clock when <paramref name="endpoint"/> is null, else a clock synced to that service (16 exchanges first, then one a second).</summary>
    /// <exception cref="AddressException">The address is malformed, does not resolve, or no clock service answers there.</exception>
    public static async Task<Source> OpenAsync(string? endpoint, CancellationToken cancellationToken)
    {
        if (endpoint is null) return new Source(HostClock.Instance, null);
        var address = Addresses.Resolve("--clock", endpoint);
        SyncedClock synced;
        try
        {
            synced = await SyncedClock.StartAsync(address, 16, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or SocketException)
        {
            throw new AddressException($"--clock {endpoint}: {NoAnswer(e)}", malformed: false, e);
        }
        var estimate = synced.Client.Clock.GetEstimate(HostClock.Instance.Now().UnixMicroseconds);
        Console.Error.WriteLine($"clock: synced to {endpoint}: offset {estimate.OffsetMicros / 1000.0:0.000} ms ± {estimate.UncertaintyMicros / 1000.0:0.000} ms");
        return new Source(synced, synced);
    }

    /// <summary>Why a clock service did not answer, and what to check.</summary>
    public static string NoAnswer(Exception e) =>
        $"no clock service answered ({e.Message}); is 'latency-probe clock serve' running there, and is UDP to that port open?";
}
