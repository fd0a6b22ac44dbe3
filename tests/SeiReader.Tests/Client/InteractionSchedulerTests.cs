using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

public class InteractionSchedulerTests
{
    private const long Frame = 3600;

    private static CueMessage Cue(MessageKind kind, string id, long seq, long windowTicks = 10 * Frame) =>
        new(kind, TestKeys.StreamId, seq, TestKeys.Now, 0, id, windowTicks, 0, ReadOnlySpan<byte>.Empty);

    private static (InteractionScheduler Scheduler, List<string> Log) Make(int bits = WrappingTimestamps.NoWrap)
    {
        var s = new InteractionScheduler(TimeBase.Mpeg90kHz, bits);
        var log = new List<string>();
        s.InteractionOpened += (_, e) => log.Add($"open {e.Cue.CueId} @{e.RenderedPts} late {e.LateByTicks} closes {e.ClosesAtPts}");
        s.InteractionClosed += (_, e) => log.Add($"close {e.Cue.CueId} @{e.RenderedPts} {e.CloseReason}");
        s.CustomCueFired += (_, e) => log.Add($"custom {e.Cue.CueId} @{e.RenderedPts} late {e.LateByTicks}");
        s.HeartbeatPresented += (_, e) => log.Add($"heartbeat {e.Heartbeat.SequenceNumber} @{e.RenderedPts}");
        return (s, log);
    }

    private static void Render(InteractionScheduler s, long from, long to)
    {
        for (var pts = from; pts <= to; pts += Frame) s.OnFrameRendered(pts);
    }

    [Test]
    public void Start_OpensOnTheTargetFrameNotBefore_AndClosesWhenTheWindowElapses()
    {
        var (s, log) = Make();
        s.Add(Cue(MessageKind.InteractionStart, "poll", 1), 100 * Frame);
        Render(s, 90 * Frame, 99 * Frame);
        Assert.That(log, Is.Empty, "nothing fires before the target frame");
        Render(s, 100 * Frame, 120 * Frame);
        Assert.That(log, Is.EqualTo(new[] { $"open poll @{100 * Frame} late 0 closes {110 * Frame}", $"close poll @{110 * Frame} WindowElapsed" }));
    }

    [Test]
    public void Start_LateJoinerPastTheTarget_OpensAtOnceWithTheRestOfTheWindow_OrNotAtAllAfterIt()
    {
        var (s, log) = Make();
        s.Add(Cue(MessageKind.InteractionStart, "a", 1), 100 * Frame);
        s.Add(Cue(MessageKind.InteractionStart, "b", 2), 80 * Frame);
        s.OnFrameRendered(104 * Frame);
        Assert.That(log, Is.EqualTo(new[] { $"open a @{104 * Frame} late {4 * Frame} closes {110 * Frame}" }));
        Assert.That(s.PendingCount, Is.Zero);
    }

    [Test]
    public void End_ClosesOnItsFrame_AndCancelWithdrawsAPendingStart()
    {
        var (s, log) = Make();
        s.Add(Cue(MessageKind.InteractionStart, "a", 1, windowTicks: 0), 10 * Frame);
        s.Add(Cue(MessageKind.InteractionEnd, "a", 2), 15 * Frame);
        s.Add(Cue(MessageKind.InteractionStart, "b", 3), 20 * Frame);
        s.Add(Cue(MessageKind.Cancel, "b", 4), 12 * Frame);
        Render(s, 0, 40 * Frame);
        Assert.Multiple(() =>
        {
            Assert.That(log, Is.EqualTo(new[] { $"open a @{10 * Frame} late 0 closes ", $"close a @{15 * Frame} Ended" }));
            Assert.That(s.OpenCueIds, Is.Empty);
        });
    }

    [Test]
    public void Cancel_OfAnOpenInteraction_ClosesItOnTheCancelsFrame()
    {
        var (s, log) = Make();
        s.Add(Cue(MessageKind.InteractionStart, "a", 1, windowTicks: 100 * Frame), 10 * Frame);
        Render(s, 0, 12 * Frame);
        s.Add(Cue(MessageKind.Cancel, "a", 2), 14 * Frame);
        Render(s, 13 * Frame, 20 * Frame);
        Assert.That(log.Last(), Is.EqualTo($"close a @{14 * Frame} Cancelled"));
    }

    [Test]
    public void Custom_FiresOnceOnItsFrame_AndDuplicatesAreIgnored()
    {
        var (s, log) = Make();
        var cue = Cue(MessageKind.Custom, "confetti", 1);
        Assert.That(s.Add(cue, 5 * Frame), Is.True);
        Assert.That(s.Add(cue.ForCarrier(-Frame, TestKeys.Now), 5 * Frame), Is.False);
        Render(s, 0, 10 * Frame);
        Assert.That(log, Is.EqualTo(new[] { $"custom confetti @{5 * Frame} late 0" }));
    }

    [Test]
    public void Targets_AcrossThe33BitWrap_FireInOrder()
    {
        var (s, log) = Make(WrappingTimestamps.MpegTsBits);
        const long wrap = 1L << 33;
        s.Add(Cue(MessageKind.Custom, "before", 1), wrap - Frame);
        s.Add(Cue(MessageKind.Custom, "after", 2), Frame);
        s.OnFrameRendered(wrap - 2 * Frame);
        Assert.That(log, Is.Empty, "a target just after the wrap is in the future, not 26 hours ago");
        s.OnFrameRendered(wrap - Frame);
        s.OnFrameRendered(0);
        s.OnFrameRendered(Frame);
        Assert.That(log, Is.EqualTo(new[] { $"custom before @{wrap - Frame} late 0", $"custom after @{Frame} late 0" }));
    }

    /// <summary>End to end on a real B-pyramid clip: a player parses every packet (the SEI callback fires long before the
    /// frame is shown), then shows the frames in presentation order; the interaction opens on exactly the target frame.</summary>
    [Test]
    public void RealClip_CueParsedEarly_OpensExactlyWhenItsTargetFrameIsPresented()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264HighBPyramid);
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var presentation = clip.Packets.Select(p => p.Pts).OrderBy(p => p).ToList();
        var target = presentation[20];
        // The injector's rule: the carrier is the first packet in decode order whose PTS ≥ target.
        var carrierIndex = clip.Packets.ToList().FindIndex(p => p.Pts >= target);
        var carrier = clip.Packets[carrierIndex];
        var offset = TimeBase.Rescale(target - carrier.Pts, clip.TimeBase, TimeBase.Mpeg90kHz);
        var cue = new CueMessage(MessageKind.InteractionStart, TestKeys.StreamId, 1, TestKeys.Now, offset, "poll", 90_000, 0, ReadOnlySpan<byte>.Empty);

        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), clip.Codec, NalFraming.AnnexB, clip.TimeBase, utcNowMicros: () => TestKeys.Now);
        var scheduler = new InteractionScheduler(clip.TimeBase);
        var parsedAfterPackets = -1;
        var fed = 0;
        reader.CueReceived += (_, e) =>
        {
            parsedAfterPackets = fed;
            scheduler.Add(e);
        };
        InteractionEventArgs? opened = null;
        var renderedBeforeOpen = 0;
        scheduler.InteractionOpened += (_, e) => opened = e;
        foreach (var p in clip.Packets)
        {
            fed++;
            reader.Feed(p == carrier ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, signer.Sign(cue)) : p.Data, p.Pts, p.Dts);
        }
        foreach (var pts in presentation)
        {
            scheduler.OnFrameRendered(pts);
            if (opened is not null) break;
            renderedBeforeOpen++;
        }
        Assert.Multiple(() =>
        {
            Assert.That(parsedAfterPackets, Is.EqualTo(carrierIndex + 1), "parsed when its packet was fed");
            Assert.That(opened, Is.Not.Null);
            Assert.That(opened!.RenderedPts, Is.EqualTo(target));
            Assert.That(opened.LateByTicks, Is.Zero);
            Assert.That(renderedBeforeOpen, Is.EqualTo(20), "the 21st presented frame opens it");
        });
    }

    [Test]
    public void Heartbeat_IsPresentedWithItsCarrierFrame()
    {
        var (s, log) = Make();
        var hb = TestKeys.Heartbeat(seq: 9);
        using var key = TestKeys.Key1();
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), clip.Codec, NalFraming.AnnexB, TimeBase.Mpeg90kHz, utcNowMicros: () => TestKeys.Now);
        reader.HeartbeatReceived += (_, e) => s.Add(e);
        reader.Feed(DemuxedClip.Splice(clip.Packets[0].Data, clip.Codec, NalFraming.AnnexB, new MessageSigner(key).Sign(hb)), 7 * Frame);
        Render(s, 0, 8 * Frame);
        Assert.That(log, Is.EqualTo(new[] { $"heartbeat 9 @{7 * Frame}" }));
    }

    [Test]
    public void Add_CueWithoutTarget_IsRefused()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        using var key = TestKeys.Key1();
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), clip.Codec, NalFraming.AnnexB, TimeBase.Mpeg90kHz, utcNowMicros: () => TestKeys.Now);
        var s = new InteractionScheduler(TimeBase.Mpeg90kHz);
        var added = true;
        reader.CueReceived += (_, e) => added = s.Add(e);
        reader.Feed(DemuxedClip.Splice(clip.Packets[0].Data, clip.Codec, NalFraming.AnnexB, new MessageSigner(key).Sign(TestKeys.Cue())), null, null);
        Assert.Multiple(() =>
        {
            Assert.That(added, Is.False, "a packet without timestamps gives no target to schedule");
            Assert.That(s.PendingCount, Is.Zero);
        });
    }

    [Test]
    public void Add_EventInAnotherTimeBase_Throws()
    {
        var s = new InteractionScheduler(TimeBase.Milliseconds);
        var clip = DemuxedClip.Load(VideoProfile.H264Baseline);
        using var key = TestKeys.Key1();
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), clip.Codec, NalFraming.AnnexB, TimeBase.Mpeg90kHz, utcNowMicros: () => TestKeys.Now);
        CueReceivedEventArgs? got = null;
        reader.CueReceived += (_, e) => got = e;
        reader.Feed(DemuxedClip.Splice(clip.Packets[0].Data, clip.Codec, NalFraming.AnnexB, new MessageSigner(key).Sign(TestKeys.Cue())), 0);
        Assert.That(() => s.Add(got!), Throws.ArgumentException.With.Message.Contains("time base"));
    }
}
