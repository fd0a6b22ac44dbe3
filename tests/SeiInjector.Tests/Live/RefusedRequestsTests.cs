using System.Net;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// The refused-request summary's timer (<see cref="RefusedRequests"/>): armed by the first refusal of a period, one shot,
/// never running while nobody is refused (a periodic timer woke a live injector's timer thread and a new thread-pool
/// worker every minute). A hand-driven clock fires the timer; no wall-clock waits.
/// </summary>
[TestFixture]
public class RefusedRequestsTests
{
    private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan DueTime { get; private set; } = Timeout.InfiniteTimeSpan;
        public TimeSpan Period { get; private set; } = Timeout.InfiniteTimeSpan;
        public int Changes { get; private set; }
        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (Disposed) throw new ObjectDisposedException(nameof(ManualTimer));
            (DueTime, Period) = (dueTime, period);
            Changes++;
            return true;
        }

        /// <summary>Runs the callback as the timer would at its due time, and disarms a one-shot timer.</summary>
        public void Fire()
        {
            Assert.That(DueTime, Is.Not.EqualTo(Timeout.InfiniteTimeSpan), "fired while not armed");
            if (Period == Timeout.InfiniteTimeSpan) DueTime = Timeout.InfiniteTimeSpan;
            callback(state);
        }

        public void Dispose() => Disposed = true;
        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 12, 1, 18, 0, 0, TimeSpan.Zero);
        public ManualTimer? Timer;
        public override DateTimeOffset GetUtcNow() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Assert.That(Timer, Is.Null, "one timer per RefusedRequests");
            Timer = new ManualTimer(callback, state);
            if (dueTime != Timeout.InfiniteTimeSpan || period != Timeout.InfiniteTimeSpan) Timer.Change(dueTime, period);
            return Timer;
        }
    }

    [Test]
    public void NoRefusal_NoTimerArmed()
    {
        var clock = new ManualClock();
        var log = new StringWriter();
        using (new RefusedRequests(log, null, clock))
        {
            Assert.That(clock.Timer!.DueTime, Is.EqualTo(Timeout.InfiniteTimeSpan), "a run nobody knocks at keeps no timer running");
            Assert.That(clock.Timer.Period, Is.EqualTo(Timeout.InfiniteTimeSpan));
        }
        Assert.That(clock.Timer.Disposed, Is.True);
        Assert.That(log.ToString(), Is.Empty, "nothing refused, nothing summed up");
    }

    [Test]
    public void FirstRefusal_ArmsOneShot_SummaryAfterAMinute_NextRefusalArmsAgain()
    {
        var clock = new ManualClock();
        var log = new StringWriter();
        using var refused = new RefusedRequests(log, null, clock);
        var timer = clock.Timer!;

        refused.Refused(IPAddress.Loopback, "GET", "/v1/status", limited: false);
        Assert.That(timer.DueTime, Is.EqualTo(RefusedRequests.SummaryPeriod), "armed by the first refusal");
        Assert.That(timer.Period, Is.EqualTo(Timeout.InfiniteTimeSpan), "one shot, not periodic");
        for (var i = 0; i < 9; i++) refused.Refused(IPAddress.Parse("127.0.0.2"), "POST", "/v1/cues", limited: i % 3 == 0);
        Assert.That(timer.Changes, Is.EqualTo(1), "later refusals of the same minute do not move the summary");

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), "the first refusal is logged, the rest counted");
        Assert.That(lines[0], Does.Contain("401 for GET /v1/status from 127.0.0.1"));

        clock.Now += RefusedRequests.SummaryPeriod;
        timer.Fire();
        lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[1], Does.Contain("10 request(s) refused since 18:00:00 UTC (3 over the rate limit) from 2 address(es)"));
        Assert.That(timer.DueTime, Is.EqualTo(Timeout.InfiniteTimeSpan), "nothing left to sum up: not armed");

        clock.Now += TimeSpan.FromMinutes(5);
        refused.Refused(IPAddress.Loopback, "GET", "/v1/history", limited: false);
        Assert.That(timer.DueTime, Is.EqualTo(RefusedRequests.SummaryPeriod), "the next refusal arms the next summary");
        Assert.That(timer.Changes, Is.EqualTo(2));
        Assert.That(log.ToString(), Does.Contain("401 for GET /v1/history"), "first of its period: logged");
    }

    [Test]
    public void Dispose_WritesThePendingSummary_AndRefusalsAfterItArmNothing()
    {
        var clock = new ManualClock();
        var log = new StringWriter();
        var refused = new RefusedRequests(log, null, clock);
        refused.Refused(IPAddress.Loopback, "GET", "/", limited: false);
        refused.Refused(IPAddress.Loopback, "GET", "/", limited: false);
        refused.Dispose();
        Assert.That(log.ToString(), Does.Contain("2 request(s) refused"), "summed up at the end of the run");
        Assert.That(() => refused.Refused(IPAddress.Loopback, "GET", "/", limited: false), Throws.Nothing,
            "a request racing the shutdown touches no disposed timer");
        Assert.That(clock.Timer!.Changes, Is.EqualTo(1));
    }
}
