using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CatEvening.Tests.Shared;

/// <summary>
/// Runs actions at given <see cref="Stopwatch"/> timestamps on one dedicated thread, earliest first (ties in the
/// order they were scheduled). The kernel here has no <c>netem</c>, so the relays below delay traffic with this.
/// </summary>
internal sealed class DelayLine : IDisposable
{
    private readonly PriorityQueue<Action, (long Due, long Order)> _queue = new();
    private readonly Thread _thread;
    private long _order;
    private bool _disposed;

    public DelayLine(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> once <see cref="Stopwatch.GetTimestamp"/> reaches <paramref name="due"/>.</summary>
    public void Schedule(long due, Action action)
    {
        lock (_queue)
        {
            if (_disposed) return;
            _queue.Enqueue(action, (due, _order++));
            Monitor.Pulse(_queue);
        }
    }

    public void Dispose()
    {
        lock (_queue)
        {
            _disposed = true;
            Monitor.Pulse(_queue);
        }
        _thread.Join();
    }

    private void Run()
    {
        while (true)
        {
            Action action;
            lock (_queue)
            {
                while (true)
                {
                    if (_disposed) return;
                    if (_queue.TryPeek(out _, out var key))
                    {
                        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), key.Due);
                        if (wait <= TimeSpan.Zero) break;
                        Monitor.Wait(_queue, wait);
                    }
                    else
                    {
                        Monitor.Wait(_queue);
                    }
                }
                action = _queue.Dequeue();
            }
            action();
        }
    }
}

/// <summary>
/// A user-space TCP relay on a free loopback port that holds every byte back a fixed <see cref="Delay"/> in each
/// direction before passing it on to <see cref="Target"/> (or back to the client): a long network path without
/// <c>netem</c>. Order is kept; a half-close is passed on after the same delay. <see cref="DropConnections"/> cuts every
/// open connection at once (a link drop).
/// </summary>
public sealed class TcpDelayRelay : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _acceptLoop;
    private long _delayTicks;

    /// <summary>Starts relaying connections to <paramref name="target"/> with <paramref name="delay"/> each way.</summary>
    public TcpDelayRelay(IPEndPoint target, TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Target = target;
        Delay = delay;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        LocalEndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptLoop();
    }

    /// <summary>Where the relay forwards each connection.</summary>
    public IPEndPoint Target { get; }

    /// <summary>The loopback address and port clients connect to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Delay added to each direction; may be changed while running (applies to bytes read afterwards).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Interlocked.Exchange(ref _delayTicks, value.Ticks);
        }
    }

    /// <summary>Number of connections accepted so far.</summary>
    public int ConnectionCount { get; private set; }

    /// <summary>Closes every open connection at once, both sides, without passing on data still held back.</summary>
    public void DropConnections()
    {
        lock (_sockets)
        {
            foreach (var s in _sockets)
            {
                s.LingerState = new LingerOption(true, 0);
                s.Dispose();
            }
            _sockets.Clear();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        DropConnections();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's own cancellation error: nothing to report.
        }
        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            ConnectionCount++;
            _ = Task.Run(() => Relay(client));
        }
    }

    private async Task Relay(Socket client)
    {
        var server = new Socket(Target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }
        try
        {
            await server.ConnectAsync(Target, _stop.Token).ConfigureAwait(false);
            await Task.WhenAll(Pump(client, server), Pump(server, client)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The far side went away or the link was dropped: close both ends below.
        }
        finally
        {
            lock (_sockets)
            {
                _sockets.Remove(client);
                _sockets.Remove(server);
            }
            client.Dispose();
            server.Dispose();
        }
    }

    // Reads as fast as the sender writes, stamps each chunk with its due time, and a second loop writes it when due,
    // so the delay does not slow the stream down (bandwidth is kept, only latency is added).
    private async Task Pump(Socket from, Socket to)
    {
        var held = Channel.CreateUnbounded<(long Due, byte[]? Data)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = WriteWhenDue(held.Reader, to);
        try
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                var due = Stopwatch.GetTimestamp() + (long)(Delay.TotalSeconds * Stopwatch.Frequency);
                if (n == 0)
                {
                    held.Writer.TryWrite((due, null));
                    break;
                }
                held.Writer.TryWrite((due, buffer.AsSpan(0, n).ToArray()));
            }
        }
        finally
        {
            held.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    private async Task WriteWhenDue(ChannelReader<(long Due, byte[]? Data)> held, Socket to)
    {
        await foreach (var (due, data) in held.ReadAllAsync(_stop.Token).ConfigureAwait(false))
        {
            // Task.Delay counts whole milliseconds: round up and check again, so nothing leaves early.
            TimeSpan wait;
            while ((wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due)) > TimeSpan.Zero)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _stop.Token).ConfigureAwait(false);
            if (data is null)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }
            await to.SendAsync(data, SocketFlags.None, _stop.Token).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// A user-space UDP relay on a free loopback port: each datagram from a client is sent on to <see cref="Target"/>
/// after <see cref="Delay"/> ± a uniformly drawn jitter (so datagrams may be reordered, as on a real path), and each
/// datagram the target sends back goes to the client that last sent one, delayed the same way. The jitter draw is
/// seeded, so a test run can be repeated.
/// </summary>
public sealed class UdpDelayRelay : IDisposable
{
    private readonly Socket _front;
    private readonly Socket _back;
    private readonly DelayLine _line;
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _frontLoop;
    private readonly Task _backLoop;
    private IPEndPoint? _client;
    private long _delayTicks;
    private long _jitterTicks;
    private long _datagrams;

    /// <summary>Starts relaying datagrams to <paramref name="target"/>.</summary>
    /// <param name="target">Where datagrams from clients go.</param>
    /// <param name="delay">Mean one-way delay added to each datagram.</param>
    /// <param name="jitter">Half-width of the uniform jitter around <paramref name="delay"/>; at most <paramref name="delay"/>.</param>
    /// <param name="seed">Seed of the jitter draw.</param>
    public UdpDelayRelay(IPEndPoint target, TimeSpan delay, TimeSpan jitter, int seed = 1)
    {
        Target = target;
        SetDelay(delay, jitter);
        _random = new Random(seed);
        _front = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _back = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _back.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        LocalEndPoint = (IPEndPoint)_front.LocalEndPoint!;
        _line = new DelayLine("udp-delay-relay " + LocalEndPoint.Port);
        _frontLoop = Task.Run(FromClients);
        _backLoop = Task.Run(FromTarget);
    }

    /// <summary>Where datagrams from clients go.</summary>
    public IPEndPoint Target { get; }

    /// <summary>The loopback address and port clients send to.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Mean one-way delay.</summary>
    public TimeSpan Delay => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));

    /// <summary>Half-width of the uniform jitter around <see cref="Delay"/>.</summary>
    public TimeSpan Jitter => TimeSpan.FromTicks(Interlocked.Read(ref _jitterTicks));

    /// <summary>Datagrams relayed so far (handed to the socket), both directions.</summary>
    public long DatagramCount => Interlocked.Read(ref _datagrams);

    /// <summary>Changes the delay and jitter for datagrams received from now on.</summary>
    public void SetDelay(TimeSpan delay, TimeSpan jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jitter, delay);
        Interlocked.Exchange(ref _delayTicks, delay.Ticks);
        Interlocked.Exchange(ref _jitterTicks, jitter.Ticks);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _front.Dispose();
        _back.Dispose();
        try
        {
            Task.WaitAll([_frontLoop, _backLoop], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loops end with the disposed sockets' errors: nothing to report.
        }
        _line.Dispose();
        _stop.Dispose();
    }

    private long DueTimestamp()
    {
        double offset;
        lock (_random) offset = (_random.NextDouble() * 2) - 1;
        var seconds = Delay.TotalSeconds + (offset * Jitter.TotalSeconds);
        return Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
    }

    private async Task FromClients()
    {
        var buffer = new byte[64 * 1024];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _front.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            Volatile.Write(ref _client, (IPEndPoint)r.RemoteEndPoint);
            var datagram = buffer.AsSpan(0, r.ReceivedBytes).ToArray();
            _line.Schedule(DueTimestamp(), () => Send(_back, datagram, Target));
        }
    }

    private async Task FromTarget()
    {
        var buffer = new byte[64 * 1024];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _back.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            var client = Volatile.Read(ref _client);
            if (client is null) continue;
            var datagram = buffer.AsSpan(0, r.ReceivedBytes).ToArray();
            _line.Schedule(DueTimestamp(), () => Send(_front, datagram, client));
        }
    }

    private void Send(Socket socket, byte[] datagram, EndPoint to)
    {
        // Counted before sending, so a receiver that got the datagram never sees a count without it.
        Interlocked.Increment(ref _datagrams);
        try
        {
            socket.SendTo(datagram, to);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // The relay is stopping or the receiver is gone: a lost datagram, as UDP allows.
        }
    }
}
