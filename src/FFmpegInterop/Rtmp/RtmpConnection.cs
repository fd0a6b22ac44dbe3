using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// One RTMP client connection over a blocking TCP socket (RTMP specification 1.0): the simple handshake (section 5.2),
/// the chunk stream both ways, the protocol control messages (Set Chunk Size, Abort, Acknowledgement, Window
/// Acknowledgement Size, User Control ping) and AMF0 commands. Reads go through one 64 KiB buffer, so a burst of chunks
/// costs one <c>recv</c>; a message goes out in one <c>send</c>. FFmpeg's protocol, by comparison, polls before every
/// read and write and reads each chunk header and body separately (about 22 system calls per media packet against 2-3
/// here).
/// </summary>
/// <remarks>Blocking calls wait in slices of <see cref="WaitSlice"/> and between slices ask the owner's
/// <see cref="InterruptGuard"/> whether to stop (an I/O timeout or a cancel), which ends the call with
/// <see cref="AvError.Exit"/> as FFmpeg's interrupt callback would. Every <c>recv</c> or <c>send</c> that moves bytes
/// re-arms the guard: the timeout is "no progress for that long", as FFmpeg's <c>rw_timeout</c>.</remarks>
internal sealed class RtmpConnection : IDisposable
{
    /// <summary>The chunk size this client sends with (as OBS and FFmpeg after nginx-rtmp's answer).</summary>
    public const int OutChunkSize = 4096;

    /// <summary>How long one blocking socket call waits before the interrupt is asked again.</summary>
    public static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(200);

    internal const int CommandChunkStream = 3;   // FFmpeg's RTMP_SYSTEM_CHANNEL
    internal const int AudioChunkStream = 4;     // RTMP_AUDIO_CHANNEL
    internal const int VideoChunkStream = 6;     // RTMP_VIDEO_CHANNEL
    internal const int SourceChunkStream = 8;    // RTMP_SOURCE_CHANNEL: play and publish
    private const int ControlChunkStream = 2;

    private readonly Socket _socket;
    private readonly InterruptGuard _interrupt;
    private readonly RtmpChunkDecoder _decoder = new();
    private readonly byte[] _receive = new byte[64 * 1024];
    private int _receiveStart;
    private int _receiveEnd;
    private byte[] _send = new byte[16 * 1024];
    private readonly byte[] _control = new byte[64];
    private uint _bytesReceived;
    private uint _bytesAcknowledged;
    private uint _windowSize = 2_500_000;   // until the server sets its window (FFmpeg's default server_bw)

    private RtmpConnection(Socket socket, InterruptGuard interrupt, string url)
    {
        _socket = socket;
        _interrupt = interrupt;
        Url = url;
    }

    /// <summary>The URL, for messages.</summary>
    public string Url { get; }

    /// <summary>The AMF0 writer for building commands (reused).</summary>
    public Amf0Writer Amf { get; } = new();

    /// <summary>Connects over TCP and does the handshake (section 5.2.5: C0+C1, S0+S1+S2, C2).</summary>
    /// <exception cref="RtmpException">Unresolvable host, refused or timed-out connection, a handshake the server breaks off.</exception>
    public static RtmpConnection Open(RtmpUrl url, InterruptGuard interrupt, string urlText)
    {
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.Host, out var literal) ? [literal] : Dns.GetHostAddresses(url.Host);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            throw new RtmpException($"cannot resolve {url.Host}: {e.Message}", e is ArgumentException ? AvError.InvalidArgument : AvError.InputOutput, e);
        }
        if (addresses.Length == 0) throw new RtmpException($"cannot resolve {url.Host}", AvError.InputOutput);
        RtmpException? last = null;
        for (var i = 0; i < addresses.Length; i++)
        {
            // Every address but the last gets at most AddressAttempt, so one that drops SYNs (an IPv6 route that goes
            // nowhere) does not use up the whole I/O timeout before the next is tried.
            var limit = i < addresses.Length - 1 ? AddressAttempt : (TimeSpan?)null;
            Socket? socket = null;
            try
            {
                socket = new Socket(addresses[i].AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                ConnectWithin(socket, new IPEndPoint(addresses[i], url.Port), interrupt, limit);
                socket.ReceiveTimeout = (int)WaitSlice.TotalMilliseconds;
                socket.SendTimeout = (int)WaitSlice.TotalMilliseconds;
                var connection = new RtmpConnection(socket, interrupt, urlText);
                connection.Handshake();
                return connection;
            }
            catch (RtmpException e) when (e.ErrorCode != AvError.Exit)
            {
                socket?.Dispose();
                last = e;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                socket?.Dispose();
                last = new RtmpException($"{e.Message} (connecting to {addresses[i]}:{url.Port})", e is SocketException se ? AvError.FromSocketError(se.SocketErrorCode) : AvError.InputOutput, e);
            }
            catch
            {
                socket?.Dispose();
                throw;
            }
        }
        throw last!;
    }

    /// <summary>
    /// Connects (<see cref="Open(RtmpUrl, InterruptGuard, string)"/>), makes the session over the connection and starts it;
    /// a session that fails to start is disposed (its goodbye said, the socket closed) before the failure goes on.
    /// </summary>
    public static TSession OpenSession<TSession>(RtmpUrl url, InterruptGuard interrupt, string urlText,
        Func<RtmpConnection, TSession> create, Action<TSession> start) where TSession : IDisposable
    {
        var session = create(Open(url, interrupt, urlText));
        try
        {
            start(session);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The longest a connect to one of several addresses of a host may take before the next is tried.</summary>
    public static readonly TimeSpan AddressAttempt = TimeSpan.FromSeconds(2);

    // A blocking connect: the socket must never be switched to non-blocking mode, or .NET moves every later call on it
    // to its epoll engine (a recv that fails with EAGAIN, then a wait for the epoll thread: four system calls and two
    // context switches instead of one recv). A stop (timeout, cancel) or the per-address limit closes the socket, which
    // ends the wait (Linux; elsewhere the system's own connect timeout may come first).
    private static void ConnectWithin(Socket socket, IPEndPoint endpoint, InterruptGuard interrupt, TimeSpan? limit)
    {
        var gate = new object();
        var done = false;
        var overdue = false;
        var deadline = limit is { } l ? Environment.TickCount64 + (long)l.TotalMilliseconds : long.MaxValue;
        using var watch = new Timer(_ =>
        {
            lock (gate)
            {
                if (done) return;
                overdue = Environment.TickCount64 >= deadline;
                if (overdue || interrupt.StopRequested) socket.Dispose();
            }
        }, null, WaitSlice, WaitSlice);
        try
        {
            socket.Connect(endpoint);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            lock (gate) done = true;
            if (interrupt.StopRequested) throw new RtmpException($"stopped (connecting to {endpoint})", AvError.Exit, e);
            if (overdue) throw new RtmpException($"no answer in {limit!.Value.TotalSeconds:0.#} s (connecting to {endpoint})", AvError.FromSocketError(SocketError.TimedOut), e);
            var code = e is SocketException se ? se.SocketErrorCode : SocketError.OperationAborted;
            throw new RtmpException($"{e.Message} (connecting to {endpoint})", AvError.FromSocketError(code), e);
        }
        // Under the gate: a watch callback running now finishes before the socket is handed on, and none acts after.
        lock (gate) done = true;
    }

    private void Handshake()
    {
        // C0 (version 3) and C1: time 0, four zero bytes (the pre-digest handshake every server accepts), 1528 random bytes.
        var c0c1 = new byte[1537];
        c0c1[0] = 3;
        Random.Shared.NextBytes(c0c1.AsSpan(9));
        Send(c0c1);
        Fill(1 + 1536);
        if (_receive[_receiveStart] != 3)
            throw new RtmpException($"handshake: the server answered RTMP version {_receive[_receiveStart]}, not 3", AvError.InvalidData);
        // C2 echoes S1.
        Send(_receive.AsSpan(_receiveStart + 1, 1536));
        _receiveStart += 1 + 1536;
        Fill(1536);
        _receiveStart += 1536;
        SendControl(RtmpMessageType.SetChunkSize, OutChunkSize);
    }

    /// <summary>Sends an AMF0 command built in <see cref="Amf"/> on <paramref name="chunkStreamId"/>.</summary>
    public void SendCommand(uint streamId = 0, int chunkStreamId = CommandChunkStream) =>
        SendMessage(chunkStreamId, RtmpMessageType.CommandAmf0, 0, streamId, default, Amf.Written);

    /// <summary>Sends a User Control message (section 7.1.7): an event type and its 32-bit arguments.</summary>
    public void SendUserControl(ushort eventType, uint first, uint? second = null)
    {
        Span<byte> body = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(body, eventType);
        BinaryPrimitives.WriteUInt32BigEndian(body[2..], first);
        var length = 6;
        if (second is { } value)
        {
            BinaryPrimitives.WriteUInt32BigEndian(body[6..], value);
            length = 10;
        }
        SendMessage(ControlChunkStream, RtmpMessageType.UserControl, 0, 0, default, body[..length]);
    }

    private void SendControl(byte type, uint value)
    {
        Span<byte> body = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(body, value);
        SendMessage(ControlChunkStream, type, 0, 0, default, body);
    }

    /// <summary>Sends one message in one <c>send</c> (chunked by <see cref="OutChunkSize"/>), body <paramref name="prefix"/> then <paramref name="body"/>.</summary>
    /// <exception cref="RtmpException">The connection failed or the interrupt stopped the write.</exception>
    public void SendMessage(int chunkStreamId, byte type, uint timestamp, uint streamId, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body)
    {
        var length = RtmpChunkEncoder.EncodedLength(chunkStreamId, timestamp, prefix.Length + body.Length, OutChunkSize);
        if (_send.Length < length) _send = new byte[Math.Max(length, _send.Length * 2)];
        var written = RtmpChunkEncoder.Encode(_send, chunkStreamId, type, timestamp, streamId, prefix, body, OutChunkSize);
        Send(_send.AsSpan(0, written));
    }

    private void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            // As FFmpeg asks its interrupt before every write: a link that still takes bytes slowly is given up at the
            // deadline too.
            if (_interrupt.StopRequested) throw new RtmpException("stopped", AvError.Exit);
            var sent = _socket.Send(data, SocketFlags.None, out var error);
            if (sent > 0)
            {
                data = data[sent..];
                _interrupt.Arm();
            }
            if (error is SocketError.Success) continue;
            if (error is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                if (_interrupt.StopRequested) throw new RtmpException("stopped", AvError.Exit);
                continue;
            }
            throw new RtmpException(new SocketException((int)error).Message, AvError.FromSocketError(error));
        }
    }

    /// <summary>
    /// Reads the next message that is not protocol control (those are answered here: chunk size, abort, window, ping),
    /// blocking until one is complete.
    /// </summary>
    /// <exception cref="RtmpException">The server closed the connection (<see cref="AvError.InputOutput"/>, as FFmpeg), a
    /// socket error, a malformed chunk stream, or the interrupt stopped the read.</exception>
    public RtmpMessage Receive()
    {
        while (true)
        {
            if (TryReceiveBuffered(out var message)) return message;
            ReceiveSome();
        }
    }

    /// <summary>
    /// As <see cref="Receive"/>, but only what has already arrived: answers control messages and returns the first
    /// other message, or false when nothing complete is waiting (one <c>ioctl</c> to see, no blocking).
    /// </summary>
    public bool TryReceiveWaiting(out RtmpMessage message)
    {
        while (true)
        {
            if (TryReceiveBuffered(out message)) return true;
            if (_socket.Available == 0) return false;
            ReceiveSome();
        }
    }

    /// <summary>
    /// Throws when the server has closed the connection or it failed, found without waiting (one <c>poll</c> with no
    /// timeout): a socket that polls readable with no byte to read is at its end (RFC 9293 section 3.6, the peer's FIN)
    /// or holds an error (a reset). Bytes that are waiting are left for the next read.
    /// </summary>
    /// <exception cref="RtmpException">The server closed the connection (<see cref="AvError.InputOutput"/>) or the socket's error.</exception>
    public void ThrowIfClosed()
    {
        if (!_socket.Poll(0, SelectMode.SelectRead) || _socket.Available > 0) return;
        // Readable with nothing to read: this recv returns 0 (closed) or the error, and ReceiveSome throws either.
        ReceiveSome();
    }

    /// <summary>True when a short message can be sent now without waiting (one <c>poll</c>, no timeout): the socket's send
    /// buffer has room.</summary>
    /// <exception cref="SocketException">The socket failed.</exception>
    public bool CanSendNow => _socket.Poll(0, SelectMode.SelectWrite);

    private bool TryReceiveBuffered(out RtmpMessage message)
    {
        while (true)
        {
            var offset = _receiveStart;
            var complete = _decoder.TryDecode(_receive.AsSpan(0, _receiveEnd), ref offset, out message);
            _receiveStart = offset;
            if (!complete) return false;
            // By type alone, as FFmpeg dispatches (a server may send control messages with a stream id).
            if (HandleControl(message)) continue;
            return true;
        }
    }

    // Section 5.4 and 7.1.7: true when the message was protocol control and is dealt with.
    private bool HandleControl(RtmpMessage message)
    {
        var body = message.Payload;
        switch (message.Type)
        {
            case RtmpMessageType.SetChunkSize when body.Length >= 4:
                _decoder.ChunkSize = (int)(BinaryPrimitives.ReadUInt32BigEndian(body) & 0x7FFFFFFF);
                return true;
            case RtmpMessageType.Abort when body.Length >= 4:
                _decoder.Abort((int)BinaryPrimitives.ReadUInt32BigEndian(body));
                return true;
            case RtmpMessageType.WindowAcknowledgementSize when body.Length >= 4:
                _windowSize = Math.Max(1u, BinaryPrimitives.ReadUInt32BigEndian(body));
                return true;
            case RtmpMessageType.Acknowledgement or RtmpMessageType.SetPeerBandwidth:
                return true;
            case RtmpMessageType.UserControl when body.Length >= 6:
                // Ping request (event 6): answer with a ping response (event 7) carrying the same time.
                if (BinaryPrimitives.ReadUInt16BigEndian(body) == 6) SendUserControl(7, BinaryPrimitives.ReadUInt32BigEndian(body[2..]));
                return true;
            case RtmpMessageType.UserControl:
                return true;
            default:
                return false;
        }
    }

    // Reads what the socket has (at least one byte), moving unread bytes to the buffer's start first.
    private void ReceiveSome()
    {
        if (_receiveStart > 0)
        {
            _receive.AsSpan(_receiveStart, _receiveEnd - _receiveStart).CopyTo(_receive);
            _receiveEnd -= _receiveStart;
            _receiveStart = 0;
        }
        while (true)
        {
            if (_interrupt.StopRequested) throw new RtmpException("stopped", AvError.Exit);
            var count = _socket.Receive(_receive.AsSpan(_receiveEnd), SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                if (count == 0) throw new RtmpException("the server closed the connection", AvError.InputOutput);
                // Bytes arrived: the I/O timeout counts from here (no progress for that long), as FFmpeg's rw_timeout
                // counts per socket operation. Without it, a demuxer call that reads a lot (the stream probe of an open)
                // would be stopped while data still flows.
                _interrupt.Arm();
                _receiveEnd += count;
                _bytesReceived += (uint)count;
                // At half the window, as FFmpeg: the acknowledgement reaches a server that waits for it in time.
                if (_bytesReceived - _bytesAcknowledged >= _windowSize / 2)
                {
                    _bytesAcknowledged = _bytesReceived;
                    SendControl(RtmpMessageType.Acknowledgement, _bytesReceived);
                }
                return;
            }
            if (error is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                if (_interrupt.StopRequested) throw new RtmpException("stopped", AvError.Exit);
                continue;
            }
            throw new RtmpException(new SocketException((int)error).Message, AvError.FromSocketError(error));
        }
    }

    // Blocks until at least count bytes are buffered (the handshake's fixed-size answers).
    private void Fill(int count)
    {
        while (_receiveEnd - _receiveStart < count) ReceiveSome();
    }

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();
}
