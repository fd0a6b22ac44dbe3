using System.Net;
using System.Net.Sockets;

namespace CatEvening.Tests.Shared;

/// <summary>
/// A TCP server on a fixed loopback port that records every connection's bytes as one output session; it can drop the
/// connection (a reset) and stop listening, then listen again on the same port.
/// </summary>
public sealed class TcpSessionSink : IDisposable
{
    private readonly int _port = NginxRtmp.FreeTcpPort();
    private readonly List<(MemoryStream Bytes, bool Complete)> _sessions = [];
    private TcpListener? _listener;
    private TcpClient? _current;

    public TcpSessionSink() => Reopen();

    public string Url => $"tcp://127.0.0.1:{_port}";

    public int Sessions
    {
        get
        {
            lock (_sessions) return _sessions.Count;
        }
    }

    public bool IsComplete(int session)
    {
        lock (_sessions) return _sessions[session].Complete;
    }

    public byte[] Session(int session)
    {
        lock (_sessions) return _sessions[session].Bytes.ToArray();
    }

    public void Reopen()
    {
        var listener = new TcpListener(IPAddress.Loopback, _port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        // A thread of its own, not the thread pool: the kernel completes a connection as soon as it arrives, so a writer
        // may be well into its stream before a starved pool ran an accept; a Drop before the accept would then reset a
        // connection the sink never recorded (CI, a loaded 2-core machine: "1 session" after a drop and a resume).
        new Thread(() => Accept(listener)) { IsBackground = true, Name = "TcpSessionSink accept" }.Start();
    }

    // Stops listening (reconnects are refused) and resets the current connection (the next write fails).
    public void Drop()
    {
        _listener?.Stop();
        _listener = null;
        TcpClient? current;
        lock (_sessions) current = _current;
        if (current is null) return;
        current.LingerState = new LingerOption(true, 0);
        current.Close();
    }

    private void Accept(TcpListener listener)
    {
        try
        {
            while (true)
            {
                var client = listener.AcceptTcpClient();
                int index;
                lock (_sessions)
                {
                    _current = client;
                    _sessions.Add((new MemoryStream(), false));
                    index = _sessions.Count - 1;
                }
                new Thread(() => Collect(client, index)) { IsBackground = true, Name = "TcpSessionSink read" }.Start();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Stopped listening.
        }
    }

    private void Collect(TcpClient client, int index)
    {
        var buffer = new byte[65536];
        try
        {
            var stream = client.GetStream();
            int n;
            while ((n = stream.Read(buffer)) > 0)
                lock (_sessions) _sessions[index].Bytes.Write(buffer, 0, n);
            lock (_sessions) _sessions[index] = (_sessions[index].Bytes, true);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Dropped by the test.
        }
    }

    public void Dispose()
    {
        _listener?.Stop();
        lock (_sessions) _current?.Dispose();
    }
}
