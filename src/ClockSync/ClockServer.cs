using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CatEvening.Http;
using Microsoft.AspNetCore.Http;

namespace CatEvening.ClockSync;

/// <summary>
/// The clock service: answers <see cref="ClockPacket"/> requests over UDP with the server's receive and send
/// times, and HTTP <c>GET</c> on the same port number (TCP) with the current UTC time in ISO 8601
/// (<c>2026-11-28T18:00:00.123Z</c>), the form DASH players' <c>urn:mpeg:dash:utc:http-iso:2014</c> UTCTiming expects.
/// </summary>
public sealed class ClockServer : IDisposable
{
    private readonly IClockSource _clock;
    private readonly Socket _udp;
    private readonly HttpHost? _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _udpLoop;
    private long _answered;
    private long _refused;

    /// <summary>Starts serving on <paramref name="listen"/> (port 0 picks a free port for both UDP and HTTP).</summary>
    /// <param name="listen">Address and port; 0.0.0.0 or :: for every interface.</param>
    /// <param name="clock">The time the server tells; <see cref="HostClock.Instance"/> in production.</param>
    /// <param name="http">Whether to serve the HTTP ISO time as well.</param>
    /// <exception cref="SocketException">The UDP port cannot be bound.</exception>
    /// <exception cref="IOException">The HTTP port cannot be bound; the message names the address.</exception>
    public ClockServer(IPEndPoint listen, IClockSource clock, bool http = true)
        : this(listen, clock, http, BindUdp)
    {
    }

    /// <summary>As the public constructor, with the UDP socket made by <paramref name="bindUdp"/> (tests hand out a port
    /// whose TCP twin is taken).</summary>
    internal ClockServer(IPEndPoint listen, IClockSource clock, bool http, Func<IPEndPoint, Socket> bindUdp)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        // Port 0: the system picks a free UDP port, and the same number may be taken for TCP (by any connection's local
        // end): then another UDP port is picked, a bounded number of times.
        for (var attempt = 1; ; attempt++)
        {
            var udp = bindUdp(listen);
            var bound = (IPEndPoint)udp.LocalEndPoint!;
            try
            {
                _http = http ? HttpHost.Start(bound, ServeHttpAsync) : null;
            }
            catch (IOException e) when (listen.Port == 0 && attempt < MaxPortAttempts && IsAddressInUse(e))
            {
                udp.Dispose();
                continue;
            }
            catch
            {
                udp.Dispose();
                throw;
            }
            _udp = udp;
            LocalEndPoint = bound;
            break;
        }
        _udpLoop = Task.Run(ServeUdpAsync);
    }

    // Tries of a UDP port for port 0 before the TCP bind's error is reported.
    private const int MaxPortAttempts = 20;

    private static Socket BindUdp(IPEndPoint listen)
    {
        var udp = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            udp.Bind(listen);
        }
        catch
        {
            udp.Dispose();
            throw;
        }
        return udp;
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse }) return true;
            if (x.GetType().Name == "AddressInUseException") return true;
        }
        return false;
    }

    /// <summary>The UDP address and port actually bound (the HTTP endpoint has the same port number).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Requests answered so far.</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Datagrams refused as malformed so far.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The body the HTTP endpoint answers at <paramref name="unixMicroseconds"/>: ISO 8601 UTC with milliseconds.</summary>
    public static string IsoTime(long unixMicroseconds) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixMicroseconds * 10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _http?.Dispose();
        try
        {
            _udpLoop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // The loops end with the closed sockets' errors: nothing to report.
        }
        _stop.Dispose();
    }

    private async Task ServeUdpAsync()
    {
        var buffer = new byte[1500];
        var reply = new byte[ClockPacket.Size];
        var any = new IPEndPoint(LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            var t1 = _clock.Now().UnixMicroseconds;
            if (!ClockPacket.TryRead(buffer.AsSpan(0, r.ReceivedBytes), out var request, out _) || request.Type != ClockPacketType.Request)
            {
                Interlocked.Increment(ref _refused);
                continue;
            }
            var t2 = _clock.Now().UnixMicroseconds;
            new ClockPacket(ClockPacketType.Response, request.Sequence, request.T0, t1, t2).Write(reply);
            try
            {
                _udp.SendTo(reply, r.RemoteEndPoint);
                Interlocked.Increment(ref _answered);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The client is unreachable or the server is stopping: UDP allows the loss.
            }
        }
    }

    private Task ServeHttpAsync(HttpContext context)
    {
        var response = context.Response;
        var body = Encoding.ASCII.GetBytes(IsoTime(_clock.Now().UnixMicroseconds));
        response.ContentType = "text/plain; charset=us-ascii";
        response.Headers.CacheControl = "no-store";
        // Browser players fetch UTCTiming from other origins.
        response.Headers.AccessControlAllowOrigin = "*";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}
