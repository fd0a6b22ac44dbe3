using System.Text;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class AuditLogTests
{
    private static readonly Rational Flv = new(1, 1000);
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 20, 0, 0, TimeSpan.Zero);
    private string _path = "";

    [SetUp]
    public void CreatePath() => _path = Path.Combine(Path.GetTempPath(), $"catevening-audit-{Guid.NewGuid():N}.jsonl");

    [TearDown]
    public void DeletePath() => File.Delete(_path);

    private static long Micros(DateTimeOffset t) => (t - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;

    private static CueSnapshot Cue(string id, long seq, TimeSpan duration, CueState state = CueState.Pending, int transmissions = 0, CueTime? at = null) =>
        new(new CueRequest(id, MessageKind.InteractionStart, at ?? CueTime.FromFirstFrame(TimeSpan.FromSeconds(5)), duration,
            TimeSpan.FromSeconds(2), "{\"prize\":\"coupon-50\"}"u8.ToArray()), seq, state, 5000, Flv, transmissions);

    private static CueJournalEntry Entry(CueEvent e, CueSnapshot cue, DateTimeOffset wall, long? frame = null, string? detail = null) =>
        new(e, Micros(wall), cue, frame is { } f ? new CarrierFrame(f * 40, f, Flv, new string('a', 63) + (f % 10)) : null, detail);

    [Test]
    public void EveryLine_IsInTheFileWhenTheCallReturns()
    {
        using var log = AuditLog.Open(_path);
        var cue = Cue("a", 4, TimeSpan.FromSeconds(30));
        log.Record(Entry(CueEvent.Accepted, cue, T0));
        log.Record(Entry(CueEvent.Delivered, cue with { State = CueState.Active, Transmissions = 1 }, T0, frame: 125));

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
            Assert.That(r.GetProperty("seq").GetInt64(), Is.EqualTo(4));
            Assert.That(r.GetProperty("pts").GetInt64(), Is.EqualTo(5000));
            Assert.That(r.GetProperty("pts_time").GetDouble(), Is.EqualTo(5.0));
            Assert.That(r.GetProperty("target_time").GetDouble(), Is.EqualTo(5.0));
            Assert.That(r.GetProperty("frame").GetInt64(), Is.EqualTo(125));
            Assert.That(r.GetProperty("wall").GetString(), Is.EqualTo("2026-11-28T20:00:00.000000Z"));
            Assert.That(r.GetProperty("sei_sha256").GetString(), Has.Length.EqualTo(64));
        });
    }

    [Test]
    public void NewFile_IsCreatedReadableByItsOwnerOnly()
    {
        using (AuditLog.Open(_path)) { }
        Assert.That(File.GetUnixFileMode(_path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void ExistingWorldReadableFile_IsNarrowedTo0600_AndKeepsItsRecords()
    {
        using (var first = AuditLog.Open(_path)) first.Record(Entry(CueEvent.Accepted, Cue("a", 4, TimeSpan.FromSeconds(30)), T0));
        File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var reopened = AuditLog.Open(_path);
        Assert.Multiple(() =>
        {
            Assert.That(File.GetUnixFileMode(_path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(reopened.Replay.Find("a"), Is.Not.Null);
        });
    }

    [Test]
    public void Reopened_ReplaysEveryCueState_AndContinuesNumbers()
    {
        using (var log = AuditLog.Open(_path))
        {
            log.Started("show", "rtmp://in", "rtmp://out", 0, 0);
            log.SequenceReserved(99);
            log.TimelineStarted(T0);
            foreach (var (id, seq) in new[] { ("pending", 1L), ("active", 2L), ("ended", 3L), ("cancelled", 4L), ("expired", 5L) })
                log.Record(Entry(CueEvent.Accepted, Cue(id, seq, TimeSpan.FromSeconds(30)), T0));
            log.Record(Entry(CueEvent.Delivered, Cue("active", 2, TimeSpan.FromSeconds(30), CueState.Active, 1), T0, frame: 10));
            log.Record(Entry(CueEvent.Repeated, Cue("active", 2, TimeSpan.FromSeconds(30), CueState.Active, 2), T0.AddSeconds(1), frame: 25));
            log.Record(Entry(CueEvent.Delivered, Cue("ended", 3, TimeSpan.FromSeconds(1), CueState.Active, 1), T0, frame: 11));
            log.Record(Entry(CueEvent.Ended, Cue("ended", 3, TimeSpan.FromSeconds(1), CueState.Ended, 1), T0.AddSeconds(1), detail: "window ended"));
            log.Record(Entry(CueEvent.Cancelled, Cue("cancelled", 4, TimeSpan.FromSeconds(30), CueState.Cancelled), T0));
            log.LinkState(LinkSide.Input, LinkState.Reconnecting, "connection reset");
            log.Record(Entry(CueEvent.Expired, Cue("expired", 5, TimeSpan.FromSeconds(30), CueState.Expired), T0, detail: "window closed during the outage"));
        }

        using var reopened = AuditLog.Open(_path);
        var replay = reopened.Replay;
        reopened.Stopped("test");
        Assert.Multiple(() =>
        {
            Assert.That(replay.Cues.Select(c => (c.Id, c.State)), Is.EqualTo(new[]
            {
                ("pending", AuditCueState.Pending), ("active", AuditCueState.Active), ("ended", AuditCueState.Ended),
                ("cancelled", AuditCueState.Cancelled), ("expired", AuditCueState.Expired),
            }));
            Assert.That(replay.Find("active")!.FirstDelivery!.Value.FrameIndex, Is.EqualTo(10));
            Assert.That(replay.Find("active")!.Repeats, Is.EqualTo(1));
            Assert.That(replay.Find("active")!.RemainingWindow(T0.AddSeconds(10)), Is.EqualTo(TimeSpan.FromSeconds(20)));
            Assert.That(replay.Find("pending")!.Request.AppData.ToArray(), Is.EqualTo("{\"prize\":\"coupon-50\"}"u8.ToArray()));
            Assert.That(replay.Find("pending")!.Request.At, Is.EqualTo(CueTime.FromFirstFrame(TimeSpan.FromSeconds(5))));
            Assert.That(replay.FirstFrameOf("pending"), Is.EqualTo(T0));
            Assert.That(replay.NextSequenceNumber, Is.EqualTo(100), "resumes above the reserved block");
            Assert.That(replay.LastRecordNumber, Is.EqualTo(15));
            Assert.That(replay.LastRunCrashed, Is.True);
            Assert.That(reopened.LastRecordNumber, Is.EqualTo(16));
        });
    }

    [Test]
    public void TornLastLine_IsCutOff_AndTheNextLineStartsClean()
    {
        using (var log = AuditLog.Open(_path))
        {
            log.Record(Entry(CueEvent.Accepted, Cue("a", 7, TimeSpan.FromSeconds(30)), T0));
        }
        File.AppendAllText(_path, "{\"n\":2,\"time\":\"2026-11-28T17:00:00Z\",\"event\":\"deliv");

        using (var log = AuditLog.Open(_path))
        {
            Assert.That(log.Replay.TornTailBytes, Is.GreaterThan(0));
            log.Record(Entry(CueEvent.Cancelled, Cue("a", 7, TimeSpan.FromSeconds(30), CueState.Cancelled), T0));
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
            log.Record(Entry(CueEvent.Accepted, Cue(id, 1, TimeSpan.Zero, at: CueTime.At(T0)), T0));
            log.UnauthorizedSummary(T0, 3, 1, 2, "POST /v1/cues\" \n from 127.0.0.1");
        }
        var text = File.ReadAllText(_path, Encoding.UTF8);
        var replay = AuditReplay.Load(_path);
        Assert.Multiple(() =>
        {
            Assert.That(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(2));
            Assert.That(replay.Find(id)!.Request.At, Is.EqualTo(CueTime.At(T0)));
        });
    }

    [Test]
    public void Restore_ResendsActiveAndPending_KeepsFinishedCuesFinished()
    {
        using (var log = AuditLog.Open(_path))
        {
            log.Started("show", "in", "out", 0, 0);
            log.TimelineStarted(T0);
            foreach (var (id, seq) in new[] { ("pending", 1L), ("active", 2L), ("ended", 3L), ("stale", 4L) })
                log.Record(Entry(CueEvent.Accepted, Cue(id, seq, TimeSpan.FromSeconds(30)), T0));
            log.Record(Entry(CueEvent.Delivered, Cue("active", 2, TimeSpan.FromSeconds(30), CueState.Active, 1), T0.AddSeconds(5), frame: 125));
            log.Record(Entry(CueEvent.Delivered, Cue("ended", 3, TimeSpan.FromSeconds(30), CueState.Active, 1), T0.AddSeconds(5), frame: 125));
            log.Record(Entry(CueEvent.Ended, Cue("ended", 3, TimeSpan.FromSeconds(30), CueState.Ended, 1), T0.AddSeconds(35)));
            log.Record(Entry(CueEvent.Delivered, Cue("stale", 4, TimeSpan.FromSeconds(30), CueState.Active, 1), T0.AddSeconds(-60), frame: 1));
        }

        using var reopened = AuditLog.Open(_path);
        var book = new CueBook(new CueBookOptions { StreamId = "show", FirstSequence = reopened.Replay.NextSequenceNumber });
        var result = AuditRestore.Into(book, reopened.Replay, reopened, T0.AddSeconds(15));
        Assert.Multiple(() =>
        {
            Assert.That(result.Resent, Is.EqualTo(2));
            Assert.That(book.Snapshot().Delivered, Is.EqualTo(3), "active, ended and stale went out in the first run");
            Assert.That(book.Find("pending")!.State, Is.EqualTo(CueState.Pending));
            Assert.That(book.Find("pending")!.Request.At, Is.EqualTo(CueTime.At(T0.AddSeconds(5))), "pinned to the first run's first frame");
            Assert.That(book.Find("active")!.State, Is.EqualTo(CueState.Pending), "goes out again");
            Assert.That(book.Find("active")!.Sequence, Is.EqualTo(2), "with its own sequence number");
            Assert.That(book.Find("active")!.Request.Duration, Is.EqualTo(TimeSpan.FromSeconds(20)), "for the rest of its window");
            Assert.That(book.Find("ended")!.State, Is.EqualTo(CueState.Ended));
            Assert.That(book.Find("stale")!.State, Is.EqualTo(CueState.Ended), "its window ran out while the injector was down");
            Assert.That(book.Snapshot().NextSequence, Is.EqualTo(5));
            Assert.That(() => book.Add(new CueRequest("ended", MessageKind.Custom, CueTime.Immediately, TimeSpan.Zero, TimeSpan.Zero, default)),
                Throws.TypeOf<CueRejectedException>(), "ids stay taken");
        });
        var lines = File.ReadAllLines(_path);
        Assert.Multiple(() =>
        {
            Assert.That(lines.Count(l => l.Contains("\"event\":\"restored\"", StringComparison.Ordinal)), Is.EqualTo(2));
            Assert.That(lines.Last(), Does.Contain("\"event\":\"ended\"").And.Contain("\"id\":\"stale\""));
        });
    }

    [Test]
    public void CrashResume_NeverResendsAClosedCue_AndTheClosesRideOnForTheRestOfTheirHold()
    {
        var clock = new Tests.Cues.CueBookTests.ManualClock();
        var options = new CueBookOptions { StreamId = "show", Repeat = 0, Heartbeat = HeartbeatPolicy.Off };
        static VideoFrame Frame(long i) => new(i * 40, i * 40, i % 25 == 0, i, Flv);
        CueRequest Start(string id, double at, double duration) =>
            new(id, MessageKind.InteractionStart, CueTime.FromFirstFrame(TimeSpan.FromSeconds(at)), TimeSpan.FromSeconds(duration), TimeSpan.Zero, default);
        long quiz, rain, quizEnd;
        using (var log = AuditLog.Open(_path))
        {
            var book = new CueBook(options, log, clock);
            quiz = book.Add(Start("quiz", 1, 10)).Sequence;
            rain = book.Add(Start("rain", 0.5, 30)).Sequence;
            quizEnd = book.Add(new CueRequest("quiz-end", MessageKind.InteractionEnd, CueTime.FromFirstFrame(TimeSpan.FromSeconds(3)), TimeSpan.Zero, TimeSpan.Zero, default, "quiz")).Sequence;
            for (long i = 0; i < 125; i++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(40));
                if (i == 100) book.Cancel("rain");
                var plan = book.Collect(Frame(i));
                if (!plan.IsEmpty) book.Commit(plan, [1]);
            }
        }
        // Killed without a "stopped" line: restart on the same log.
        using var reopened = AuditLog.Open(_path);
        var replay = reopened.Replay;
        var cancelSequence = replay.Find("rain")!.CancelSequence;
        var restarted = new CueBook(options with { FirstSequence = replay.NextSequenceNumber }, reopened, clock);
        var now = DateTimeOffset.UnixEpoch.AddTicks(clock.Micros * 10);
        var result = AuditRestore.Into(restarted, replay, reopened, now);
        var wire = new List<(long Frame, CueMessage Message)>();
        for (long i = 0; i < 250; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(40));
            var plan = restarted.Collect(Frame(i));
            if (plan.IsEmpty) continue;
            restarted.Commit(plan, [2]);
            wire.AddRange(plan.Messages.OfType<CueMessage>().Select(m => (i, m)));
        }
        Assert.Multiple(() =>
        {
            Assert.That(replay.Find("quiz")!.State, Is.EqualTo(AuditCueState.Ended), "closed by the delivered interaction-end");
            Assert.That(replay.Find("rain")!.State, Is.EqualTo(AuditCueState.Cancelled));
            Assert.That(cancelSequence, Is.Not.Null);
            Assert.That(result.Resent, Is.EqualTo(2), "the interaction-end and the cancel message, both within their hold");
            Assert.That(wire.Select(w => w.Message.SequenceNumber), Has.None.EqualTo(quiz).And.None.EqualTo(rain), "closed cues never ride again");
            Assert.That(wire.Where(w => w.Message.SequenceNumber == quizEnd).Select(w => (w.Message.Kind, w.Message.CueId)).Distinct(),
                Is.EqualTo(new[] { (MessageKind.InteractionEnd, "quiz") }));
            Assert.That(wire.Where(w => w.Message.SequenceNumber == cancelSequence).Select(w => (w.Message.Kind, w.Message.CueId)).Distinct(),
                Is.EqualTo(new[] { (MessageKind.Cancel, "rain") }));
            // quiz's window ends 11 s after the first run's first frame, 5 s of which were gone at the crash: ~6 s left.
            Assert.That(wire.Where(w => w.Message.SequenceNumber == quizEnd).Max(w => w.Frame), Is.InRange(100, 175));
            Assert.That(wire.Where(w => w.Message.SequenceNumber == cancelSequence).Max(w => w.Frame), Is.GreaterThanOrEqualTo(225), "rain's window runs to 30.5 s");
            Assert.That(restarted.Snapshot() is { Cancelled: 1, Delivered: 3 });
        });
    }

    private const string AcceptedA = """{"n":1,"event":"accepted","id":"a","kind":"interaction-start","at_offset":5,"duration":30,"spread":2,"data":"","seq":4}""";

    private const string Carrier = "\"pts\":5000,\"pts_time\":5,\"frame\":125,\"wall\":\"2026-11-28T20:00:00Z\",\"sei_sha256\":\"ab\"";

    // Numbers no injector writes (sequence numbers past 2^53 - 1, seconds past what a TimeSpan holds) overflowed later:
    // TimeSpan.FromSeconds threw OverflowException (unhandled, exit 134), a sequence number past 2^53 - 1 failed the
    // run's first signature (exit 70). They are refused as the line is read, naming the line and the field.
    [TestCase("""{"n":2,"event":"seq_reserved","through":9223372036854775000}""", "through 9223372036854775000 is not a whole number from 0 to 2^53 - 1")]
    [TestCase("""{"n":2,"event":"seq_reserved","through":9007199254740992}""", "through 9007199254740992 is not a whole number")]
    [TestCase("""{"n":2,"event":"seq_reserved","through":9007199254740991}""", "through 9007199254740991 leaves the next run fewer than 2^32 sequence numbers")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":0,"spread":0,"data":"","seq":9007199254740000}""", "seq 9007199254740000 leaves the next run")]
    [TestCase("""{"n":2,"event":"seq_reserved","through":1e300}""", "through 1e300 is not a whole number")]
    [TestCase("""{"n":2,"event":"seq_reserved","through":-2}""", "through -2 is not a whole number")]
    [TestCase("""{"n":9223372036854775807,"event":"seq_reserved","through":5}""", "n 9223372036854775807 is not a whole number")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":1e300,"spread":0,"data":"","seq":5}""", "duration 1e300 is not a non-negative number of seconds")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":-1,"spread":0,"data":"","seq":5}""", "duration -1 is not a non-negative number of seconds")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":0,"spread":1e300,"data":"","seq":5}""", "spread 1e300")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","at_offset":1e300,"duration":0,"spread":0,"data":"","seq":5}""", "at_offset 1e300")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","at_pts":-1e300,"duration":0,"spread":0,"data":"","seq":5}""", "at_pts -1e300")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":0,"spread":0,"data":"","seq":9223372036854775000}""", "seq 9223372036854775000")]
    [TestCase("""{"n":2,"event":"accepted","id":"b","kind":"custom","duration":90000,"spread":0,"data":"","seq":5}""", "duration and spread must be between 0 and 24 h")]
    [TestCase("""{"n":2,"event":"delivered","id":"a",""" + Carrier + ""","hold":1e300}""", "hold 1e300")]
    [TestCase("""{"n":2,"event":"delivered","id":"a","pts":1e19,"frame":1,"wall":"2026-11-28T20:00:00Z","sei_sha256":"ab"}""", "pts 1e19")]
    [TestCase("""{"n":2,"event":"delivered","id":"a","pts":5,"frame":-1,"wall":"2026-11-28T20:00:00Z","sei_sha256":"ab"}""", "frame -1")]
    [TestCase("""{"n":2,"event":"delivered","id":"a",""" + Carrier + ""","transmission_seq":9223372036854775000}""", "transmission_seq 9223372036854775000")]
    [TestCase("""{"n":2,"event":"cancel_delivered","id":"a","close_seq":9223372036854775000,""" + Carrier + "}", "close_seq 9223372036854775000")]
    [TestCase("""{"n":2,"event":"cancelled","id":"a","close_seq":-5}""", "close_seq -5")]
    [TestCase("""{"n":2,"event":"bus_position","entry":"1-0","seq":9223372036854775000}""", "seq 9223372036854775000")]
    public void NumberOutOfRange_IsRefused_NamingTheLineAndField(string record, string problem)
    {
        var e = Assert.Throws<AuditLogException>(() => AuditReplay.Parse(Encoding.UTF8.GetBytes(AcceptedA + "\n" + record + "\n"), "audit.jsonl"))!;
        Assert.That(e.Message, Does.StartWith($"audit.jsonl: line 2 (byte {AcceptedA.Length + 1}) is not a valid audit record: ").And.Contain(problem));
    }

    [Test]
    public void NumbersAtTheirLimits_AreTaken()
    {
        var log = AcceptedA + "\n" + $$"""{"n":2,"event":"seq_reserved","through":{{AuditReplay.MaxCounterSequence}}}""" + "\n"
            + """{"n":3,"event":"delivered","id":"a","pts":-9007199254740991,"frame":9007199254740991,"wall":"2026-11-28T20:00:00Z","sei_sha256":"ab","transmission_seq":9007199254740991}""" + "\n";
        var replay = AuditReplay.Parse(Encoding.UTF8.GetBytes(log), "audit.jsonl");
        Assert.That(replay.NextSequenceNumber, Is.EqualTo(AuditReplay.MaxCounterSequence + 1));
    }

    // A close may hold for as long as --close-hold reads (thousands of years): the window left ends with the calendar
    // instead of overflowing DateTimeOffset (ArgumentOutOfRangeException in the restore, exit 70).
    [Test]
    public void HoldPastTheEndOfTheCalendar_LeavesTheRestOfTheCalendar()
    {
        var log = AcceptedA + "\n" + """{"n":2,"event":"delivered","id":"a",""" + Carrier + ""","hold":400000000000}""" + "\n";
        var cue = AuditReplay.Parse(Encoding.UTF8.GetBytes(log), "audit.jsonl").Find("a")!;
        Assert.That(cue.RemainingWindow(T0), Is.EqualTo(DateTimeOffset.MaxValue - T0));
    }
}
