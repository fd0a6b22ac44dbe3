using System.Net;
using System.Net.Sockets;
using CatEvening.SeiReader.Client;

namespace CatEvening.ClockSync;

/// <summary>One completed four-timestamp exchange (microseconds since the Unix epoch, each by its own clock).</summary>
/// <param name="T0">Client time the request left.</param>
/// <param name="T1">Server time the request arrived.</param>
/// <param name="T2">Server time the response left.</param>
/// <param name="T3">Client time the response arrived.</param>
public readonly record struct ClockExchange(long T0, long T1, long T2, long T3)
{
    /// <summary>Offset θ = ((t1 − t0) + (t2 − t3)) / 2: server minus client, if both legs took equally long.</summary>
    public double OffsetMicroseconds => ((T1 - T0) + (T2 - T3)) / 2.0;

    /// <summary>Round trip δ = (t3 − t0) − (t2 − t1), the network time without the server's holding time.</summary>
    public long RoundTripMicroseconds => (T3 - T0) - (T2 - T1);

    /// <summary>δ / 2: the true offset lies within θ ± δ/2 whatever the split of the round trip between the legs.</summary>
    public double UncertaintyMicroseconds => RoundTripMicroseconds / 2.0;
}

/// <summary>
/// Client of the clock service: sends requests over UDP and feeds the exchanges to SeiReader's
/// <see cref="ServerClock"/> (minimum-delay selection, outlier rejection, drift).
/// </summary>
public sealed class ClockClient : IDisposable
{
    private readonly Socket _socket;
    private readonly IClockSource _local;
    private readonly byte[] _send = new byte[ClockPacket.Size];
    private readonly byte[] _receive = new byte[1500];
    private ulong _sequence = (ulong)Random.Shared.NextInt64();

    /// <summary>Creates a client of the server at <paramref name="server"/>, timing with <paramref name="local"/> (the host clock when null).</summary>
    public ClockClient(IPEndPoint server, IClockSource? local = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        _local = local ?? HostClock.Instance;
        _socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Connect(server);
        Server = server;
    }

    /// <summary>The server's address.</summary>
    public IPEndPoint Server { get; }

    /// <summary>Requests sent without any answer before <see cref="QueryAsync"/> gives up on a server.</summary>
    public const int AttemptsBeforeGivingUp = 5;

    /// <summary>The estimator fed with every exchange this client completed.</summary>
    public ServerClock Clock { get; } = new();

    /// <summary>Requests that got no answer in time.</summary>
    public int Lost { get; private set; }

    /// <summary>
    /// Makes one exchange and adds it to <see cref="Clock"/>; null when no valid answer came within
    /// <paramref name="timeout"/> (answers to earlier, timed-out requests are discarded by sequence number).
    /// </summary>
    public async Task<ClockExchange?> ExchangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var sequence = ++_sequence;
        var t0 = _local.Now().UnixMicroseconds;
        new ClockPacket(ClockPacketType.Request, sequence, t0, 0, 0).Write(_send);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _socket.SendAsync(_send, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            while (true)
            {
                var n = await _socket.ReceiveAsync(_receive, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                var t3 = _local.Now().UnixMicroseconds;
                if (!ClockPacket.TryRead(_receive.AsSpan(0, n), out var reply, out _) || reply.Type != ClockPacketType.Response
                    || reply.Sequence != sequence || reply.T0 != t0)
                    continue;
                var exchange = new ClockExchange(t0, reply.T1, reply.T2, t3);
                if (Clock.AddExchange(t0, reply.T1, reply.T2, t3) != ClockExchangeStatus.Accepted) continue;
                return exchange;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Lost++;
            return null;
        }
        catch (SocketException)
        {
            // ICMP port unreachable on a connected UDP socket: the server is not there (yet).
            Lost++;
            return null;
        }
    }

    /// <summary>
    /// Makes exchanges until <paramref name="samples"/> have been accepted (or 4 × that many attempts), then
    /// summarises: the <see cref="ServerClock"/> estimate next to what the first exchange alone said. Gives up
    /// after <see cref="AttemptsBeforeGivingUp"/> attempts if none was answered.
    /// </summary>
    /// <exception cref="TimeoutException">No exchange at all succeeded.</exception>
    public async Task<ClockQueryResult> QueryAsync(int samples, TimeSpan interval, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        ClockExchange? first = null;
        var accepted = 0;
        var attempts = 0;
        for (; accepted < samples && attempts < samples * 4; attempts++)
        {
            if (accepted == 0 && attempts == AttemptsBeforeGivingUp) break;
            if (attempts > 0 && interval > TimeSpan.Zero) await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            var exchange = await ExchangeAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (exchange is null) continue;
            first ??= exchange;
            accepted++;
        }
        if (first is not { } one) throw new TimeoutException($"no answer from the clock service at {Server} after {attempts} requests");
        var estimate = Clock.GetEstimate(_local.Now().UnixMicroseconds);
        return new ClockQueryResult(
            estimate.OffsetMicros / 1000.0, estimate.MinRoundTripMicros / 1000.0, estimate.UncertaintyMicros / 1000.0,
            estimate.SamplesHeld, estimate.SamplesUsed, Lost, estimate.DriftPpm,
            one.OffsetMicroseconds / 1000.0, one.RoundTripMicroseconds / 1000.0, one.UncertaintyMicroseconds / 1000.0);
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}

/// <summary>What <c>latency-probe clock query</c> reports, in milliseconds.</summary>
/// <param name="OffsetMilliseconds">Server clock minus local clock.</param>
/// <param name="RoundTripMilliseconds">Smallest round trip among the exchanges held.</param>
/// <param name="UncertaintyMilliseconds">Half-width of the interval the true offset lies in.</param>
/// <param name="Samples">Exchanges accepted.</param>
/// <param name="SamplesUsed">Exchanges that agree on the estimate (the rest were outliers).</param>
/// <param name="Lost">Requests that got no answer in time.</param>
/// <param name="DriftPpm">Estimated rate of the server clock against the local one.</param>
/// <param name="SingleOffsetMilliseconds">Offset the first exchange alone gave.</param>
/// <param name="SingleRoundTripMilliseconds">Round trip of the first exchange.</param>
/// <param name="SingleUncertaintyMilliseconds">Uncertainty of the first exchange alone.</param>
public sealed record ClockQueryResult(
    double OffsetMilliseconds, double RoundTripMilliseconds, double UncertaintyMilliseconds,
    int Samples, int SamplesUsed, int Lost, double DriftPpm,
    double SingleOffsetMilliseconds, double SingleRoundTripMilliseconds, double SingleUncertaintyMilliseconds);
