using System;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using CatEvening.SeiReader.Client;

namespace CatEvening.Samples.QuickStart;

/// <summary>
/// The client side of the clock service (`latency-probe clock serve`, UDP): four-timestamp exchanges fed to a
/// <see cref="ServerClock"/>. Datagrams are 40 bytes, integers big-endian, times in µs since the Unix epoch (UTC):
/// "CECK" | version 1 | type (1 request, 2 response) | 0 0 | sequence (u64) | t0 | t1 | t2 (i64 each).
/// The request carries t0 (t1 = t2 = 0); the response echoes sequence and t0 and adds t1 (server receive) and
/// t2 (server send); t3 is the client's receive time.
/// </summary>
public static class UdpTimeClient
{
    /// <summary>Makes <paramref name="exchanges"/> exchanges (blocking: call it off the UI thread) and returns the clock.</summary>
    /// <exception cref="TimeoutException">No valid answer at all.</exception>
    /// <exception cref="SocketException">The host does not resolve or the network refuses.</exception>
    public static ServerClock Sync(string host, int port, int exchanges = 16, int timeoutMilliseconds = 1000)
    {
        var clock = new ServerClock();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = timeoutMilliseconds };
        socket.Connect(host, port);
        var request = new byte[40];
        var response = new byte[64];
        var sequence = (ulong)DateTime.UtcNow.Ticks;
        for (var i = 0; i < exchanges; i++)
        {
            sequence++;
            var t0 = UnixMicrosNow();
            Encoding.ASCII.GetBytes("CECK").CopyTo(request, 0);
            request[4] = 1;
            request[5] = 1;
            BinaryPrimitives.WriteUInt64BigEndian(request.AsSpan(8), sequence);
            BinaryPrimitives.WriteInt64BigEndian(request.AsSpan(16), t0);
            socket.Send(request);
            try
            {
                while (true)
                {
                    var n = socket.Receive(response);
                    var t3 = UnixMicrosNow();
                    if (n != 40 || Encoding.ASCII.GetString(response, 0, 4) != "CECK" || response[4] != 1 || response[5] != 2
                        || BinaryPrimitives.ReadUInt64BigEndian(response.AsSpan(8)) != sequence
                        || BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(16)) != t0)
                        continue;   // an answer to an earlier, timed-out request, or not ours
                    clock.AddExchange(t0, BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(24)),
                        BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(32)), t3);
                    break;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                // Lost: the next exchange tries again.
            }
        }
        if (!clock.IsSynchronized) throw new TimeoutException($"no answer from the clock service at {host}:{port}");
        return clock;
    }

    /// <summary>This device's clock, µs since the Unix epoch (the local side of every exchange).</summary>
    public static long UnixMicrosNow() => (DateTime.UtcNow.Ticks - 621_355_968_000_000_000) / 10;
}
