using System.Globalization;
using System.Net;
using System.Net.Http;
using CatEvening.ClockSync;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Clock;

[TestFixture]
public sealed class ClockTests
{
    /// <summary>The host clock moved by a known amount: the "truth" a client must find.</summary>
    private sealed class ShiftedClock(long shiftMicroseconds) : IClockSource
    {
        public ClockReading Now() => new(HostClock.Instance.Now().UnixMicroseconds + shiftMicroseconds, 0);
    }

    private const long ShiftMicroseconds = 1_234_567;

    [Test]
    public void Packet_RoundTrips()
    {
        var packet = new ClockPacket(ClockPacketType.Response, ulong.MaxValue, 1, long.MaxValue, -5);
        var bytes = new byte[ClockPacket.Size];
        packet.Write(bytes);
        Assert.Multiple(() =>
        {
            Assert.That(bytes.AsSpan(0, 6).ToArray(), Is.EqualTo(new byte[] { (byte)'C', (byte)'E', (byte)'C', (byte)'K', 1, 2 }));
            Assert.That(ClockPacket.TryRead(bytes, out var back, out _), Is.True);
            Assert.That(back, Is.EqualTo(packet));
        });
    }

    [TestCase(0, 0, "expected 40")]
    [TestCase(39, -1, "expected 40")]
    [TestCase(40, 0, "magic")]
    [TestCase(40, 4, "byte 4: version")]
    [TestCase(40, 5, "byte 5: type")]
    public void Packet_Malformed_IsRefusedNamingTheField(int length, int corrupt, string reason)
    {
        var bytes = new byte[ClockPacket.Size];
        new ClockPacket(ClockPacketType.Request, 7, 8, 0, 0).Write(bytes);
        if (corrupt >= 0 && corrupt < length) bytes[corrupt] ^= 0x55;
        Assert.Multiple(() =>
        {
            Assert.That(ClockPacket.TryRead(bytes.AsSpan(0, length), out _, out var error), Is.False);
            Assert.That(error, Does.Contain(reason));
        });
    }

    [Test]
    public async Task Query_ThroughRelayWith50msPlusMinus30msJitter_FindsTheOffsetWithin3msAfter32Samples()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds), http: false);
        using var relay = new UdpDelayRelay(server.LocalEndPoint, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(30), seed: 6);
        using var client = new ClockClient(relay.LocalEndPoint);
        var result = await client.QueryAsync(32, TimeSpan.Zero, TimeSpan.FromSeconds(1), CancellationToken.None);
        var truth = ShiftMicroseconds / 1000.0;
        var error = result.OffsetMilliseconds - truth;
        var singleError = result.SingleOffsetMilliseconds - truth;
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"32 samples: offset error {error:+0.000;-0.000} ms, uncertainty ±{result.UncertaintyMilliseconds:0.000} ms, min rtt {result.RoundTripMilliseconds:0.0} ms, used {result.SamplesUsed}/{result.Samples}; " +
            $"one exchange: offset error {singleError:+0.000;-0.000} ms, uncertainty ±{result.SingleUncertaintyMilliseconds:0.000} ms, rtt {result.SingleRoundTripMilliseconds:0.0} ms"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Samples, Is.EqualTo(32));
            Assert.That(Math.Abs(error), Is.LessThan(3.0));
            Assert.That(Math.Abs(error), Is.LessThanOrEqualTo(result.UncertaintyMilliseconds + 0.001), "the truth lies inside the reported interval");
            // The hard bound cannot shrink below half the fastest round trip (20 ms each way here): the path could be
            // asymmetric for all any two-way exchange can tell. It still halves what one exchange can promise.
            Assert.That(result.UncertaintyMilliseconds, Is.LessThan(result.SingleUncertaintyMilliseconds / 2));
            Assert.That(result.RoundTripMilliseconds, Is.GreaterThanOrEqualTo(40).And.LessThan(60));
        });
    }

    [Test]
    public async Task Http_AnswersTheServersUtcTimeInIsoForm()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds));
        using var http = new HttpClient();
        var before = DateTimeOffset.UtcNow;
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{server.LocalEndPoint.Port}/"));
        var after = DateTimeOffset.UtcNow;
        var body = await response.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(body, Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"));
            var told = DateTimeOffset.ParseExact(body, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.That(told, Is.InRange(before.AddTicks(ShiftMicroseconds * 10).AddMilliseconds(-1), after.AddTicks(ShiftMicroseconds * 10)));
            Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        });
    }

    [Test]
    public async Task SyncedClock_ReadsTheServersTime_WithinItsUncertainty()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds), http: false);
        using var clock = await SyncedClock.StartAsync(server.LocalEndPoint, 8, TimeSpan.FromMilliseconds(100), CancellationToken.None);
        var local = HostClock.Instance.Now().UnixMicroseconds;
        var reading = clock.Now();
        var error = reading.UnixMicroseconds - local - ShiftMicroseconds;
        Assert.Multiple(() =>
        {
            Assert.That(Math.Abs(error), Is.LessThanOrEqualTo(reading.UncertaintyMicroseconds + 100), "100 µs for the two reads of the host clock");
            Assert.That(reading.UncertaintyMicroseconds, Is.LessThan(2000));
        });
    }

    [Test]
    public void Query_OfAServerThatNeverAnswers_GivesUpAfterFiveRequests()
    {
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new ClockClient((IPEndPoint)silent.LocalEndPoint!);
        var e = Assert.ThrowsAsync<TimeoutException>(() => client.QueryAsync(32, TimeSpan.Zero, TimeSpan.FromMilliseconds(100), CancellationToken.None));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("after 5 requests"));
            Assert.That(client.Lost, Is.EqualTo(5));
        });
    }

    [Test]
    public void Server_RefusesMalformedDatagrams_AndKeepsAnswering()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), HostClock.Instance, http: false);
        using var udp = new System.Net.Sockets.UdpClient();
        udp.Connect(server.LocalEndPoint);
        udp.Send(new byte[40]);
        udp.Send(new byte[3]);
        using var client = new ClockClient(server.LocalEndPoint);
        var exchange = client.ExchangeAsync(TimeSpan.FromSeconds(2), CancellationToken.None).GetAwaiter().GetResult();
        Assert.Multiple(() =>
        {
            Assert.That(exchange, Is.Not.Null);
            Assert.That(server.Refused, Is.EqualTo(2));
        });
    }
}
