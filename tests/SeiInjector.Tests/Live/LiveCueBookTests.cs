using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Tests.Cues;
using CatEvening.SeiReader.Messages;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The cue book under live conditions: bursts at start, outages with timestamps starting afresh.</summary>
public class LiveCueBookTests
{
    private static readonly Rational Flv = new(1, 1000);
    private const long FrameMs = 40;

    private static CueBook Book(CueBookTests.ManualClock clock, CueBookTests.RecordingJournal journal) =>
        new(new CueBookOptions { StreamId = "live", Repeat = 0, Heartbeat = HeartbeatPolicy.Off }, journal, clock);

    private static VideoFrame Frame(long index, long pts) => new(pts, pts, index % 25 == 0, index, Flv);

    private static CueRequest Cue(string id, CueTime at, double durationSeconds) =>
        new(id, MessageKind.InteractionStart, at, TimeSpan.FromSeconds(durationSeconds), TimeSpan.Zero, ReadOnlyMemory<byte>.Empty);

    private static DateTimeOffset Wall(CueBookTests.ManualClock clock) => DateTimeOffset.UnixEpoch.AddTicks(clock.Micros * 10);

    /// <summary>Passes one frame; returns the cue messages it carries.</summary>
    private static List<CueMessage> Pass(CueBook book, VideoFrame frame)
    {
        var plan = book.Collect(frame);
        if (!plan.IsEmpty) book.Commit(plan, [1]);
        return plan.Messages.OfType<CueMessage>().ToList();
    }

    [Test]
    public void WallClockCue_AddedAfterAStartBurst_LandsOnTheFramePassingAtThatTime()
    {
        var clock = new CueBookTests.ManualClock();
        var book = Book(clock, new CueBookTests.RecordingJournal());
        long index = 0, pts = 1000;
        // The server hands over two seconds of buffered video at once, then real time.
        for (; index < 50; index++, pts += FrameMs) Pass(book, Frame(index, pts));
        for (; index < 75; index++, pts += FrameMs)
        {
            clock.Advance(TimeSpan.FromMilliseconds(FrameMs));
            Pass(book, Frame(index, pts));
        }
        book.Add(Cue("wall", CueTime.At(Wall(clock).AddSeconds(1)), 5));
        long? carrierPts = null;
        long offset = 0;
        for (; index < 150 && carrierPts is null; index++, pts += FrameMs)
        {
            clock.Advance(TimeSpan.FromMilliseconds(FrameMs));
            if (Pass(book, Frame(index, pts)).SingleOrDefault() is { } cue)
            {
                carrierPts = pts;
                offset = cue.TargetOffsetTicks;
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(carrierPts, Is.EqualTo(1000 + (99 * FrameMs)), "the frame passing 1 s after the cue was added, not the first frame's wall clock + 1 s");
            Assert.That(offset, Is.Zero);
        });
    }

    [Test]
    public void AfterAnOutage_OpenCueGoesOutOnTheFirstFrame_ClosedOneExpires_AndTimestampsMayStartAfresh()
    {
        var clock = new CueBookTests.ManualClock();
        var journal = new CueBookTests.RecordingJournal();
        var book = Book(clock, journal);
        long index = 0, pts = 0;
        for (; index < 50; index++, pts += FrameMs)
        {
            clock.Advance(TimeSpan.FromMilliseconds(FrameMs));
            Pass(book, Frame(index, pts));
        }
        // The links drop for 3 s; meanwhile one cue with a long window and one whose whole window passes are due.
        book.Add(Cue("open", CueTime.At(Wall(clock).AddSeconds(1)), 10));
        book.Add(Cue("closed", CueTime.At(Wall(clock).AddSeconds(1)), 0.5));
        clock.Advance(TimeSpan.FromSeconds(3));
        book.MarkDiscontinuity();
        // The new session's timestamps start again from zero.
        pts = 0;
        var first = Pass(book, Frame(index, pts));
        var state = journal.Cues.Where(e => e.Event is CueEvent.Delivered or CueEvent.Expired).Select(e => (e.Cue.Id, e.Event)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(first.Select(c => c.CueId), Is.EqualTo(new[] { "open" }));
            Assert.That(first[0].TargetOffsetTicks, Is.EqualTo(-2 * 90_000).Within(2 * 3600),
                "its target passed 2 s ago: the message says so, late joiners open it with the rest of the window");
            Assert.That(state, Is.EquivalentTo(new[] { ("open", CueEvent.Delivered), ("closed", CueEvent.Expired) }));
            Assert.That(book.Find("closed")!.State, Is.EqualTo(CueState.Expired));
        });
    }
}
