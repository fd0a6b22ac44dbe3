using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Cues;

/// <summary>
/// Sequence numbers in transmission order (issue 10, item 2): a whole show of synthetic frames goes through the real
/// book, source (signing, SEI NAL) and reader, with a heartbeat on every frame. Every cue must verify however many
/// heartbeats went before it, in a reader fed from the first frame and in one that joins late.
/// </summary>
[Category("LongShow")]
public class LongShowTests
{
    private const string StreamId = "show-1";
    private static readonly Rational TimeBase90k = new(1, 90_000);

    private sealed record Seen(string CueId, long TargetPts, long Sequence, long Transmission);

    /// <summary>6 hours at 60 fps (1,296,000 frames, each signed and verified, ~2.6 million ECDSA operations), cues at
    /// 1, 180 and 359 minutes; the first has a window to the end of the show, so the late joiner (at 179 minutes) gets it
    /// from the carousel. Run by name (<c>dotnet test --filter FullyQualifiedName~SixHourShow</c>): on 2026-11-30 it passed in
    /// 18 min 43 s on the shared 2-core machine at a load average of about 30 (3 min 13 s of CPU), far over the minute a
    /// test of the normal suite may take there; the cost is the ECDSA signing and verifying of every frame, which an honest
    /// test of the replay window cannot skip. The 40-minute case below runs in every test run.</summary>
    [Test, Explicit("3 minutes of CPU, 19 minutes under load; the 40-minute case runs in every test run")]
    public void SixHourShowAt60Fps_FrameHeartbeats_EveryCueVerifies_FromTheStartAndForALateJoiner() =>
        Show(TimeSpan.FromHours(6), [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(180), TimeSpan.FromMinutes(359)], TimeSpan.FromMinutes(179), everyFrame: true);

    /// <summary>The six-hour show of the issue (1,296,000 frames, cues at 1, 180 and 359 minutes, a late joiner at 179
    /// minutes) with the sampling of the 40-minute case below: every frame goes through the book and is numbered, the
    /// frames that can carry a cue and one a second are signed and fed to both readers. The last cue travels about 20 replay
    /// windows after the first; every-frame verification is the explicit test above.</summary>
    [Test]
    public void SixHourShowAt60Fps_FrameHeartbeatsSampledOncePerSecond_EveryCueVerifies_FromTheStartAndForALateJoiner() =>
        Show(TimeSpan.FromHours(6), [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(180), TimeSpan.FromMinutes(359)], TimeSpan.FromMinutes(179), everyFrame: false);

    /// <summary>The same show cut to 40 minutes (144,000 frames: the last cue travels more than twice the 65,536 replay
    /// window after the first), cues at 1, 20 and 39 minutes, a late joiner at 19 minutes. Format version 1 refused the
    /// cue at 20 minutes in every reader (72,000 heartbeats after it was numbered). Every frame goes through the book
    /// (every one is a carrier, numbered), but only the frames that can carry a cue (keyframes and the frames after each
    /// cue's time) and one frame per second besides are signed and fed to the readers, which keeps it to seconds: a
    /// replay window depends only on the highest number seen, which that sample keeps within 60 of the stream's.</summary>
    [Test]
    public void FortyMinuteShowAt60Fps_FrameHeartbeats_EveryCueVerifies_FromTheStartAndForALateJoiner() =>
        Show(TimeSpan.FromMinutes(40), [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(39)], TimeSpan.FromMinutes(19), everyFrame: false);

    private static void Show(TimeSpan length, TimeSpan[] cueTimes, TimeSpan lateJoin, bool everyFrame)
    {
        const int fps = 60;
        var frames = (long)length.TotalSeconds * fps;
        const long frameTicks = 90_000 / fps;
        var lateJoinFrame = (long)lateJoin.TotalSeconds * fps;
        var clock = new CueBookTests.ManualClock();
        var book = new CueBook(new CueBookOptions { StreamId = StreamId, Heartbeat = HeartbeatPolicy.OnEveryFrame, FirstSequence = 1_795_000_000_000 },
            clock: clock);
        // The first cue's window runs to the last cue, so a late joiner learns it from a carousel repeat.
        book.Add(new CueRequest("first", MessageKind.InteractionStart, CueTime.FromFirstFrame(cueTimes[0]), cueTimes[2] - cueTimes[0], TimeSpan.Zero, "{}"u8.ToArray()));
        book.Add(new CueRequest("middle", MessageKind.Custom, CueTime.FromFirstFrame(cueTimes[1]), TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        book.Add(new CueRequest("last", MessageKind.InteractionStart, CueTime.FromFirstFrame(cueTimes[2]), TimeSpan.FromSeconds(30), TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        using var key = SigningKey.Generate(1);
        var source = new CueSeiSource(book, new MessageSigner(key));
        source.Start(new VideoStreamDescription(0, VideoCodec.H264, NalFraming.AnnexB, TimeBase90k));

        var fromStart = Reader(key, clock);
        var late = Reader(key, clock);
        const long firstPts = 900_000;
        long lastTransmission = -1;
        long fed = 0, lateFed = 0;
        var cueFrames = cueTimes.Select(t => (long)t.TotalSeconds * fps).ToArray();
        for (long i = 0; i < frames; i++)
        {
            var pts = firstPts + i * frameTicks;
            var keyframe = i % (2 * fps) == 0;
            var frame = new VideoFrame(pts, pts, keyframe, i, TimeBase90k);
            // A cue rides on the frame at its time and the next CueBookOptions.Repeat (3) frames, then on keyframes.
            if (!everyFrame && !keyframe && i % fps != 0 && !cueFrames.Any(c => i >= c && i <= c + 8))
            {
                var plan = book.Collect(frame);
                Assert.That(plan.Messages.OfType<CueMessage>(), Is.Empty, $"frame {i} carries a cue but is not fed to the readers");
                book.Commit(plan, [0]);
                clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond / fps));
                continue;
            }
            var sei = source.SeiFor(frame);
            source.Delivered(frame, sei.Span);
            // The packet as a player's demuxer hands it over: our SEI NAL (the slices do not matter to the reader).
            fromStart.Reader.Feed(sei.Span, pts, pts);
            fed++;
            if (i >= lateJoinFrame)
            {
                late.Reader.Feed(sei.Span, pts, pts);
                lateFed++;
            }
            clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond / fps));
            if (i % 100_000 == 0)
            {
                Assert.That(fromStart.Rejected, Is.Empty, $"frame {i}: {string.Join("; ", fromStart.Rejected)}");
                var transmission = book.Snapshot().NextSequence;
                Assert.That(transmission, Is.GreaterThan(lastTransmission), "transmission numbers only go up");
                lastTransmission = transmission;
            }
        }

        long At(TimeSpan t) => firstPts + (long)(t.TotalSeconds * 90_000);
        var expected = new[] { ("first", At(cueTimes[0])), ("middle", At(cueTimes[1])), ("last", At(cueTimes[2])) };
        Assert.Multiple(() =>
        {
            Assert.That(fromStart.Rejected, Is.Empty, "nothing refused, from the start");
            Assert.That(late.Rejected, Is.Empty, "nothing refused, joining late");
            Assert.That(fromStart.Cues.Select(c => (c.CueId, c.TargetPts)), Is.EqualTo(expected), "every cue once, at its target, from the start");
            Assert.That(late.Cues.Select(c => (c.CueId, c.TargetPts)), Is.EqualTo(expected), "every cue once, at its target, joining late (the first from a carousel repeat)");
            Assert.That(fromStart.Heartbeats, Is.EqualTo(fed), "a heartbeat on every frame fed, each verified");
            Assert.That(late.Heartbeats, Is.EqualTo(lateFed));
            Assert.That(book.Snapshot().HeartbeatsSent, Is.EqualTo(frames), "every frame of the show carried a heartbeat");
            Assert.That(fromStart.Cues.Select(c => c.Sequence), Is.EqualTo(book.Cues().Select(c => c.Sequence)), "the cue numbers the book gave");
            Assert.That(fromStart.Cues[2].Transmission - fromStart.Cues[0].Transmission, Is.GreaterThan(2 * 65_536),
                "the last cue travels far beyond a 65,536 replay window after the first");
        });
    }

    private static ReaderProbe Reader(SigningKey key, CueBookTests.ManualClock clock)
    {
        var options = new VerifierOptions();
        options.StreamIds.Add(StreamId);
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey), options), VideoCodec.H264, NalFraming.AnnexB, new SeiReader.Client.TimeBase(1, 90_000),
            utcNowMicros: () => clock.Micros + 500_000);
        return new ReaderProbe(reader);
    }

    private sealed class ReaderProbe
    {
        public ReaderProbe(CueReader reader)
        {
            Reader = reader;
            reader.CueReceived += (_, e) => Cues.Add(new Seen(e.Cue.CueId, e.TargetPts!.Value, e.Cue.SequenceNumber, e.TransmissionSequenceNumber));
            reader.HeartbeatReceived += (_, _) => Heartbeats++;
            reader.MessageRejected += (_, e) => Rejected.Add($"{e.Reason}: {e.Detail}");
        }

        public CueReader Reader { get; }
        public List<Seen> Cues { get; } = [];
        public List<string> Rejected { get; } = [];
        public long Heartbeats { get; set; }
    }
}
