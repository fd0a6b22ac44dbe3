using System.Text;
using System.Text.Json;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

public class AuditLogTests
{
    private string _path = "";

    [SetUp]
    public void CreatePath() => _path = Path.Combine(Path.GetTempPath(), $"catevening-audit-{Guid.NewGuid():N}.jsonl");

    [TearDown]
    public void DeletePath() => File.Delete(_path);

    private static AuditCue Cue(string id, long seq, TimeSpan duration) =>
        new(id, "interaction-start", seq, "api", "5s", null, duration, TimeSpan.FromSeconds(2), "{\"prize\":\"coupon-50\"}"u8.ToArray());

    private static AuditCarrier Carrier(long frame, DateTimeOffset wall) =>
        new(frame * 3600, frame / 25.0, frame, wall, AuditLog.HashSei([1, 2, 3, (byte)frame]));

    [Test]
    public void EveryLine_IsOnDiskWhenTheCallReturns()
    {
        using var log = AuditLog.Open(_path);
        log.Accepted(Cue("a", 4, TimeSpan.FromSeconds(30)));
        log.Delivered("a", 4, Carrier(125, DateTimeOffset.UtcNow));

        using var reader = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var lines = new StreamReader(reader).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        using var delivered = JsonDocument.Parse(lines[1]);
        var r = delivered.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(r.GetProperty("n").GetInt64(), Is.EqualTo(2));
            Assert.That(r.GetProperty("event").GetString(), Is.EqualTo("delivered"));
            Assert.That(r.GetProperty("id").GetString(), Is.EqualTo("a"));
            Assert.That(r.GetProperty("pts").GetInt64(), Is.EqualTo(125 * 3600));
            Assert.That(r.GetProperty("frame").GetInt64(), Is.EqualTo(125));
            Assert.That(r.GetProperty("sei_sha256").GetString(), Has.Length.EqualTo(64));
        });
    }

    [Test]
    public void Reopened_ReplaysEveryCueState_AndContinuesNumbers()
    {
        var t0 = DateTimeOffset.UtcNow;
        using (var log = AuditLog.Open(_path))
        {
            log.Started("show", "rtmp://in", "rtmp://out", 0, 0);
            log.SequenceReserved(99);
            log.Accepted(Cue("pending", 1, TimeSpan.FromSeconds(30)));
            log.Accepted(Cue("active", 2, TimeSpan.FromSeconds(30)));
            log.Accepted(Cue("ended", 3, TimeSpan.FromSeconds(1)));
            log.Accepted(Cue("cancelled", 4, TimeSpan.FromSeconds(30)));
            log.Accepted(Cue("expired", 5, TimeSpan.FromSeconds(30)));
            log.Delivered("active", 2, Carrier(10, t0));
            log.Repeated("active", 2, Carrier(25, t0.AddSeconds(1)));
            log.Delivered("ended", 3, Carrier(11, t0));
            log.Ended("ended");
            log.Cancelled("cancelled", wasActive: false, cancelSequenceNumber: null);
            log.LinkState(LinkSide.Input, LinkState.Reconnecting, "connection reset");
            log.Expired("expired", "window closed during the output outage");
        }

        using var reopened = AuditLog.Open(_path);
        var replay = reopened.Replay;
        reopened.Stopped("test");
        Assert.Multiple(() =>
        {
            Assert.That(replay.Cues.Select(c => (c.Cue.Id, c.State)), Is.EqualTo(new[]
            {
                ("pending", AuditCueState.Pending), ("active", AuditCueState.Active), ("ended", AuditCueState.Ended),
                ("cancelled", AuditCueState.Cancelled), ("expired", AuditCueState.Expired),
            }));
            Assert.That(replay.Find("active")!.FirstDelivery!.Value.FrameIndex, Is.EqualTo(10));
            Assert.That(replay.Find("active")!.Repeats, Is.EqualTo(1));
            Assert.That(replay.Find("active")!.RemainingWindow(t0.AddSeconds(10)), Is.EqualTo(TimeSpan.FromSeconds(20)).Within(TimeSpan.FromMilliseconds(1)));
            Assert.That(replay.Find("pending")!.Cue.AppData.ToArray(), Is.EqualTo("{\"prize\":\"coupon-50\"}"u8.ToArray()));
            Assert.That(replay.NextSequenceNumber, Is.EqualTo(100), "resumes above the reserved block");
            Assert.That(replay.LastRecordNumber, Is.EqualTo(14));
            Assert.That(replay.LastRunCrashed, Is.True);
            Assert.That(reopened.LastRecordNumber, Is.EqualTo(15));
        });
    }

    [Test]
    public void TornLastLine_IsCutOff_AndTheNextLineStartsClean()
    {
        using (var log = AuditLog.Open(_path))
        {
            log.Accepted(Cue("a", 7, TimeSpan.FromSeconds(30)));
        }
        File.AppendAllText(_path, "{\"n\":2,\"time\":\"2026-11-28T17:00:00Z\",\"event\":\"deliv");

        using (var log = AuditLog.Open(_path))
        {
            Assert.That(log.Replay.TornTailBytes, Is.GreaterThan(0));
            log.Cancelled("a", wasActive: false, cancelSequenceNumber: null);
        }
        var replay = AuditReplay.Load(_path);
        Assert.Multiple(() =>
        {
            Assert.That(replay.TornTailBytes, Is.Zero);
            Assert.That(replay.RecordCount, Is.EqualTo(2));
            Assert.That(replay.Find("a")!.State, Is.EqualTo(AuditCueState.Cancelled));
            Assert.That(replay.NextSequenceNumber, Is.EqualTo(8));
        });
    }

    [Test]
    public void CorruptCompleteLine_IsReportedWithItsLineAndOffset()
    {
        const string first = "{\"n\":1,\"time\":\"2026-11-28T17:00:00Z\",\"event\":\"stopped\",\"reason\":\"x\"}\n";
        File.WriteAllText(_path, first + "not json\n");
        var e = Assert.Throws<AuditLogException>(() => AuditLog.Open(_path).Dispose());
        Assert.That(e!.Message, Does.Contain("line 2").And.Contain($"byte {first.Length}"));
    }

    [Test]
    public void EventForACueNeverAccepted_IsRejected()
    {
        File.WriteAllText(_path, "{\"n\":1,\"time\":\"2026-11-28T17:00:00Z\",\"event\":\"expired\",\"id\":\"ghost\",\"reason\":\"x\"}\n");
        var e = Assert.Throws<AuditLogException>(() => AuditReplay.Load(_path));
        Assert.That(e!.Message, Does.Contain("ghost"));
    }

    [Test]
    public void Lines_AreValidUtf8Json_EvenWithHostileIds()
    {
        const string id = "quote\" newline\n \u00e9\u4e2d";
        using (var log = AuditLog.Open(_path))
        {
            log.Accepted(Cue(id, 1, TimeSpan.Zero));
            log.Unauthorized("127.0.0.1:5555", "POST", "/v1/cues");
        }
        var text = File.ReadAllText(_path, Encoding.UTF8);
        Assert.Multiple(() =>
        {
            Assert.That(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2));
            Assert.That(AuditReplay.Load(_path).Find(id), Is.Not.Null);
        });
    }
}
