using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
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

    /// <summary>
    /// End to end through a path of 50 ± 30 ms each way: every exchange's interval holds the truth and so does the
    /// estimate, whatever the scheduler adds to either leg. How close the estimate gets under such jitter is a
    /// property of the estimator and is tested deterministically in ServerClockTests (simulated paths, fixed seeds);
    /// here only what no scheduling delay can break is asserted.
    /// </summary>
    [Test]
    public async Task Query_ThroughRelayWith50msPlusMinus30msJitter_BracketsTheTrueOffset_WithEvery32SamplesAgreeing()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds), http: false);
        using var relay = new UdpDelayRelay(server.LocalEndPoint, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(30), seed: 6);
        using var client = new ClockClient(relay.LocalEndPoint);
        var sinceFirstExchange = Stopwatch.StartNew();
        // 30 s per exchange: an answer is only given up on when something hangs, so every one of the 32 is accepted.
        var result = await client.QueryAsync(32, TimeSpan.Zero, TimeSpan.FromSeconds(30), CancellationToken.None);
        var driftAllowanceMilliseconds = Math.Ceiling(50 * sinceFirstExchange.Elapsed.TotalSeconds) / 1000 + 0.003;
        var truth = ShiftMicroseconds / 1000.0;
        var error = result.OffsetMilliseconds - truth;
        var singleError = result.SingleOffsetMilliseconds - truth;
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"32 samples: offset error {error:+0.000;-0.000} ms, uncertainty ±{result.UncertaintyMilliseconds:0.000} ms, min rtt {result.RoundTripMilliseconds:0.0} ms, used {result.SamplesUsed}/{result.Samples}; " +
            $"one exchange: offset error {singleError:+0.000;-0.000} ms, uncertainty ±{result.SingleUncertaintyMilliseconds:0.000} ms, rtt {result.SingleRoundTripMilliseconds:0.0} ms"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Samples, Is.EqualTo(32));
            Assert.That(result.Lost, Is.Zero);
            Assert.That(Math.Abs(error), Is.LessThanOrEqualTo(result.UncertaintyMilliseconds + 0.002), "the truth lies inside the reported interval");
            Assert.That(Math.Abs(singleError), Is.LessThanOrEqualTo(result.SingleUncertaintyMilliseconds + 0.002), "and inside the first exchange's");
            Assert.That(result.SamplesUsed, Is.EqualTo(32), "every interval holds the truth, so none is an outlier");
            // The relay holds each datagram at least 20 ms, and the intersection spans the fastest leg of each
            // direction: [truth − fastest down, truth + fastest up], so its half-width is at least 20 ms (less 2 µs
            // for the truncation of the timestamps to whole µs).
            Assert.That(result.RoundTripMilliseconds, Is.GreaterThanOrEqualTo(39.998));
            Assert.That(result.UncertaintyMilliseconds, Is.GreaterThanOrEqualTo(19.998));
            // The intersection lies inside the first exchange's interval, widened by the 50 ppm drift allowance.
            Assert.That(result.UncertaintyMilliseconds, Is.LessThanOrEqualTo(result.SingleUncertaintyMilliseconds + driftAllowanceMilliseconds));
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

    // Port 0 picks a port free for both UDP and TCP: when the UDP port the system gave is taken for TCP (any
    // connection's local end may hold it), another is picked. Here the first UDP port handed out is one whose TCP twin
    // a listener holds.
    [Test]
    public async Task PortZero_WhoseTcpTwinIsTaken_PicksAnotherPortForBoth()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var takenPort = ((IPEndPoint)taken.LocalEndpoint).Port;
        var handedOut = new List<int>();
        Socket Bind(IPEndPoint listen)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            // The first one on the taken port (its UDP twin is free unless something else holds it: then plain port 0).
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, handedOut.Count == 0 ? takenPort : 0));
            }
            catch (SocketException)
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            handedOut.Add(((IPEndPoint)udp.LocalEndPoint!).Port);
            return udp;
        }
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds), http: true, Bind);
        using var http = new HttpClient();
        var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.LocalEndPoint.Port}/"));
        Assert.Multiple(() =>
        {
            Assert.That(server.LocalEndPoint.Port, Is.Not.EqualTo(takenPort));
            Assert.That(handedOut[0] != takenPort || handedOut.Count >= 2, Is.True, "the taken port was tried first, then another");
            Assert.That(body, Does.Match(@"^\d{4}-\d\d-\d\dT"));
        });
    }

    /// <summary>
    /// The host clock, remembering per thread the last reading it gave, so a test can learn the exact local instant a
    /// <see cref="SyncedClock"/> reading was made from instead of reading the host clock again around it (two reads
    /// are as far apart as the scheduler decides: milliseconds on a loaded machine).
    /// </summary>
    private sealed class RecordingHostClock : IClockSource
    {
        [ThreadStatic]
        private static long t_last;

        public static long LastOnThisThread => t_last;

        public ClockReading Now()
        {
            var reading = HostClock.Instance.Now();
            t_last = reading.UnixMicroseconds;
            return reading;
        }
    }

    [Test]
    public async Task SyncedClock_ReadsTheServersTime_WithinItsUncertainty()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(ShiftMicroseconds), http: false);
        var local = new RecordingHostClock();
        var sinceFirstExchange = Stopwatch.StartNew();
        // An hour between background exchanges: none lands during the test, so the estimate read back below is the
        // one the reading was made from.
        using var clock = await SyncedClock.StartAsync(server.LocalEndPoint, 8, TimeSpan.FromHours(1), CancellationToken.None, local);
        var reading = clock.Now();
        var usedLocal = RecordingHostClock.LastOnThisThread;
        var maxAgeMicroseconds = sinceFirstExchange.Elapsed.Ticks / 10 + 1;
        var estimate = clock.Client.Clock.GetEstimate(usedLocal);
        // The server's clock is this host's plus the shift, so the truth at the local instant the reading was made
        // from is known exactly, and every exchange's interval contains it whatever the scheduler did to either leg:
        // so does their intersection. 2 µs: the tick-to-µs truncation of the timestamps and the rounding to whole µs.
        var error = reading.UnixMicroseconds - usedLocal - ShiftMicroseconds;
        // The intersection is no wider than the fastest exchange's own interval (half its round trip) widened by the
        // 50 ppm drift allowance for its age (3 µs: the halving of an odd round trip and two roundings up). How small
        // that round trip is depends on the scheduler, not on the code: benchmarks/clock-sync.sh measures it.
        var widest = estimate.MinRoundTripMicros / 2 + (long)Math.Ceiling(50 * maxAgeMicroseconds / 1e6) + 3;
        Assert.Multiple(() =>
        {
            Assert.That(Math.Abs(error), Is.LessThanOrEqualTo(reading.UncertaintyMicroseconds + 2), "the truth lies inside the reported interval");
            Assert.That(reading.UncertaintyMicroseconds, Is.EqualTo(estimate.UncertaintyMicros), "the reading carries the estimator's uncertainty");
            Assert.That(reading.UncertaintyMicroseconds, Is.LessThanOrEqualTo(widest), "no wider than half the fastest round trip plus the drift allowance");
            Assert.That(estimate.SamplesHeld, Is.EqualTo(8));
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
        var exchange = client.ExchangeAsync(TimeSpan.FromSeconds(30), CancellationToken.None).GetAwaiter().GetResult();
        Assert.Multiple(() =>
        {
            Assert.That(exchange, Is.Not.Null);
            Assert.That(server.Refused, Is.EqualTo(2));
        });
    }
}
