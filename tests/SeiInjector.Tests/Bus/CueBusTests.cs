using System.Globalization;
using System.Text;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Bus;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Bus;

/// <summary>
/// The cue bus on a real redis-server (private, loopback, AOF on): the bus numbers cues, every injector applies every
/// order in order under that number, a restart reads on from the position in the audit log without loss or double
/// apply, and an unreachable bus leaves the injector running and is caught up with when it returns.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class CueBusTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private RedisServer _redis = null!;
    private string _dir = null!;

    [OneTimeSetUp]
    public void StartRedis() => _redis = RedisServer.StartPrivate();

    [OneTimeTearDown]
    public void StopRedis() => _redis.Dispose();

    [SetUp]
    public void MakeFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "catevening-cuebus-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        if (!_redis.IsRunning) _redis.Start();
    }

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Fire_ThroughOneInjectorsApi_EveryInjectorAppliesEveryOrderInOrder_UnderTheBusNumber()
    {
        var address = Address();
        using var a = Injector(address, "feed-a", "a");
        using var b = Injector(address, "feed-b", "b");
        var first = a.Session.Fire(Order("poll", "pts=12.5s", "30s"));
        var second = b.Session.Fire(Order("quiz", "2026-11-30T20:00:00Z", "10s"));
        var duplicate = a.Session.Fire(Order("poll", "pts=99s", "1s"));
        var fromFirstFrame = a.Session.Fire(Order("late", "5s", "1s"));
        var cancel = b.Session.Cancel("poll");
        var unknown = a.Session.Cancel("nope");
        // Twice round: on the second poll each one also sees the heartbeat the other wrote on the first.
        foreach (var injector in new[] { a, b, a, b }) Assert.That(injector.Follower.PollOnce(), Is.True, injector.Log.ToString());

        Assert.Multiple(() =>
        {
            Assert.That((first.Outcome, first.SequenceNumber), Is.EqualTo((ControlOutcome.Accepted, (long?)1)), first.Message);
            Assert.That((second.Outcome, second.SequenceNumber), Is.EqualTo((ControlOutcome.Accepted, (long?)2)), second.Message);
            Assert.That(duplicate.Outcome, Is.EqualTo(ControlOutcome.Rejected), "a cue id is fired once per show");
            Assert.That(fromFirstFrame.Message, Does.Contain("each injector's own first frame"));
            Assert.That((cancel.Outcome, cancel.SequenceNumber), Is.EqualTo((ControlOutcome.Accepted, (long?)3)), cancel.Message);
            Assert.That(unknown.Outcome, Is.EqualTo(ControlOutcome.NotFound));
            foreach (var injector in new[] { a, b })
            {
                var cues = injector.Session.Book.Cues();
                Assert.That(cues.Select(c => (c.Id, c.Sequence, c.State)),
                    Is.EqualTo(new[] { ("poll", 1L, CueState.Cancelled), ("quiz", 2L, CueState.Pending) }), $"{injector.Follower.Name}: both cues, the bus's numbers, the cancel applied");
                Assert.That(cues[0].Request.At.SourcePts, Is.EqualTo(TimeSpan.FromSeconds(12.5)), "the target on the source's clock");
                Assert.That(cues[0].Request.Duration, Is.EqualTo(TimeSpan.FromSeconds(30)));
                var status = injector.Session.Status().Bus!;
                Assert.That((status.State, status.AppliedSequence, status.BusSequence, status.Lag), Is.EqualTo((BusLinkState.Connected, 3L, 3L, 0L)));
                Assert.That(status.Injectors.Select(i => i.Name), Is.SupersetOf(new[] { a.Follower.Name, b.Follower.Name }), "every injector of the show beats");
            }
            var json = Encoding.UTF8.GetString(a.Session.Status().ToJson());
            Assert.That(json, Does.Contain("\"bus\"").And.Contain("\"lag\": 0").And.Contain($"\"injector\": \"{b.Follower.Name}\""), json);
        });
    }

    [Test]
    public void Restart_FromThePositionInTheAuditLog_AppliesNothingTwiceAndMissesNothing()
    {
        var address = Address();
        var auditPath = Path.Combine(_dir, "main.audit.jsonl");
        using var director = CueBus.Open(address);
        Publish(director, "one", "two");
        using (var first = Injector(address, "feed-a", "main", auditPath))
            Assert.That(first.Follower.PollOnce(), Is.True);
        Publish(director, "three");

        // A crash after applying 'four' but before its position reached the log: the order is read again on restart.
        using (var second = Injector(address, "feed-a", "main", auditPath))
        {
            Assert.That(second.Follower.PollOnce(), Is.True);
            Publish(director, "four");
            Assert.That(second.Follower.PollOnce(), Is.True);
        }
        var lines = File.ReadAllLines(auditPath);
        var withoutLastPosition = lines.Take(Array.FindLastIndex(lines, l => l.Contains("\"bus_position\"", StringComparison.Ordinal))).ToArray();
        File.WriteAllLines(auditPath, withoutLastPosition);
        Publish(director, "five");
        using var third = Injector(address, "feed-a", "main", auditPath);
        Assert.That(third.Follower.PollOnce(), Is.True);

        var accepted = File.ReadAllLines(auditPath).Where(l => l.Contains("\"event\":\"accepted\"", StringComparison.Ordinal)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(third.Session.Book.Cues().Select(c => (c.Id, c.Sequence)),
                Is.EqualTo(new[] { ("one", 1L), ("two", 2L), ("three", 3L), ("four", 4L), ("five", 5L) }), "every order, in order, once");
            Assert.That(accepted, Has.Length.EqualTo(5), "each cue accepted once in the audit log:\n" + string.Join("\n", accepted));
            Assert.That(third.Session.Status().Bus!.Refused, Is.Zero, third.Log.ToString());
        });
    }

    [Test]
    public void BusDown_InjectorGoesOn_SaysSo_ApiAnswers503_ThenCatchesUpWhenItReturns_WithTheOrdersKeptByTheAof()
    {
        var address = Address();
        var auditPath = Path.Combine(_dir, "a.audit.jsonl");
        using var director = CueBus.Open(address);
        Publish(director, "before");
        using var a = Injector(address, "feed-a", "a", auditPath);
        Assert.That(a.Follower.PollOnce(), Is.True);

        _redis.Stop();
        var down = a.Follower.PollOnce();
        var fired = a.Session.Fire(Order("during", "pts=1s", "1s"));
        var statusDown = a.Session.Status();
        _redis.Start();
        Publish(director, "after");
        Assert.That(Eventually(() => a.Follower.PollOnce()), Is.True, "the follower reconnects by itself: " + a.Log);

        var audit = File.ReadAllText(auditPath);
        Assert.Multiple(() =>
        {
            Assert.That(down, Is.False);
            Assert.That(statusDown.Bus!.State, Is.EqualTo(BusLinkState.Unreachable));
            Assert.That(statusDown.Bus.LastError, Does.Contain(address.ToString()));
            Assert.That(statusDown.Frames, Is.Zero, "the local API still answers");
            Assert.That(fired.Outcome, Is.EqualTo(ControlOutcome.Unavailable), fired.Message);
            Assert.That(audit, Does.Contain("\"state\":\"unreachable\"").And.Contain("\"state\":\"connected\""));
            Assert.That(a.Session.Book.Cues().Select(c => (c.Id, c.Sequence)), Is.EqualTo(new[] { ("before", 1L), ("after", 2L) }),
                "the order from before the outage survived the restart (AOF), the one after it was caught up with, numbered on");
            Assert.That(a.Session.Status().Bus!.Outages, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Order_ArrivingAfterItsWindow_IsRecordedExpiredOnThatInjector_AndCountedInTheMetrics()
    {
        var address = Address();
        var auditPath = Path.Combine(_dir, "late.audit.jsonl");
        using var director = CueBus.Open(address);
        using var a = Injector(address, "feed-a", "late", auditPath);
        // The injector is at source PTS 100 s when it reads an order for 10 s with a 5 s window.
        var timeBase = new Rational(1, 1000);
        for (var i = 0; i < 3; i++) a.Session.Book.Commit(a.Session.Book.Collect(new VideoFrame(100_000 + (i * 40), 100_000 + (i * 40), i == 0, i, timeBase)), [0]);
        Assert.That(BusOrders.Fire(director, Order("stale", "pts=10s", "5s"), null, TimeSpan.Zero).Outcome, Is.EqualTo(ControlOutcome.Accepted));
        Assert.That(a.Follower.PollOnce(), Is.True);
        var plan = a.Session.Book.Collect(new VideoFrame(100_120, 100_120, false, 3, timeBase));
        a.Session.Book.Commit(plan, [0]);
        using var metrics = MetricsServer.Start("127.0.0.1:0", a.Session.Status, new AddedLatency(), a.Follower.Metrics);
        using var http = new HttpClient { BaseAddress = metrics.BaseAddress };
        var samples = Samples(await http.GetStringAsync("metrics"));
        Assert.Multiple(() =>
        {
            Assert.That(a.Session.Book.Find("stale")!.State, Is.EqualTo(CueState.Expired));
            Assert.That(plan.Messages, Has.None.TypeOf<SeiReader.Messages.CueMessage>(), "never sent");
            Assert.That(File.ReadAllText(auditPath), Does.Contain("\"event\":\"expired\""));
            Assert.That(a.Session.Status().Bus!.Expired, Is.EqualTo(1), "counted once, however often the status is read");
            Assert.That(samples["catevening_bus_orders_expired_total"], Is.EqualTo(1));
            Assert.That(samples["catevening_bus_orders_applied_total"], Is.EqualTo(1), "applied, then expired here");
        });
    }

    /// <summary>
    /// The follower's own thread against a real redis-server that is killed and started again, seen only through
    /// <c>GET /metrics</c>: connected with the orders applied, then unreachable with one outage counted, then connected
    /// again with the order published meanwhile applied and no lag.
    /// </summary>
    [Test]
    public async Task Metrics_SayTheBusIsConnected_ThenUnreachableWithTheOutageCounted_ThenCaughtUp()
    {
        var address = Address();
        using var director = CueBus.Open(address);
        Publish(director, "one", "two");
        using var a = Injector(address, "feed-a", "metrics");
        using var metrics = MetricsServer.Start("127.0.0.1:0", a.Session.Status, new AddedLatency(), a.Follower.Metrics);
        using var http = new HttpClient { BaseAddress = metrics.BaseAddress };
        a.Follower.Start();

        var up = await ScrapeUntil(http, "connected, both orders applied",
            m => m["catevening_bus_connected"] == 1 && m["catevening_bus_orders_applied_total"] == 2 && m["catevening_bus_injectors{state=\"beating\"}"] == 1);
        _redis.Stop();
        var down = await ScrapeUntil(http, "unreachable", m => m["catevening_bus_connected"] == 0);
        _redis.Start();
        Publish(director, "three");
        var back = await ScrapeUntil(http, "connected again, the third order applied",
            m => m["catevening_bus_connected"] == 1 && m["catevening_bus_orders_applied_total"] == 3 && m["catevening_bus_lag_orders"] == 0);

        Assert.Multiple(() =>
        {
            Assert.That(up["catevening_bus_outages_total"], Is.Zero);
            Assert.That(up["catevening_bus_applied_sequence"], Is.EqualTo(2));
            Assert.That(up["catevening_bus_orders_refused_total"], Is.Zero);
            Assert.That(up["catevening_bus_orders_expired_total"], Is.Zero);
            Assert.That(down["catevening_bus_outages_total"], Is.EqualTo(1), "the outage counted when it began");
            Assert.That(down["catevening_bus_orders_applied_total"], Is.EqualTo(2), "the injector keeps what it has");
            Assert.That(back["catevening_bus_outages_total"], Is.EqualTo(1), "one outage, however many failed polls");
            Assert.That(back["catevening_bus_applied_sequence"], Is.EqualTo(3));
            Assert.That(a.Session.Book.Cues().Select(c => (c.Id, c.Sequence)), Is.EqualTo(new[] { ("one", 1L), ("two", 2L), ("three", 3L) }));
        });
    }

    // Scrapes until the condition holds, for at most the test bound (every bus metric is in every scrape).
    private static async Task<Dictionary<string, double>> ScrapeUntil(HttpClient http, string what, Func<Dictionary<string, double>, bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (true)
        {
            var text = await http.GetStringAsync("metrics");
            var samples = Samples(text);
            if (condition(samples)) return samples;
            if (DateTime.UtcNow > deadline) Assert.Fail($"metrics never showed {what} in {Bound.TotalSeconds} s; last scrape:\n{text}");
            await Task.Delay(50);
        }
    }

    private static Dictionary<string, double> Samples(string exposition) =>
        exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => double.Parse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture));

    private CueBusAddress Address() => new(_redis.Host, _redis.Port, "show-" + Guid.NewGuid().ToString("N")[..8]);

    private static CueOrder Order(string id, string at, string duration)
    {
        var body = CueOrderJson.Write(id, null, at, duration, null, "{\"q\":1}");
        Assert.That(CueOrderJson.TryParse(body, out var order, out var error), Is.True, error);
        return order!;
    }

    private static void Publish(CueBus bus, params string[] ids)
    {
        // Retried while the director's own client reconnects (a failed call is not sent: fail-fast).
        foreach (var id in ids)
            Assert.That(Eventually(() => BusOrders.Fire(bus, Order(id, "pts=3600s", "10s"), null, TimeSpan.Zero).Outcome != ControlOutcome.Unavailable), Is.True);
    }

    private static bool Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(100);
        }
        return true;
    }

    private static TestInjector Injector(CueBusAddress address, string stream, string name, string? auditPath = null)
    {
        var audit = auditPath is null ? null : AuditLog.Open(auditPath);
        var book = new CueBook(new CueBookOptions { StreamId = stream, FirstSequence = CueBookOptions.SequenceFloorAt(DateTimeOffset.UtcNow) }, audit);
        if (audit is not null) AuditRestore.Into(book, audit.Replay, audit, DateTimeOffset.UtcNow);
        var log = new StringWriter();
        var session = new LiveSession(book, new PacketMonitor(), audit, TextWriter.Synchronized(log));
        var bus = CueBus.Open(address);
        var follower = new CueBusFollower(bus, session, audit, TextWriter.Synchronized(log), name, audit?.Replay.BusPosition);
        session.CueBus = bus;
        session.BusFollower = follower;
        return new TestInjector(session, follower, bus, audit, log);
    }

    private sealed record TestInjector(LiveSession Session, CueBusFollower Follower, CueBus Bus, AuditLog? Audit, StringWriter Log) : IDisposable
    {
        public void Dispose()
        {
            Follower.Dispose();
            Bus.Dispose();
            Session.Dispose();
            Audit?.Dispose();
        }
    }
}
