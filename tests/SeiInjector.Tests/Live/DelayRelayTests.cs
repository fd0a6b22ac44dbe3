using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The user-space relays add the delay they are asked for and pass the data on intact.</summary>
[TestFixture]
public class DelayRelayTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(150);

    [Test]
    public async Task TcpRelay_HoldsEveryByteBackTheDelay_AndKeepsOrderAndHalfClose()
    {
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        using var relay = new TcpDelayRelay((IPEndPoint)target.LocalEndpoint, Delay);
        var payload = new byte[256 * 1024];
        new Random(7).NextBytes(payload);

        using var client = new TcpClient();
        await client.ConnectAsync(relay.LocalEndPoint);
        using var far = await target.AcceptTcpClientAsync();
        var sent = Stopwatch.GetTimestamp();
        await client.GetStream().WriteAsync(payload);
        client.Client.Shutdown(SocketShutdown.Send);

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        TimeSpan? firstByte = null;
        int n;
        while ((n = await far.GetStream().ReadAsync(buffer)) > 0)
        {
            firstByte ??= Stopwatch.GetElapsedTime(sent);
            received.Write(buffer, 0, n);
        }

        Assert.Multiple(() =>
        {
            Assert.That(firstByte, Is.GreaterThanOrEqualTo(Delay), "the first byte came through early");
            Assert.That(received.ToArray(), Is.EqualTo(payload), "bytes lost, changed or reordered");
            Assert.That(relay.ConnectionCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task TcpRelay_ReplyPath_IsDelayedToo()
    {
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        using var relay = new TcpDelayRelay((IPEndPoint)target.LocalEndpoint, Delay);
        using var client = new TcpClient();
        await client.ConnectAsync(relay.LocalEndPoint);
        using var far = await target.AcceptTcpClientAsync();

        var sent = Stopwatch.GetTimestamp();
        await client.GetStream().WriteAsync(new byte[] { 42 });
        var buffer = new byte[1];
        await far.GetStream().ReadExactlyAsync(buffer);
        await far.GetStream().WriteAsync(buffer);
        await client.GetStream().ReadExactlyAsync(buffer);
        var roundTrip = Stopwatch.GetElapsedTime(sent);

        Assert.Multiple(() =>
        {
            Assert.That(buffer[0], Is.EqualTo(42));
            Assert.That(roundTrip, Is.GreaterThanOrEqualTo(2 * Delay));
        });
    }

    [Test]
    public async Task TcpRelay_DropConnections_EndsTheClientsStream()
    {
        using var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        using var relay = new TcpDelayRelay((IPEndPoint)target.LocalEndpoint, TimeSpan.Zero);
        using var client = new TcpClient();
        await client.ConnectAsync(relay.LocalEndPoint);
        using var far = await target.AcceptTcpClientAsync();

        relay.DropConnections();

        int read;
        try
        {
            read = await client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            read = 0;
        }
        Assert.That(read, Is.Zero, "a dropped link must end the client's stream");
    }

    [Test]
    public void UdpRelay_DelaysEachDatagramWithinDelayPlusMinusJitter_AndRelaysReplies()
    {
        var jitter = TimeSpan.FromMilliseconds(40);
        using var target = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var relay = new UdpDelayRelay((IPEndPoint)target.Client.LocalEndPoint!, Delay, jitter, seed: 3);
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        target.Client.ReceiveTimeout = 10_000;
        client.Client.ReceiveTimeout = 10_000;

        const int count = 40;
        var sentAt = new long[count];
        for (var i = 0; i < count; i++)
        {
            sentAt[i] = Stopwatch.GetTimestamp();
            client.Send(BitConverter.GetBytes(i), relay.LocalEndPoint);
        }

        var order = new List<int>();
        var delays = new List<TimeSpan>();
        var from = new IPEndPoint(IPAddress.Any, 0);
        for (var i = 0; i < count; i++)
        {
            var index = BitConverter.ToInt32(target.Receive(ref from));
            delays.Add(Stopwatch.GetElapsedTime(sentAt[index]));
            order.Add(index);
        }
        target.Send([7], from);
        var reply = client.Receive(ref from);

        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, count)), "every datagram arrives once");
            // Sent back to back, 40 datagrams each drawn ±40 ms: the seeded draws reorder them however the relay's
            // reads are spread by the scheduler (they would have to come ~80 ms apart each to stay in order).
            Assert.That(order, Is.Not.Ordered, "a jitter wider than the spacing reorders datagrams");
            Assert.That(delays, Has.All.GreaterThanOrEqualTo(Delay - jitter));
            Assert.That(delays.Max(), Is.GreaterThan(Delay), "the jitter goes both ways");
            Assert.That(reply, Is.EqualTo(new byte[] { 7 }));
            Assert.That(relay.DatagramCount, Is.EqualTo(count + 1));
        });
    }
}
