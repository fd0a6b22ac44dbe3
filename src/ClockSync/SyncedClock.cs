using System.Net;

namespace CatEvening.ClockSync;

/// <summary>
/// The host clock corrected by a clock service: a background loop keeps exchanging with the server and
/// <see cref="Now"/> adds the current <c>ServerClock</c> offset, with its uncertainty. This is what
/// <c>sei-inject --clock</c> stamps heartbeats with and what <c>latency-probe --clock</c> measures against.
/// </summary>
public sealed class SyncedClock : IClockSource, IDisposable
{
    private readonly ClockClient _client;
    private readonly IClockSource _local;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _interval;
    private Task? _loop;

    private SyncedClock(IPEndPoint server, IClockSource local, TimeSpan interval)
    {
        _local = local;
        _client = new ClockClient(server, local);
        _interval = interval;
    }

    /// <summary>The client and its estimator (for reporting offset, round trip and drift).</summary>
    public ClockClient Client => _client;

    /// <summary>
    /// Syncs with <paramref name="server"/>: makes <paramref name="initialSamples"/> exchanges back to back, then
    /// keeps making one every <paramref name="interval"/> in the background until disposed.
    /// </summary>
    /// <exception cref="TimeoutException">The server did not answer any of the initial requests.</exception>
    public static async Task<SyncedClock> StartAsync(IPEndPoint server, int initialSamples, TimeSpan interval, CancellationToken cancellationToken, IClockSource? local = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialSamples);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var clock = new SyncedClock(server, local ?? HostClock.Instance, interval);
        try
        {
            await clock._client.QueryAsync(initialSamples, TimeSpan.Zero, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            clock.Dispose();
            throw;
        }
        clock._loop = Task.Run(clock.KeepSyncingAsync);
        return clock;
    }

    /// <inheritdoc />
    public ClockReading Now()
    {
        var local = _local.Now().UnixMicroseconds;
        var estimate = _client.Clock.GetEstimate(local);
        return new ClockReading(local + estimate.OffsetMicros, estimate.UncertaintyMicros);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // Cancellation ends the loop.
        }
        _client.Dispose();
        _stop.Dispose();
    }

    private async Task KeepSyncingAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_interval, _stop.Token).ConfigureAwait(false);
                await _client.ExchangeAsync(TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
