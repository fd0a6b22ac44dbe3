using NUnit.Framework;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Tests.Cues;

public class CueBookTests
{
    private static readonly Rational Tb = new(1, 90_000);
    private const long FrameTicks = 3600; // 25 fps at 90 kHz
    private const long FirstPts = 126_000; // 1.4 s, as an MPEG-TS stream starts

    /// <summary>
    /// Decode order of an IBBP stream (2 B-frames, one GOP of <paramref name="gop"/> frames): I0 P3 B1 B2 P6 B4 B5 …,
    /// keyframes every <paramref name="gop"/> frames, PTS in presentation slots.
    /// </summary>
    private static IEnumerable<VideoFrame> Frames(int count, int gop = 25)
    {
        var order = new List<int>();
        for (var g = 0; g < count; g += gop)
        {
            var end = Math.Min(g + gop, count);
            order.Add(g);
            for (int previous = g, anchor = g + 3; previous < end - 1; anchor += 3)
            {
                var p = Math.Min(anchor, end - 1);
                order.Add(p);
                for (var b = previous + 1; b < p; b++) order.Add(b);
                previous = p;
            }
        }
        for (var i = 0; i < order.Count; i++)
        {
            var slot = order[i];
            yield return new VideoFrame(FirstPts + (slot * FrameTicks), FirstPts + ((i - 2) * FrameTicks), slot % gop == 0, i, Tb);
        }
    }

    private static CueBook Book(int repeat = 3, HeartbeatPolicy? heartbeat = null, RecordingJournal? journal = null, ManualClock? clock = null) =>
        new(new CueBookOptions { StreamId = "test-stream", Repeat = repeat, Heartbeat = heartbeat ?? HeartbeatPolicy.Off }, journal, clock ?? new ManualClock());

    private static CueRequest Start(string id, double atSeconds, double durationSeconds = 0, string data = "") =>
        new(id, MessageKind.InteractionStart, CueTime.FromFirstFrame(TimeSpan.FromSeconds(atSeconds)),
            TimeSpan.FromSeconds(durationSeconds), TimeSpan.FromSeconds(2), System.Text.Encoding.UTF8.GetBytes(data));

    /// <summary>Runs frames through the book and returns (frame, messages) for every carrier.</summary>
    private static List<(VideoFrame Frame, List<CatEveningMessage> Messages)> Drive(CueBook book, IEnumerable<VideoFrame> frames, Action<VideoFrame>? before = null)
    {
        var carriers = new List<(VideoFrame, List<CatEveningMessage>)>();
        foreach (var f in frames)
        {
            before?.Invoke(f);
            var plan = book.Collect(f);
            if (plan.IsEmpty) continue;
            book.Commit(plan, [1, 2, 3]);
            carriers.Add((f, plan.Messages.ToList()));
        }
        return carriers;
    }

    [Test]
    public void Cue_RidesOnFirstPacketInDecodeOrderWhosePtsReachesTheTarget_AndCarriesTheOffsetToTheTarget()
    {
        var book = Book(repeat: 0);
        // Target presentation slot 13: in decode order … P15 B13 B14 …, so P15 (PTS ≥ T) comes first and must carry it.
        book.Add(Start("cue", 13 * 0.04));
        var frames = Frames(50).ToList();
        var carrier = Drive(book, frames).Single();
        var target = FirstPts + (13 * FrameTicks);
        var expected = frames.First(f => f.Pts >= target);
        var cue = (CueMessage)carrier.Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(carrier.Frame, Is.EqualTo(expected));
            Assert.That(carrier.Frame.Pts, Is.EqualTo(FirstPts + (15 * FrameTicks)), "the P-frame decoded before B13");
            Assert.That(carrier.Frame.Pts + cue.TargetOffsetTicks, Is.EqualTo(target));
            Assert.That(cue.CueId, Is.EqualTo("cue"));
            Assert.That(cue.Kind, Is.EqualTo(MessageKind.InteractionStart));
            Assert.That(cue.SpreadMicros, Is.EqualTo(2_000_000));
        });
    }

    [Test]
    public void Carousel_RepeatsOnTheNextFramesThenOnKeyframesUntilTheWindowEnds()
    {
        var journal = new RecordingJournal();
        var book = Book(repeat: 3, journal: journal);
        book.Add(Start("rain", 0.2, durationSeconds: 3));
        var frames = Frames(150).ToList();
        var carriers = Drive(book, frames);
        var first = carriers[0].Frame.FrameIndex;
        var windowEnd = FirstPts + (long)(3.2 * 90_000);
        var expectedRepeats = frames.Where(f => f.FrameIndex > first + 3 && f.IsKeyframe && f.Pts < windowEnd).Select(f => f.FrameIndex);
        Assert.Multiple(() =>
        {
            Assert.That(carriers.Select(c => c.Frame.FrameIndex),
                Is.EqualTo(new[] { first, first + 1, first + 2, first + 3 }.Concat(expectedRepeats)));
            Assert.That(carriers.SelectMany(c => c.Messages).Select(m => m.SequenceNumber).Distinct(), Is.EqualTo(new[] { 0L }), "repeats keep the sequence number");
            Assert.That(journal.Cues.Select(e => e.Event), Is.EqualTo(
                new[] { CueEvent.Accepted, CueEvent.Delivered }.Concat(Enumerable.Repeat(CueEvent.Repeated, carriers.Count - 1)).Append(CueEvent.Ended)));
            Assert.That(book.Find("rain")!.State, Is.EqualTo(CueState.Ended));
            Assert.That(expectedRepeats.Count(), Is.EqualTo(3), "keyframes at 1, 2 and 3 s fall inside [0.2 s, 3.2 s)");
        });
    }

    // The output drops right after a cue's first delivery, with its repeats still due, and stays down past the end of
    // its window (the frames pass the book unsent). When the output is back, the cue has ended: neither its repeats nor
    // the keyframe carousel send it again (a late joiner would otherwise receive an interaction that is over).
    [Test]
    public void RepeatsDueWhenTheWindowEnds_AreNotSent_TheCueEndsAtItsWindow()
    {
        var journal = new RecordingJournal();
        var book = Book(repeat: 3, journal: journal);
        book.Add(Start("short", 0.2, durationSeconds: 0.5));
        var frames = Frames(75).ToList();
        var target = FirstPts + (5 * FrameTicks);
        var first = frames.First(f => f.Pts >= target);
        var sent = new List<VideoFrame>();
        var outputDown = false;
        foreach (var f in frames)
        {
            if (outputDown && f.FrameIndex > first.FrameIndex + 30) outputDown = false;
            if (outputDown)
            {
                book.Pass(f);
                continue;
            }
            var plan = book.Collect(f);
            if (plan.IsEmpty) continue;
            book.Commit(plan, [1, 2, 3]);
            if (plan.Messages.OfType<CueMessage>().Any(m => m.CueId == "short")) sent.Add(f);
            if (f.FrameIndex == first.FrameIndex) outputDown = true;
        }
        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.EqualTo(new[] { first }), "delivered once, then the output was down past the window's end");
            Assert.That(journal.Cues.Where(e => e.Cue.Id == "short").Select(e => e.Event),
                Is.EqualTo(new[] { CueEvent.Accepted, CueEvent.Delivered, CueEvent.Ended }));
            Assert.That(book.Snapshot() is { Ended: 1, Active: 0 });
        });
    }

    [Test]
    public void CarouselRepeat_OfACueThatAlreadyFired_TellsHowLongAgoItStarted()
    {
        var book = Book(repeat: 0);
        book.Add(Start("rain", 0.2, durationSeconds: 10));
        var carriers = Drive(book, Frames(100));
        var target = FirstPts + (long)(0.2 * 90_000);
        Assert.That(carriers.Skip(1).Select(c => c.Frame.Pts + ((CueMessage)c.Messages[0]).TargetOffsetTicks), Is.All.EqualTo(target));
        Assert.That(carriers.Skip(1).Select(c => ((CueMessage)c.Messages[0]).TargetOffsetTicks), Is.All.Negative);
    }

    [Test]
    public void Heartbeats_FollowTheMediaClock_EveryFrame_OrNotAtAll()
    {
        var frames = Frames(250).ToList(); // 10 s
        var everySecond = Drive(Book(heartbeat: HeartbeatPolicy.Every(TimeSpan.FromSeconds(1))), frames);
        var everyFrame = Drive(Book(heartbeat: HeartbeatPolicy.OnEveryFrame), frames);
        var off = Drive(Book(heartbeat: HeartbeatPolicy.Off), frames);
        var beat = (HeartbeatMessage)everyFrame[7].Messages.Single();
        Assert.Multiple(() =>
        {
            Assert.That(everySecond, Has.Count.EqualTo(10));
            Assert.That(everyFrame, Has.Count.EqualTo(250));
            Assert.That(off, Is.Empty);
            Assert.That(beat.CarrierPts, Is.EqualTo(everyFrame[7].Frame.Pts));
            Assert.That(everyFrame.Select(c => c.Messages[0].SequenceNumber), Is.Ordered.Ascending.And.Unique);
        });
    }

    [Test]
    public void Heartbeats_FollowMediaTime_OfARawStreamStampedAtItsFrameRate()
    {
        var clock = new ManualClock();
        var book = Book(heartbeat: HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)), clock: clock);
        var raw = new Rational(1, 1_200_000);
        // What the pipeline does for raw Annex B: the frames are stamped 40 ms apart, and that is their media time.
        book.Timeline.BeginSession(raw, frameSpacing: 48_000, leadingStart: 0, synthesized: true);
        var frames = Enumerable.Range(0, 100).Select(i => new VideoFrame(null, null, i % 25 == 0, i, raw));
        var carriers = Drive(book, frames);
        Assert.That(carriers, Has.Count.EqualTo(4));
        Assert.That(carriers.Select(c => ((HeartbeatMessage)c.Messages[0]).CarrierPts), Is.EqualTo(new[] { 0L, 90_000, 180_000, 270_000 }));
    }

    [Test]
    public void MessagesDueOnOneFrame_ComeInSequenceOrder_WithTheHeartbeatLast()
    {
        var book = Book(heartbeat: HeartbeatPolicy.OnEveryFrame);
        book.Add(Start("b", 0.4));
        book.Add(Start("a", 0.4));
        var first = Drive(book, Frames(30)).First(c => c.Messages.Count > 1);
        Assert.That(first.Messages.Select(m => m.Kind), Is.EqualTo(new[] { MessageKind.InteractionStart, MessageKind.InteractionStart, MessageKind.Heartbeat }));
        Assert.That(first.Messages.Select(m => m.SequenceNumber), Is.Ordered.Ascending);
    }

    // Fresh tester (2026-12-01): 257 entries due on one frame, or 64 cues with 1,000-byte data, made the signer throw on
    // the pipeline thread (exit 134), and a restart from the audit log restored them and crashed again. One frame takes
    // at most 256 entries and a 65,453-byte body: first deliveries go first, what does not fit rides the next frames,
    // every plan signs (the signer is the oracle for the limits), and every cue is delivered exactly once.
    [TestCase(300, 0, TestName = "ThreeHundredCuesAtOneMoment_256APlan_EveryCueDeliveredOnce_EveryPlanSigns")]
    [TestCase(64, 1024, TestName = "SixtyFourCuesWithTheLargestData_AtMost65453BytesAPlan_EveryCueDeliveredOnce_EveryPlanSigns")]
    public void MoreDueThanOneFrameHolds_SpillsToTheNextFrames(int cues, int dataBytes)
    {
        var book = Book(repeat: 0, heartbeat: HeartbeatPolicy.OnEveryFrame);
        for (var i = 0; i < cues; i++) book.Add(Start($"c{i:000}", 0.4, data: new string('y', dataBytes)));
        using var key = SigningKey.Generate(1);
        var signer = new MessageSigner(key);
        var carriers = Drive(book, Frames(60));
        var bundles = carriers.Select(c => new MessageBundle("test-stream", c.Messages[^1].SequenceNumber, c.Messages[0].IssuedAtMicros, c.Messages)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(() => bundles.ForEach(b => signer.Sign(b)), Throws.Nothing, "every plan fits one signed payload");
            var firsts = carriers.SelectMany(c => c.Messages.OfType<CueMessage>()).Select(m => m.CueId).ToList();
            Assert.That(firsts, Is.Unique.And.Count.EqualTo(cues), "each cue delivered once (repeat 0)");
            var due = carriers.First(c => c.Messages.Count > 1);
            Assert.That(due.Messages.Count, Is.LessThanOrEqualTo(256));
            Assert.That(firsts.Take(due.Messages.Count - 1), Is.EqualTo(Enumerable.Range(0, due.Messages.Count - 1).Select(i => $"c{i:000}")), "oldest first");
            Assert.That(book.SpilledMessages, Is.EqualTo(cues - (due.Messages.Count - 1)));
            Assert.That(book.Snapshot().Delivered, Is.EqualTo(cues));
        });
    }

    // Fresh tester: with --format-version 1 each message is its own payload, and readers look at 16 payloads of an access
    // unit: 20 cues due at once put 20 on a frame, and the last 4 (and every repeat of them, on frames as full) were refused
    // unchecked by every reader. A version-1 source limits its book to 16 messages a frame, heartbeat included.
    [Test]
    public void FormatVersion1_AtMost16MessagesAFrame_HeartbeatIncluded_EveryCueDeliveredOnce()
    {
        var book = Book(repeat: 0, heartbeat: HeartbeatPolicy.OnEveryFrame);
        using var key = SigningKey.Generate(1);
        _ = new CueSeiSource(book, new MessageSigner(key), CatEveningSei.FormatVersion);
        for (var i = 0; i < 20; i++) book.Add(Start($"c{i:00}", 0.4));
        var carriers = Drive(book, Frames(60));
        Assert.Multiple(() =>
        {
            Assert.That(carriers.Select(c => c.Messages.Count), Is.All.LessThanOrEqualTo(CatEveningSei.DefaultMaxPayloadsPerAccessUnit));
            Assert.That(carriers.SelectMany(c => c.Messages.OfType<CueMessage>()).Select(m => m.CueId).ToList(), Is.Unique.And.Count.EqualTo(20));
            Assert.That(carriers.Select(c => c.Messages[^1].Kind), Is.All.EqualTo(MessageKind.Heartbeat), "the heartbeat rides every frame still");
        });
    }

    // Many windows open with large data (70 x 1,000 bytes) all ride each keyframe: more than one frame holds. Each
    // keyframe carries the ones carried longest ago first, so no window is left out of the carousel for good.
    [Test]
    public void ManyWindowsOnTheKeyframes_TakeTurns_WhenAFrameCannotHoldThemAll()
    {
        var book = Book(repeat: 0);
        for (var i = 0; i < 70; i++) book.Add(Start($"w{i:00}", 0.2 + (i * 0.001), durationSeconds: 100, data: new string('y', 1000)));
        var carriers = Drive(book, Frames(400));
        var keyframeCarriers = carriers.Where(c => c.Frame.IsKeyframe && c.Frame.FrameIndex > 30).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(keyframeCarriers, Has.Count.GreaterThanOrEqualTo(3));
            Assert.That(keyframeCarriers.Select(c => c.Messages.Count), Is.All.LessThan(70), "a keyframe cannot hold all 70");
            var seen = keyframeCarriers.Take(2).SelectMany(c => c.Messages.OfType<CueMessage>()).Select(m => m.CueId).Distinct().Count();
            Assert.That(seen, Is.EqualTo(70), "two keyframes in a row carry every window");
        });
    }

    [Test]
    public void CancelPending_DropsTheCue_AndNothingIsSent()
    {
        var journal = new RecordingJournal();
        var book = Book(journal: journal);
        book.Add(Start("later", 1.5));
        var cancelled = book.Cancel("later");
        var carriers = Drive(book, Frames(75));
        Assert.Multiple(() =>
        {
            Assert.That(cancelled.State, Is.EqualTo(CueState.Cancelled));
            Assert.That(carriers, Is.Empty);
            Assert.That(journal.Cues.Select(e => e.Event), Is.EqualTo(new[] { CueEvent.Accepted, CueEvent.Cancelled }));
            Assert.That(() => book.Cancel("later"), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.AlreadyEnded));
            Assert.That(() => book.Cancel("nope"), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.UnknownId));
        });
    }

    [Test]
    public void CancelActive_SendsASignedCancelNamingTheCue_AndStopsItsRepeats()
    {
        var journal = new RecordingJournal();
        var book = Book(repeat: 2, journal: journal);
        book.Add(Start("rain", 0, durationSeconds: 30));
        var frames = Frames(100).ToList();
        var carriers = Drive(book, frames, f =>
        {
            if (f.FrameIndex == 10) book.Cancel("rain");
        });
        var afterCancel = carriers.Where(c => c.Frame.FrameIndex >= 10).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(afterCancel.Select(c => c.Frame.FrameIndex), Is.EqualTo(new long[] { 10, 11, 12, 25, 50, 75 }),
                "the cancel goes out at once, then 2 repeats, then every keyframe of the rest of the cancelled cue's window");
            Assert.That(afterCancel.SelectMany(c => c.Messages).Cast<CueMessage>().Select(m => (m.Kind, m.CueId)),
                Is.All.EqualTo((MessageKind.Cancel, "rain")));
            // Cue 0, then one transmission number for each of the three frames that carried it (1-3): the cancel is 4.
            Assert.That(afterCancel[0].Messages[0].SequenceNumber, Is.EqualTo(4));
            Assert.That(journal.Cues.Last(e => e.Event == CueEvent.Cancelled).CloseSequence, Is.EqualTo(4));
        });
    }

    [Test]
    public void Add_RefusesDuplicateIds_OversizedData_HeartbeatKind_AndBadTiming()
    {
        var book = Book();
        book.Add(Start("x", 1));
        Assert.Multiple(() =>
        {
            Assert.That(() => book.Add(Start("x", 2)), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.DuplicateId));
            Assert.That(() => book.Add(Start("big", 2, data: new string('a', 1025))), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.AppDataTooLarge));
            Assert.That(() => book.Add(Start("ok-1024", 2, data: new string('a', 1024))), Throws.Nothing);
            Assert.That(() => book.Add(Start("x", 1) with { Id = "hb", Kind = MessageKind.Heartbeat }), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.InvalidKind));
            Assert.That(() => book.Add(Start("neg", 1) with { Duration = TimeSpan.FromSeconds(-1) }), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.InvalidTiming));
            Assert.That(() => book.Add(Start(new string('i', 65), 1)), Throws.TypeOf<CueRejectedException>().With.Property("Reason").EqualTo(CueRejection.InvalidId));
            Assert.That(book.Snapshot().Pending, Is.EqualTo(2));
        });
    }

    [Test]
    public void CueAddedAfterItsWholeWindowPassed_ExpiresWithoutBeingSent()
    {
        var journal = new RecordingJournal();
        var book = Book(journal: journal);
        var frames = Frames(100).ToList();
        var carriers = Drive(book, frames, f =>
        {
            if (f.FrameIndex == 80) book.Add(Start("too-late", 0.5, durationSeconds: 1));
        });
        Assert.Multiple(() =>
        {
            Assert.That(carriers, Is.Empty);
            Assert.That(book.Find("too-late")!.State, Is.EqualTo(CueState.Expired));
            Assert.That(journal.Cues.Select(e => e.Event), Is.EqualTo(new[] { CueEvent.Accepted, CueEvent.Expired }));
        });
    }

    [Test]
    public void Restore_SchedulesPendingCues_KeepsEndedOnesQuiet_AndContinuesSequenceNumbers()
    {
        var book = Book(repeat: 0, heartbeat: HeartbeatPolicy.OnEveryFrame);
        book.Restore(Start("pending", 0.2), 41, CueState.Pending);
        book.Restore(Start("done", 0.2), 40, CueState.Ended);
        var carriers = Drive(book, Frames(20));
        var cues = carriers.SelectMany(c => c.Messages).OfType<CueMessage>().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(cues.Select(c => (c.CueId, c.SequenceNumber)), Is.EqualTo(new[] { ("pending", 41L) }));
            Assert.That(carriers[0].Messages.OfType<HeartbeatMessage>().Single().SequenceNumber, Is.EqualTo(42));
            Assert.That(() => book.Add(Start("done", 1)), Throws.TypeOf<CueRejectedException>());
        });
    }

    [Test]
    public void Snapshot_CountsStatesAndFrames()
    {
        var book = Book(repeat: 0, heartbeat: HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)));
        book.Add(Start("a", 0.2, durationSeconds: 0.4));
        book.Add(Start("b", 5));
        var frames = Frames(50).ToList();
        Drive(book, frames);
        var s = book.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That((s.Pending, s.Active, s.Delivered, s.Ended), Is.EqualTo((1, 0, 1, 1)));
            Assert.That(s.Frames, Is.EqualTo(50));
            Assert.That(s.HeartbeatsSent, Is.EqualTo(2));
            Assert.That(s.LastPts, Is.EqualTo(frames[^1].Pts));
            Assert.That(s.NextSequence, Is.EqualTo(5), "two cue numbers, and a transmission number for each of the three carrier frames");
        });
    }

    [Test]
    public void Plans_NumberEveryCarrierFrameInTransmissionOrder_TheHeartbeatCarriesIt_AndADeferredNumberIsNeverReused()
    {
        var journal = new RecordingJournal();
        var book = Book(repeat: 2, heartbeat: HeartbeatPolicy.OnEveryFrame, journal: journal);
        book.Add(Start("a", 0.2, durationSeconds: 1));
        var committed = new List<long>();
        CuePlan? deferred = null;
        foreach (var frame in Frames(50))
        {
            var plan = book.Collect(frame);
            Assert.That(((HeartbeatMessage)plan.Messages[^1]).SequenceNumber, Is.EqualTo(plan.TransmissionSequence), $"frame {frame.FrameIndex}");
            if (frame.FrameIndex == 20)
            {
                book.Defer(plan);
                deferred = plan;
                continue;
            }
            book.Commit(plan, [1, 2, 3]);
            committed.Add(plan.TransmissionSequence);
        }
        var carried = journal.Cues.Where(e => e.Cue.Id == "a" && e.Event is CueEvent.Delivered or CueEvent.Repeated).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(committed, Is.Ordered.Ascending.And.Unique, "one number per carrier frame, increasing in transmission order");
            Assert.That(deferred!.TransmissionSequence, Is.GreaterThan(committed[19]).And.LessThan(committed[20]));
            Assert.That(committed, Does.Not.Contain(deferred.TransmissionSequence), "the deferred frame's number is not used again");
            Assert.That(committed, Does.Not.Contain(0L), "the cue's own number (0) is never a transmission number");
            Assert.That(carried, Is.Not.Empty);
            Assert.That(carried.Select(e => e.Cue.Sequence), Is.All.EqualTo(0L), "the cue keeps its number on every repeat");
            Assert.That(carried.Select(e => e.Carrier!.TransmissionSequence), Is.SubsetOf(committed).And.Unique,
                "the journal names the transmission number of each carrier frame");
        });
    }

    [Test]
    public void WallClockTarget_MapsToTheFrameDecodedAtThatTime_WhenFramesArriveInRealTime()
    {
        var clock = new ManualClock();
        var book = Book(repeat: 0, clock: clock);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(clock.Micros / 1000);
        book.Add(new CueRequest("wall", MessageKind.Custom, CueTime.At(start.AddSeconds(1)), TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        // Frame i arrives at start + 40 i ms; the one arriving 1 s after the start (i = 25) is decoded at program time
        // 0.92 s: its DTS is two frames (the B-frame reorder delay) before its slot.
        var carrier = Drive(book, Frames(50), f => clock.Advance(TimeSpan.FromMilliseconds(f.FrameIndex == 0 ? 0 : 40))).Single();
        var cue = (CueMessage)carrier.Messages[0];
        Assert.That(carrier.Frame.Pts + cue.TargetOffsetTicks, Is.EqualTo(FirstPts + 90_000 - (2 * FrameTicks)));
    }

    internal sealed class ManualClock : IWallClock
    {
        public long Micros { get; private set; } = 1_795_000_000_000_000;

        public string? TimeServer => null;

        public void Advance(TimeSpan by) => Micros += (long)by.TotalMicroseconds;

        public WallClockReading Now() => new(Micros, 1000);
    }

    internal sealed class RecordingJournal : ICueJournal
    {
        public List<CueJournalEntry> Cues { get; } = [];

        public List<StreamStateEntry> Streams { get; } = [];

        public void Record(CueJournalEntry entry) => Cues.Add(entry);

        public void Record(StreamStateEntry entry) => Streams.Add(entry);
    }
}
