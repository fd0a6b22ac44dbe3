using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Tests.Cues;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Bus;

/// <summary>
/// Hot-standby pairs (issue 13): main and backup read the same feed (same source timestamps) but start at different
/// frames; the bus gives each cue one number and a target on the source's clock. Both machines' real books, sources
/// (signing, SEI NAL) and a real reader: a viewer whose CDN fails over from one machine to the other at a keyframe
/// sees every cue exactly once, at its frame, and nothing is refused.
/// </summary>
[TestFixture]
public sealed class PairTests
{
    private const string StreamId = "feed-a";
    private const int Fps = 25;
    private const long FrameTicks = 90_000 / Fps;
    private const long FirstPts = 3_600 * 90_000L;   // the feed has been on air for an hour when the show starts
    private static readonly Rational TimeBase90k = new(1, 90_000);

    private sealed record Seen(string CueId, long TargetPts, long Sequence);

    // Cues at 2 s, 5.2 s (a window of 4 s: its repeats cross the splice) and 9 s, bus numbers 1-3, and a cancel of the second at 7 s, bus number 4.
    private static readonly (string Id, double At, double Window, long BusSeq)[] Cues = [("poll", 2, 0, 1), ("quiz", 5.2, 4, 2), ("bye", 9, 0, 3)];

    [TestCase(0, 1, 200, TestName = "Pair_MainThenBackup_SplicedAtAKeyframe_EveryCueOnceAtItsFrame_NothingRefused")]
    [TestCase(1, 0, 150, TestName = "Pair_BackupThenMain_SplicedAtAKeyframe_EveryCueOnceAtItsFrame_NothingRefused")]
    public void Pair_SplicedAtAKeyframe_EveryCueOnceAtItsFrame_NothingRefused(int first, int second, int spliceFrame)
    {
        const int frames = 300;
        using var key = SigningKey.Generate(1);
        // Main starts with the feed; backup joins 40 frames later (its own first frame, its own program time).
        var machines = new[] { Machine(0, key, startFrame: 0), Machine(1, key, startFrame: 40) };
        var reader = Reader(key, machines[0].Clock);
        var sei = new Dictionary<(int Machine, int Frame), byte[]>();
        for (var i = 0; i < frames; i++)
        {
            var pts = FirstPts + (i * FrameTicks);
            foreach (var m in machines)
            {
                if (i < m.StartFrame) continue;
                if (i == 175) m.Book.Cancel("quiz", 4);   // the bus's cancel (7 s, quiz is on air), applied by each machine
                var frame = new VideoFrame(pts, pts, i % Fps == 0, i - m.StartFrame, TimeBase90k);
                var bytes = m.Source.SeiFor(frame);
                m.Source.Delivered(frame, bytes.Span);
                sei[(m.Member, i)] = bytes.ToArray();
                m.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond / Fps));
            }
        }
        Assert.That(spliceFrame % Fps, Is.Zero, "the splice is at a keyframe");
        for (var i = 0; i < frames; i++)
        {
            var from = i < spliceFrame ? first : second;
            if (!sei.TryGetValue((from, i), out var bytes)) continue;
            var pts = FirstPts + (i * FrameTicks);
            reader.Reader.Feed(bytes, pts, pts);
        }

        long At(double seconds) => FirstPts + (long)Math.Round(seconds * 90_000);
        Assert.Multiple(() =>
        {
            Assert.That(reader.Rejected, Is.Empty, "nothing refused across the failover");
            Assert.That(reader.Cues.Select(c => (c.CueId, c.TargetPts, c.Sequence)),
                Is.EqualTo(new[] { ("poll", At(2), 1L), ("quiz", At(5.2), 2L), ("quiz", At(7), 4L), ("bye", At(9), 3L) }),
                "each cue (and the cancel, seq 4, at the frame it went out) once, at its frame, with the bus's number");
            foreach (var m in machines)
                Assert.That(m.Book.Cues().Select(c => (c.Id, c.Sequence)), Is.EqualTo(Cues.Select(c => (c.Id, c.BusSeq))), $"machine {m.Member}: the bus's numbers");
        });
    }

    [Test]
    public void Pair_SameFrame_MainEvenBackupOdd_FromTheSourceDecodingTime_RisingAsTheSourceRises()
    {
        var options = new CueBookOptions { StreamId = StreamId, Heartbeat = HeartbeatPolicy.OnEveryFrame };
        var main = new CueBook(options with { PairMember = 0 });
        var backup = new CueBook(options with { PairMember = 1 });
        var numbers = new List<(long Main, long Backup)>();
        for (var i = 0; i < 5; i++)
        {
            var pts = FirstPts + (i * FrameTicks);
            var frame = new VideoFrame(pts, pts, i == 0, i, TimeBase90k);
            var a = main.Collect(frame);
            var b = backup.Collect(frame);
            main.Commit(a, [0]);
            backup.Commit(b, [0]);
            numbers.Add((a.TransmissionSequence, b.TransmissionSequence));
        }
        var expectedMain = Enumerable.Range(0, 5).Select(i => CueBookOptions.PairTransmissionBase + (2 * ((FirstPts / 90) + (i * 40L)))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(numbers.Select(n => n.Main), Is.EqualTo(expectedMain), "main: base + 2 × DTS in ms");
            Assert.That(numbers.Select(n => n.Backup), Is.EqualTo(expectedMain.Select(n => n + 1)), "backup: the next odd number");
            Assert.That(CueBookOptions.SequenceFloorAt(new DateTimeOffset(2500, 1, 1, 0, 0, 0, TimeSpan.Zero)), Is.LessThan(CueBookOptions.PairTransmissionBase),
                "above every number a run counted from the Unix time in ms uses for centuries");
        });
    }

    private static PairMachine Machine(int member, SigningKey key, int startFrame)
    {
        var clock = new CueBookTests.ManualClock();
        clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond / Fps * startFrame));
        // Each machine's own counter starts at the Unix time in ms when its process started: the backup's process was
        // (re)started 5 minutes after main's, so alone it would number every frame 300,000 above main, beyond the
        // reader's 65,536 window when a viewer falls back to main.
        var started = DateTimeOffset.FromUnixTimeMilliseconds(clock.Micros / 1000) + TimeSpan.FromMinutes(5 * member);
        var book = new CueBook(new CueBookOptions { StreamId = StreamId, Heartbeat = HeartbeatPolicy.OnEveryFrame, PairMember = member,
            FirstSequence = CueBookOptions.SequenceFloorAt(started) }, clock: clock);
        foreach (var (id, at, window, seq) in Cues)
        {
            var sourcePts = TimeSpan.FromSeconds((FirstPts / 90_000.0) + at);
            book.Add(new CueRequest(id, MessageKind.InteractionStart, CueTime.AtSourcePts(sourcePts), TimeSpan.FromSeconds(window), TimeSpan.Zero, "{}"u8.ToArray()), seq);
        }
        var source = new CueSeiSource(book, new MessageSigner(key));
        source.Start(new VideoStreamDescription(0, VideoCodec.H264, NalFraming.AnnexB, TimeBase90k));
        return new PairMachine(member, startFrame, clock, book, source);
    }

    private sealed record PairMachine(int Member, int StartFrame, CueBookTests.ManualClock Clock, CueBook Book, CueSeiSource Source);

    private static ReaderProbe Reader(SigningKey key, CueBookTests.ManualClock clock)
    {
        var options = new VerifierOptions();
        options.StreamIds.Add(StreamId);
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey), options), VideoCodec.H264, NalFraming.AnnexB, new SeiReader.Client.TimeBase(1, 90_000),
            utcNowMicros: () => clock.Micros);
        return new ReaderProbe(reader);
    }

    private sealed class ReaderProbe
    {
        public ReaderProbe(CueReader reader)
        {
            Reader = reader;
            reader.CueReceived += (_, e) => Cues.Add(new Seen(e.Cue.CueId, e.TargetPts!.Value, e.Cue.SequenceNumber));
            reader.MessageRejected += (_, e) => Rejected.Add($"{e.Reason}: {e.Detail}");
        }

        public CueReader Reader { get; }
        public List<Seen> Cues { get; } = [];
        public List<string> Rejected { get; } = [];
    }
}
