using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Tests.Cues;
using CatEvening.SeiInjector.Timing;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Timing;

/// <summary>The program timeline on its own: wraps, resets, gaps, missing timestamps and arrival pacing.</summary>
public class MediaTimelineTests
{
    private const long None = TimestampTrack.NoTimestamp;
    private static readonly Rational Ts = new(1, 90_000);
    private static readonly Rational Flv = new(1, 1000);
    private const long TsFrame = 3600;
    private const long FlvFrame = 40;

    private static MediaTimeline Timeline(CueBookTests.ManualClock? clock = null) => new(clock ?? new CueBookTests.ManualClock());

    /// <summary>Feeds frames with PTS = DTS at the given raw values; returns what the timeline made of them.</summary>
    private static List<TimelineFrame> Feed(MediaTimeline timeline, Rational timeBase, IEnumerable<long> raw) =>
        raw.Select(t => timeline.Advance(timeBase, t, t)).ToList();

    private static IEnumerable<long> Run(long first, int count, long step) => Enumerable.Range(0, count).Select(i => first + (i * step));

    [Test]
    public void IncreasingTimestamps_GoOutAsTheyCame_AndProgramTimeCountsFromTheFirstFrame()
    {
        var timeline = Timeline();
        var raw = Run(126_000, 50, TsFrame).ToList();
        var frames = Feed(timeline, Ts, raw);
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.Dts), Is.EqualTo(raw));
            Assert.That(frames.Select(f => f.Pts), Is.EqualTo(raw));
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 50).Select(i => i * 40_000L)));
            Assert.That(frames.Select(f => f.Repair), Is.All.EqualTo(TimestampRepair.None));
            Assert.That(timeline.Session!.Discontinuities, Is.Zero);
        });
    }

    [TestCase(33, 90_000, TsFrame, TestName = "MpegTs33BitWrap_IsUnwrapped_OutputKeepsTheLowBits_ProgramTimeRunsOn")]
    [TestCase(32, 1000, FlvFrame, TestName = "Flv32BitWrap_IsUnwrapped_OutputKeepsTheLowBits_ProgramTimeRunsOn")]
    [TestCase(31, 1000, FlvFrame, TestName = "Flv31BitWrapAsFFmpegsMuxerWrites_IsUnwrapped_OutputKeepsTheLowBits_ProgramTimeRunsOn")]
    public void CounterWrap(int bits, int hz, long frame)
    {
        var timeline = Timeline();
        var period = 1L << bits;
        var unwrapped = Run(period - (20 * frame) + 7, 50, frame).ToList();
        var frames = Feed(timeline, new Rational(1, hz), unwrapped.Select(t => t % period));
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.Dts), Is.EqualTo(unwrapped), "the container's counter, unwrapped: a muxer keeps the same low bits");
            Assert.That(frames.Select(f => f.Dts % period), Is.EqualTo(unwrapped.Select(t => t % period)));
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 50).Select(i => i * 40_000L)));
            Assert.That(frames.Count(f => f.Repair == TimestampRepair.Wrap), Is.EqualTo(1));
            Assert.That(timeline.Session!.Wraps, Is.EqualTo(1));
            Assert.That(timeline.Session.Discontinuities, Is.Zero);
        });
    }

    [Test]
    public void ForwardJumpOf2Pow31Ms_AsFFmpegsDemuxerShowsA31BitFlv_IsAWrap_NotATimeJump()
    {
        var timeline = Timeline();
        var raw = Run(2_147_483_648L - 200, 5, FlvFrame).Concat(Run(4_294_967_296L, 5, FlvFrame)).ToList();
        var frames = Feed(timeline, Flv, raw);
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 10).Select(i => i * 40_000L)));
            Assert.That(frames.Select(f => f.Dts % (1L << 31)), Is.EqualTo(raw.Select(t => t % (1L << 31))));
            Assert.That(timeline.Session!.Discontinuities, Is.Zero);
        });
    }

    [TestCase(0L, TestName = "RestartAtZero_IsBridgedByTheFrameSpacing_CountedOnce")]
    [TestCase(55_000L, TestName = "JumpForwardFarBeyondTheSpacing_IsBridgedByTheFrameSpacing_CountedOnce")]
    public void Discontinuity(long secondSessionStartMs)
    {
        var timeline = Timeline();
        var raw = Run(1000, 63, FlvFrame).Concat(Run(secondSessionStartMs, 63, FlvFrame)).ToList();
        var frames = Feed(timeline, Flv, raw);
        var dts = frames.Select(f => f.Dts).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(dts.Take(63), Is.EqualTo(raw.Take(63)), "untouched before the jump");
            Assert.That(dts.Zip(dts.Skip(1)).Select(p => p.Second - p.First), Is.All.EqualTo(FlvFrame), "the second session follows the first");
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 126).Select(i => i * 40_000L)));
            Assert.That(frames[63].Repair, Is.EqualTo(TimestampRepair.Discontinuity));
            Assert.That(timeline.Session!.Discontinuities, Is.EqualTo(1));
            Assert.That(timeline.ToStreamTime(4_000_000), Is.EqualTo(dts[100]), "program time maps back onto the timestamps written");
        });
    }

    [TestCase(987_654_321L, TestName = "OneCorruptPacket_FarForward_IsBridgedAndUndoneAtTheNextPacket")]
    [TestCase(3L, TestName = "OneCorruptPacket_FarBackwards_IsBridgedAndUndoneAtTheNextPacket")]
    [TestCase(126_000L + (10 * TsFrame), TestName = "OneCorruptPacket_SlightlyBackwards_IsBridgedAndUndoneAtTheNextPacket")]
    public void CorruptPacket(long corrupt)
    {
        var timeline = Timeline();
        var raw = Run(126_000, 60, TsFrame).ToList();
        var fed = raw.ToList();
        fed[30] = corrupt;
        var frames = Feed(timeline, Ts, fed);
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.Dts), Is.EqualTo(raw), "the corrupt packet takes its place in the line; the rest stays untouched");
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 60).Select(i => i * 40_000L)));
        });
    }

    [Test]
    public void MissingTimestampsMidStream_AreInterpolatedFromTheNeighbours()
    {
        var timeline = Timeline();
        var raw = Run(126_000, 20, TsFrame).ToList();
        var frames = raw.Select((t, i) => i is 10 or 11 ? timeline.Advance(Ts, None, None) : timeline.Advance(Ts, t, t)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.Dts), Is.EqualTo(raw));
            Assert.That(frames.Select(f => f.Pts), Is.EqualTo(raw));
            Assert.That(frames[10].Repair, Is.EqualTo(TimestampRepair.Interpolated));
            Assert.That(timeline.Session!.Interpolated, Is.EqualTo(2));
        });
    }

    [Test]
    public void MissingPtsWithDts_TakesTheDtsPlusTheStreamsReorderDelay()
    {
        var timeline = Timeline();
        var a = timeline.Advance(Flv, 80, 0);
        var b = timeline.Advance(Flv, 200, 40);
        var c = timeline.Advance(Flv, 120, 80);
        var d = timeline.Advance(Flv, None, 120);
        Assert.Multiple(() =>
        {
            Assert.That((a.Pts, b.Pts, c.Pts), Is.EqualTo((80L, 200L, 120L)));
            Assert.That((d.Pts, d.Dts), Is.EqualTo((160L, 120L)), "DTS + the smallest PTS lead seen");
            Assert.That(d.Repair, Is.EqualTo(TimestampRepair.Interpolated));
        });
    }

    [Test]
    public void FramesBeforeTheFirstTimestamp_AreStampedFromTheLeadingStart_ProgramTimeStartsAtTheFirstTimestamp()
    {
        var timeline = Timeline();
        timeline.BeginSession(Ts, 0, leadingStart: 126_000);
        var first = timeline.Advance(Ts, None, None);
        var second = timeline.Advance(Ts, None, None);
        var rest = Feed(timeline, Ts, Run(135_120, 10, TsFrame));
        Assert.Multiple(() =>
        {
            Assert.That((first.Dts, second.Dts), Is.EqualTo((126_000L, 129_600L)), "as ffmpeg stamps them");
            Assert.That((first.ProgramTime, second.ProgramTime), Is.EqualTo((MediaTimeline.BeforeStart, MediaTimeline.BeforeStart)));
            Assert.That(rest.Select(f => f.Dts), Is.EqualTo(Run(135_120, 10, TsFrame)));
            Assert.That(rest.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 10).Select(i => i * 40_000L)));
        });
    }

    [Test]
    public void RawInput_IsStampedAtTheFrameRate_AndThatIsItsMediaTime()
    {
        var timeline = Timeline();
        var tb = new Rational(1, 1_200_000);
        timeline.BeginSession(tb, frameSpacing: 48_000, leadingStart: 0, synthesized: true);
        var frames = Enumerable.Range(0, 30).Select(_ => timeline.Advance(tb, None, None)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(frames.Select(f => f.Dts), Is.EqualTo(Enumerable.Range(0, 30).Select(i => i * 48_000L)));
            Assert.That(frames.Select(f => f.ProgramTime), Is.EqualTo(Enumerable.Range(0, 30).Select(i => i * 40_000L)));
            Assert.That(frames.Select(f => f.Repair), Is.All.EqualTo(TimestampRepair.None), "stamping a stream that has no timestamps is the plan, not a repair");
        });
    }

    [Test]
    public void WallClock_MapsThroughArrivalPacing_NotThroughTheMomentABacklogIsHandedOver()
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        var start = clock.Micros;
        // 2 s of probed frames handed over at once, then real time.
        Feed(timeline, Flv, Run(0, 50, FlvFrame));
        foreach (var t in Run(2000, 25, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        Assert.Multiple(() =>
        {
            Assert.That(timeline.ProgramTimeAt(clock.Micros), Is.EqualTo(2_960_000), "the frame arriving now");
            Assert.That(timeline.ProgramTimeAt(clock.Micros + 1_000_000), Is.EqualTo(3_960_000), "the frame that will arrive 1 s from now");
            Assert.That(timeline.ProgramTimeAt(start), Is.EqualTo(1_960_000), "the backlog's frames were older than their handover");
        });
    }

    [Test]
    public void Reconnect_ProgramTimeGoesOnByTheWallClockGap_AndTheNewSessionsTimestampsGoOutAsTheyCome()
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        foreach (var t in Run(5000, 50, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        clock.Advance(TimeSpan.FromSeconds(3));
        timeline.MarkReconnect();
        var session = timeline.BeginSession(Flv);
        var first = timeline.Advance(Flv, 0, 0);
        Assert.Multiple(() =>
        {
            Assert.That(first.Dts, Is.Zero, "a new output session starts afresh");
            Assert.That(first.ProgramTime, Is.EqualTo(1_960_000 + 3_000_000));
            Assert.That(session.Discontinuities, Is.Zero);
            Assert.That(timeline.Sessions, Is.EqualTo(2));
        });
    }

    // Field case (tester, sixth session): a cue asked for while FFmpeg's probe was still reading a fresh publisher's
    // first 5 s went out on frame 0 (target -3.7 s), the whole burst being taken as arriving at the hand-over.
    [Test]
    public void ProbeBacklog_OfAFreshPublisher_IsPacedFromTheMomentTheInputWasUp_ThenFromTheLiveEdge()
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        var up = clock.Micros; // the publisher's connection is up; it sends frame d at up + d
        clock.Advance(TimeSpan.FromSeconds(5)); // the probe reads 5 s of media, then hands it over at once
        timeline.BeginSession(Flv, openedAgo: TimeSpan.FromSeconds(5));
        timeline.Advance(Flv, 0, 0);
        var atFirstFrame = timeline.ProgramTimeAt(up + 2_440_000);
        foreach (var t in Run(40, 124, FlvFrame)) timeline.Advance(Flv, t, t);
        var afterBurst = timeline.ProgramTimeAt(up + 2_440_000);
        // Then the live edge: one frame interval apart, frame d arriving at up + d + 40 ms.
        foreach (var t in Run(5000, 25, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        Assert.Multiple(() =>
        {
            Assert.That(atFirstFrame, Is.EqualTo(2_440_000), "the frame made 2.44 s after the input was up, already at the burst's first frame");
            Assert.That(afterBurst, Is.EqualTo(2_440_000), "the burst's frames arrived no later than real time from then");
            Assert.That(timeline.ProgramTimeAt(up + 2_440_000), Is.EqualTo(2_400_000), "from the live edge on, measured: the live frames arrive 40 ms after that pace");
        });
    }

    // Field case (tester, sixth session): after a publisher reconnected, the new session's first frame was placed 5 s
    // (the probe) too late in program time, so a cue at 14 s went out on it, 4.2 s of video early.
    [Test]
    public void Reconnect_TheGapIsMeasuredToWhenTheInputWasUp_NotToTheProbesHandOver()
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        foreach (var t in Run(0, 200, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        clock.Advance(TimeSpan.FromSeconds(2)); // the publisher is away 2 s and connects again
        clock.Advance(TimeSpan.FromSeconds(5)); // the probe of the new connection
        timeline.MarkReconnect();
        timeline.BeginSession(Flv, openedAgo: TimeSpan.FromSeconds(5));
        var reconnectedAt = clock.Micros - 5_000_000;
        var first = timeline.Advance(Flv, 0, 0);
        var atFirstFrame = timeline.ProgramTimeAt(reconnectedAt + 2_960_000);
        Assert.Multiple(() =>
        {
            Assert.That(first.ProgramTime, Is.EqualTo(7_960_000 + 2_000_000), "the last frame of the first session plus the 2 s away");
            Assert.That(atFirstFrame, Is.EqualTo(first.ProgramTime + 2_960_000), "a wall-clock cue 2.96 s after the reconnection, placed at the burst's first frame");
        });
    }

    [Test]
    public void Reconnect_WithoutTheOpeningMoment_MeasuresTheGapToTheHandOver_AsBefore()
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        foreach (var t in Run(0, 200, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        clock.Advance(TimeSpan.FromSeconds(7));
        timeline.MarkReconnect();
        timeline.BeginSession(Flv);
        Assert.That(timeline.Advance(Flv, 0, 0).ProgramTime, Is.EqualTo(7_960_000 + 7_000_000));
    }

    [TestCase(true, TestName = "ReopenedInputOnAKeptOutput_VideoFirst_EveryStreamFollowsWhatWasWritten_ByOneShift")]
    [TestCase(false, TestName = "ReopenedInputOnAKeptOutput_AudioFirst_EveryStreamFollowsWhatWasWritten_ByOneShift")]
    public void FollowingSession(bool videoFirst)
    {
        var clock = new CueBookTests.ManualClock();
        var timeline = Timeline(clock);
        timeline.BeginSession(Flv);
        foreach (var t in Run(5000, 50, FlvFrame))
        {
            clock.Advance(TimeSpan.FromMilliseconds(FlvFrame));
            timeline.Advance(Flv, t, t);
        }
        // The pipeline's resume point: the end of what was written (5000 + 50 frames, ms) plus 3 s away.
        clock.Advance(TimeSpan.FromSeconds(3));
        const long resumeMs = 5000 + (50 * FlvFrame) + 3000;
        var session = timeline.BeginSession(Flv);
        session.Follow(resumeMs * 1000);
        var audio = session.AddTrack(new Rational(1, 48_000));
        long audioDts = 0;
        if (!videoFirst) audioDts = audio.Next(96_000 - 960, 96_000 - 960, 1024).Dts;
        var first = timeline.Advance(Flv, 2000, 2000);
        var videoDts = first.Dts;
        var firstProgram = first.ProgramTime;
        if (videoFirst) audioDts = audio.Next(96_000 - 960, 96_000 - 960, 1024).Dts;
        var next = timeline.Advance(Flv, 2000 + FlvFrame, 2000 + FlvFrame);
        Assert.Multiple(() =>
        {
            var videoShiftMs = videoDts - 2000;
            var audioShiftMs = (audioDts - (96_000 - 960)) / 48.0;
            Assert.That(videoShiftMs, Is.EqualTo(audioShiftMs).Within(1), "audio and video moved by the same amount");
            Assert.That(videoFirst ? videoDts : audioDts * 1000 / 48_000, Is.EqualTo(resumeMs), "the first packet goes out at the resume point");
            Assert.That(next.Dts - videoDts, Is.EqualTo(FlvFrame), "the session then runs as it came");
            Assert.That(next.Repair, Is.EqualTo(TimestampRepair.None));
            Assert.That(session.Discontinuities, Is.Zero, "a followed session is not a discontinuity");
            Assert.That(firstProgram, Is.EqualTo(1_960_000 + 3_000_000), "program time runs on by the wall-clock gap");
        });
    }

    [TestCase(true, TestName = "AudioAndVideoRestart_VideoFirst_AudioTakesTheVideosShift")]
    [TestCase(false, TestName = "AudioAndVideoRestart_AudioFirst_VideoTakesTheAudiosShift")]
    public void AudioFollowsVideo(bool videoFirst)
    {
        var timeline = Timeline();
        var session = timeline.BeginSession(Flv);
        var audio = session.AddTrack(Flv);
        var shifts = new List<(long Video, long Audio)>();
        long videoShift = 0, audioShift = 0;
        void Video(long t) { var f = timeline.Advance(Flv, t, t); videoShift = f.Dts - t; }
        void Audio(long t) { var s = audio.Next(t, t, 21); audioShift = s.Dts - t; }
        for (var i = 0; i < 63; i++)
        {
            Video(i * FlvFrame);
            Audio(i * FlvFrame);
            Audio((i * FlvFrame) + 21);
        }
        for (var i = 0; i < 20; i++)
        {
            if (videoFirst) Video(i * FlvFrame);
            Audio(i * FlvFrame);
            Audio((i * FlvFrame) + 21);
            if (!videoFirst) Video(i * FlvFrame);
            shifts.Add((videoShift, audioShift));
        }
        Assert.Multiple(() =>
        {
            Assert.That(shifts.Select(s => s.Audio - s.Video), Is.All.Zero, "one shift for both streams");
            Assert.That(videoShift, Is.EqualTo((62 * FlvFrame) + FlvFrame), "the video follows its last frame by the frame spacing");
            Assert.That(session.Discontinuities, Is.EqualTo(1));
        });
    }

    // H1 as FFmpeg's FLV muxer writes it: the first session's audio runs ~100 ms past its last video frame.
    [TestCase(true, TestName = "Restart_AudioRanPastTheVideo_VideoFirst_VideoFollowsByTheFrameSpacing_AudioCatchesUpOnTheSameShift")]
    [TestCase(false, TestName = "Restart_AudioRanPastTheVideo_AudioFirst_VideoFollowsByTheFrameSpacing_AudioCatchesUpOnTheSameShift")]
    public void AudioOverhang(bool videoFirst)
    {
        var timeline = Timeline();
        var session = timeline.BeginSession(Flv);
        var audio = session.AddTrack(Flv);
        var video = new List<TimelineFrame>();
        var audioOut = new List<(long Raw, long Dts)>();
        void Video(long t) => video.Add(timeline.Advance(Flv, t, t));
        void Audio(long t) => audioOut.Add((t, audio.Next(t, t, 21).Dts));
        for (var i = 0; i < 63; i++) Video(i * FlvFrame);
        for (var t = 0L; t <= 2576; t += 21) Audio(t);
        var firstSession = video.Count;
        var firstAudio = audioOut.Count;
        for (var i = 0; i < 20; i++)
        {
            if (videoFirst) Video(i * FlvFrame);
            Audio(i * 42);
            Audio((i * 42) + 21);
            if (!videoFirst) Video(i * FlvFrame);
        }
        var videoShift = video[^1].Dts - (19 * FlvFrame);
        Assert.Multiple(() =>
        {
            Assert.That(video[firstSession].Dts - video[firstSession - 1].Dts, Is.EqualTo(FlvFrame), "no gap: one frame spacing");
            Assert.That(video.Skip(firstSession).Select(f => f.Dts - videoShift), Is.EqualTo(Run(0, 20, FlvFrame)), "the new session by one shift");
            var dts = audioOut.Select(a => a.Dts).ToList();
            Assert.That(dts.Zip(dts.Skip(1)).All(p => p.Second > p.First), Is.True, "audio DTS strictly increasing");
            Assert.That(audioOut[^1].Dts - audioOut[^1].Raw, Is.EqualTo(videoShift), "audio back in step with the video once past the old session's end");
            Assert.That(audioOut.Skip(firstAudio).Count(a => a.Dts - a.Raw != videoShift), Is.LessThanOrEqualTo(4), "only the overlap was moved on");
            Assert.That(session.Discontinuities, Is.EqualTo(1));
            Assert.That(video.Skip(firstSession).Select(f => f.ProgramTime).First() - video[firstSession - 1].ProgramTime, Is.EqualTo(40_000));
        });
    }

    // Field case (fresh tester, live MPEG-TS with --analyze-duration 500ms): an AAC PES carries 15 frames; FFmpeg gives the
    // first its PTS and the 14 after it none and no duration. Stamped at the track's spacing, the next PES's real
    // timestamp must not read as a jump back: audio went out 301 ms late for the rest of the run.
    private const long AacFrame = 1920; // 1024 samples at 48 kHz in 90 kHz ticks

    private static List<TrackStep> FeedPes(TimestampTrack audio, int pesCount, int framesPerPes, long first)
    {
        var steps = new List<TrackStep>();
        for (var p = 0; p < pesCount; p++)
            for (var f = 0; f < framesPerPes; f++)
                steps.Add(f == 0 ? audio.Next(first + ((long)p * framesPerPes * AacFrame), first + ((long)p * framesPerPes * AacFrame), 0) : audio.Next(None, None, 0));
        return steps;
    }

    [Test]
    public void AudioFramesWithoutTimestamps_StampedAtTheCodecsFrameDuration_GoOutAsFFmpegStampsThem()
    {
        var session = Timeline().BeginSession(Ts);
        var audio = session.AddTrack(Ts, new Rational(1024, 48_000));
        var steps = FeedPes(audio, pesCount: 4, framesPerPes: 15, first: 131_280);
        Assert.Multiple(() =>
        {
            Assert.That(steps.Select(s => s.Dts), Is.EqualTo(Run(131_280, 60, AacFrame)), "every frame where ffmpeg -c copy puts it");
            Assert.That(session.Discontinuities, Is.Zero);
        });
    }

    // 1024 samples at 44.1 kHz are 2089.796 ticks: an encoder's timestamps count samples and round each one, so the frames
    // between two PES timestamps are that exact duration apart, not a rounded spacing summed (which drifts a tick every
    // five frames and would make the next PES a jump).
    [Test]
    public void AudioFramesWithoutTimestamps_AtAFractionalFrameDuration_AreStampedByTheExactDuration()
    {
        var session = Timeline().BeginSession(Ts);
        var audio = session.AddTrack(Ts, new Rational(1024, 44_100));
        long Truth(int frame) => 131_110 + (long)Math.Round(frame * 1024L * 90_000 / 44_100.0, MidpointRounding.AwayFromZero);
        var steps = new List<TrackStep>();
        for (var frame = 0; frame < 60; frame++)
            steps.Add(frame % 15 == 0 ? audio.Next(Truth(frame), Truth(frame), 0) : audio.Next(None, None, 0));
        Assert.Multiple(() =>
        {
            Assert.That(steps.Select((s, i) => Math.Abs(s.Dts - Truth(i))).Max(), Is.LessThanOrEqualTo(1), "within the encoder's rounding");
            Assert.That(steps.Where((s, i) => i % 15 == 0).Select(s => s.Repair), Is.All.EqualTo(TimestampRepair.None), "each PES's own timestamp goes out as it came");
            Assert.That(session.Discontinuities, Is.Zero);
        });
    }

    [Test]
    public void AudioFramesWithoutTimestamps_AGuessedSpacingThatRanPast_IsCaughtUp_NotAShift()
    {
        // No spacing known (a codec without a frame size): the 40 ms default is too wide for 21.3 ms AAC frames.
        var session = Timeline().BeginSession(Ts);
        var audio = session.AddTrack(Ts);
        var steps = FeedPes(audio, pesCount: 6, framesPerPes: 15, first: 131_280);
        var dts = steps.Select(s => s.Dts).ToList();
        var given = Enumerable.Range(0, 6).Select(p => (Index: p * 15, Raw: 131_280 + (p * 15 * AacFrame))).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(dts.Zip(dts.Skip(1)).All(p => p.Second > p.First), Is.True, "DTS strictly increasing");
            Assert.That(session.Discontinuities, Is.Zero, "not a discontinuity: nothing is shifted");
            // Once caught up, every PES starts where its own timestamp says: audio stays in step with the video.
            Assert.That(given.Skip(2).Select(g => dts[g.Index]), Is.EqualTo(given.Skip(2).Select(g => g.Raw)));
            // ...and the spacing learnt from the catch-up stamps the frames between them one AAC frame apart.
            Assert.That(dts[(3 * 15) + 14] - dts[3 * 15], Is.EqualTo(14 * AacFrame));
        });
    }
}
