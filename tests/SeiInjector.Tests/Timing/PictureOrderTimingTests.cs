using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Tests.Cues;
using CatEvening.SeiInjector.Timing;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Timing;

/// <summary>
/// A missing PTS placed by picture order count, on hand-made sequences shaped as x264 writes them (a B-pyramid: I P B b b,
/// POC two per frame, DTS two frames before the first PTS): the timestamps that were taken away come back exactly.
/// </summary>
public class PictureOrderTimingTests
{
    private const long None = TimestampTrack.NoTimestamp;
    private const long Frame = 3600;
    private const long Start = 126_000;
    private static readonly Rational Ts = new(1, 90_000);

    private readonly record struct Coded(long Pts, long Dts, PictureOrderCount Order);

    /// <summary>
    /// Frames in decode order: each GOP an IDR (POC reset) and then groups P, B, b, b (display +4, +2, +1, +3), so display
    /// order differs from decode order; POC = display index within the GOP × <paramref name="pocPerFrame"/>.
    /// </summary>
    private static List<Coded> Pyramid(int gops, int groups, int pocPerFrame = 2, int unitsPerFrame = 2)
    {
        var frames = new List<Coded>();
        var display = 0L;
        for (var g = 0; g < gops; g++)
        {
            var gopStart = display;
            frames.Add(Make(gopStart, 0, reset: true));
            for (var k = 0; k < groups; k++)
                foreach (var d in new long[] { 4, 2, 1, 3 })
                    frames.Add(Make(gopStart, (4 * k) + d, reset: false));
            display = gopStart + (4 * groups) + 1;
        }
        // DTS: decode index minus the two-frame reorder delay.
        return [.. frames.Select((f, i) => f with { Dts = Start + ((i - 2) * Frame) })];

        Coded Make(long gopStart, long inGop, bool reset) =>
            new(Start + ((gopStart + inGop) * Frame), 0, new PictureOrderCount(inGop * pocPerFrame, reset, unitsPerFrame));
    }

    private static MediaTimeline Timeline(long spacing = Frame)
    {
        var timeline = new MediaTimeline(new CueBookTests.ManualClock());
        timeline.BeginSession(Ts, spacing);
        return timeline;
    }

    private static List<TimelineFrame> Place(MediaTimeline timeline, IReadOnlyList<Coded> frames, ISet<int> stripped, bool withOrder = true) =>
        [.. frames.Select((f, i) => stripped.Contains(i)
            ? timeline.Advance(Ts, None, None, 0, withOrder ? f.Order : null)
            : timeline.Advance(Ts, f.Pts, f.Dts, 0, withOrder ? f.Order : null))];

    [Test]
    public void MissingTimestampsInsideAGop_PtsFromThePictureOrderCount_ExactlyAsEncoded()
    {
        var frames = Pyramid(gops: 1, groups: 6);
        var placed = Place(Timeline(), frames, new HashSet<int> { 6, 7, 8 });
        Assert.Multiple(() =>
        {
            Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)), "PTS as the encoder wrote them, B-frames in display order");
            Assert.That(placed.Select(f => f.Dts), Is.EqualTo(frames.Select(f => f.Dts)));
            Assert.That(placed.Where((_, i) => i is 6 or 7 or 8).Select(f => f.Repair), Is.All.EqualTo(TimestampRepair.Interpolated));
        });
    }

    [Test]
    public void MissingTimestampsInsideAGop_WithoutTheCount_CannotKeepTheDisplayOrder()
    {
        // The control for the test above: DTS plus the reorder delay puts the b-frame (display +1) after the B (+2).
        var frames = Pyramid(gops: 1, groups: 6);
        var placed = Place(Timeline(), frames, new HashSet<int> { 6, 7, 8 }, withOrder: false);
        Assert.That(placed.Select(f => f.Pts), Is.Not.EqualTo(frames.Select(f => f.Pts)));
    }

    [Test]
    public void MissingTimestampsOnAnIdrAndTheFrameAfterIt_IdrFollowsEveryFrameBeforeIt_NextByItsCount()
    {
        var frames = Pyramid(gops: 2, groups: 3);
        var idr = 13;
        Assert.That(frames[idr].Order.Reset, Is.True);
        var placed = Place(Timeline(), frames, new HashSet<int> { idr, idr + 1, idr + 2 });
        Assert.Multiple(() =>
        {
            Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)));
            Assert.That(placed.Select(f => f.Dts), Is.EqualTo(frames.Select(f => f.Dts)));
        });
    }

    [Test]
    public void AnH264EncoderCountingOnePerFrame_TheStepIsLearntFromTheNeighbours()
    {
        // POC one per frame, though H.264 encoders usually count two: two neighbours with PTS show the step.
        var frames = Pyramid(gops: 1, groups: 6, pocPerFrame: 1, unitsPerFrame: 2);
        var placed = Place(Timeline(), frames, new HashSet<int> { 14, 15 });
        Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)));
    }

    [Test]
    public void LeadingFramesWithoutTimestamps_StampedBackwardsFromTheFirstTimestamp_DtsOneSpacingApart_PtsByCount()
    {
        var frames = Pyramid(gops: 1, groups: 6);
        var timeline = Timeline();
        const int leading = 3; // I, P, B: the first frame with a timestamp is a b (display +1)
        var pts = new long[leading];
        var dts = new long[leading];
        timeline.StampLeading([.. frames.Take(leading).Select(f => (PictureOrderCount?)f.Order)], frames[leading].Pts, frames[leading].Dts, frames[leading].Order, pts, dts);
        Assert.Multiple(() =>
        {
            Assert.That(pts, Is.EqualTo(frames.Take(leading).Select(f => f.Pts)));
            Assert.That(dts, Is.EqualTo(frames.Take(leading).Select(f => f.Dts)));
        });
        var placed = frames.Select((f, i) => timeline.Advance(Ts, i < leading ? pts[i] : f.Pts, i < leading ? dts[i] : f.Dts, 0, f.Order, backfilled: i < leading)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)), "written where the encoder put them");
            Assert.That(placed.Take(leading).Select(f => f.ProgramTime), Is.All.EqualTo(MediaTimeline.BeforeStart), "the stamped leading frames come before program time 0");
            Assert.That(placed[leading].ProgramTime, Is.Zero, "program time counts from the first frame that had its own timestamp (the b-frame shown second)");
            Assert.That(placed.Skip(leading).Select(f => f.ProgramTime), Is.EqualTo(frames.Skip(leading).Select(f => (f.Pts - frames[leading].Pts) * 1_000_000 / 90_000)),
                "every later frame by its PTS from there");
        });
    }

    // The held frames end a GOP whose IDR was never seen; the first timestamp comes after the next IDR. The frames from that
    // IDR on share the first frame's counts; the ones before it end the previous GOP, shown before the IDR.
    [Test]
    public void LeadingFramesBeforeAnIdr_OfAnotherCountEpoch_ShownBeforeIt_ExactlyAsEncoded()
    {
        var frames = Pyramid(gops: 2, groups: 3);
        var from = 9;
        var first = 15; // the IDR is 13
        var orders = frames.Skip(from).Take(first - from).Select(f => (PictureOrderCount?)f.Order).ToArray();
        var pts = new long[orders.Length];
        var dts = new long[orders.Length];
        Timeline().StampLeading(orders, frames[first].Pts, frames[first].Dts, frames[first].Order, pts, dts);
        Assert.Multiple(() =>
        {
            Assert.That(dts, Is.EqualTo(frames.Skip(from).Take(orders.Length).Select(f => f.Dts)));
            Assert.That(pts, Is.EqualTo(frames.Skip(from).Take(orders.Length).Select(f => f.Pts)));
        });
    }

    // Fresh tester's H2 variant: the first 26 PES of an x264 stream (g 25, B-pyramid) without PTS, i.e. a whole GOP and
    // more held at the start. Stamped in decode order they came out with PTS repeated (0 3 3 3 … in display order). Each
    // whole GOP and the partial ones are stamped by their counts, every PTS as encoded, none repeated.
    [TestCase(3, 28, TestName = "LeadingFramesSpanningTwoIdrs_EveryGopShownInItsOrder_ExactlyAsEncoded")]
    [TestCase(3, 26, TestName = "LeadingFramesUpToAnIdrWithATimestamp_EveryEarlierGopExactlyAsEncoded")]
    [TestCase(2, 14, TestName = "LeadingGopAndTheIdrAfterIt_FirstTimestampOnTheFirstFrameAfterTheIdr")]
    public void LeadingFramesSpanningWholeGops_EveryFrameAsEncoded(int gops, int first)
    {
        var frames = Pyramid(gops, groups: 3);
        var orders = frames.Take(first).Select(f => (PictureOrderCount?)f.Order).ToArray();
        var pts = new long[first];
        var dts = new long[first];
        Timeline().StampLeading(orders, frames[first].Pts, frames[first].Dts, frames[first].Order, pts, dts);
        Assert.Multiple(() =>
        {
            Assert.That(dts, Is.EqualTo(frames.Take(first).Select(f => f.Dts)));
            Assert.That(pts, Is.EqualTo(frames.Take(first).Select(f => f.Pts)));
            Assert.That(pts.Distinct().Count(), Is.EqualTo(first), "no PTS repeated");
        });
    }

    /// <summary>
    /// Frames in decode order shaped as x265 writes a closed GOP with <c>radl=2</c> (keyint 25, B-pyramid, POC one per
    /// frame): the first GOP an IDR_N_LP and 22 frames (display 0-22); every later GOP an IDR_W_RADL shown at 25 followed in
    /// decode order by its two RADL pictures (POC -1 and -2: display 24 and 23), then the groups P, B, b, b. DTS two frames
    /// before the first PTS, as x265 stamps.
    /// </summary>
    private static List<Coded> HevcRadl(int gops)
    {
        var frames = new List<Coded>();
        var groups = new long[][] { [4, 2, 1, 3], [8, 6, 5, 7], [12, 10, 9, 11], [16, 14, 13, 15], [20, 18, 17, 19], [22, 21] };
        for (var g = 0; g < gops; g++)
        {
            var idr = g == 0 ? 0 : 25L * g;
            frames.Add(Make(idr, 0, reset: true));
            if (g > 0) { frames.Add(Make(idr, -1, reset: false)); frames.Add(Make(idr, -2, reset: false)); }
            foreach (var group in groups)
                foreach (var d in group) frames.Add(Make(idr, d, reset: false));
        }
        return [.. frames.Select((f, i) => f with { Dts = Start + ((i - 2) * Frame) })];

        Coded Make(long idr, long poc, bool reset) => new(Start + ((idr + poc) * Frame), 0, new PictureOrderCount(poc, reset, 1));
    }

    // Review 2026-12-01 (H.265 radl=2, reproduced with x265: two PTS repeated, the first GOP shown two frames late): the
    // frames held at the start end the GOP before an IDR_W_RADL whose RADL pictures, decoded after it, are shown before
    // it. The earlier GOP ends one spacing before the earliest of them, not before the IDR.
    [TestCase(0, TestName = "LeadingGopBeforeAnIdrWithRadlPictures_FirstTimestampOnTheIdr_EndsBeforeTheRadlPictures")]
    [TestCase(1, TestName = "LeadingGopBeforeAnIdrWithRadlPictures_FirstTimestampOnTheFirstRadl_EndsBeforeTheSecond")]
    public void LeadingGopBeforeAnIdrWithRadlPictures_ExactlyAsEncoded(int afterIdr)
    {
        var frames = HevcRadl(gops: 2);
        var idr = 23;
        Assert.That(frames[idr].Order.Reset && frames[idr + 1].Order.Value < 0 && frames[idr + 2].Order.Value < 0, Is.True, "the recipe: an IDR and two RADL pictures");
        var first = idr + afterIdr;
        var orders = frames.Take(first).Select(f => (PictureOrderCount?)f.Order).ToArray();
        var pts = new long[first];
        var dts = new long[first];
        var timeline = Timeline();
        timeline.StampLeading(orders, frames[first].Pts, frames[first].Dts, frames[first].Order, pts, dts, earliestLater: frames[idr + 2].Order);
        Assert.Multiple(() =>
        {
            Assert.That(dts, Is.EqualTo(frames.Take(first).Select(f => f.Dts)));
            Assert.That(pts, Is.EqualTo(frames.Take(first).Select(f => f.Pts)));
        });
        var placed = frames.Select((f, i) => timeline.Advance(Ts, i < first ? pts[i] : f.Pts, i < first ? dts[i] : f.Dts, 0, f.Order, backfilled: i < first)).ToList();
        Assert.That(placed.Select(f => f.Pts).Distinct().Count(), Is.EqualTo(frames.Count), "no PTS repeated");
    }

    [Test]
    public void LeadingGopBeforeAnIdrWithRadlPictures_WithoutTheLaterCount_RepeatsTheRadlPts()
    {
        // The control for the tests above: from the IDR alone the earlier GOP ends on the PTS of the RADL shown before it.
        var frames = HevcRadl(gops: 2);
        var pts = new long[23];
        var dts = new long[23];
        Timeline().StampLeading([.. frames.Take(23).Select(f => (PictureOrderCount?)f.Order)], frames[23].Pts, frames[23].Dts, frames[23].Order, pts, dts);
        Assert.That(pts.Intersect([frames[24].Pts, frames[25].Pts]), Is.Not.Empty);
    }

    // Review 2026-12-01 (reproduced with x264 B-frames: the first frame with a timestamp, a P-frame whose PES has a PTS
    // only, reached the pipeline with FFmpeg's copy of its PTS as DTS; the leading frames were stamped back from it, the
    // next frame's own DTS fell before them: a discontinuity, every later timestamp 0.2 s late). The made-up DTS is lowered
    // under the leading frames' PTS (which the clamp raised, repeating later frames' PTS): every timestamp as encoded.
    [TestCase(true, TestName = "LeadingFramesBeforeAPesWithPtsOnly_NoDts_DtsLineUnderEveryPts_ExactlyAsEncoded")]
    [TestCase(false, TestName = "LeadingFramesBeforeAPesWithPtsOnly_DtsCopiedFromThePts_DtsLineUnderEveryPts_ExactlyAsEncoded")]
    public void LeadingFramesBeforeAPesWithPtsOnly_ExactlyAsEncoded(bool noDts)
    {
        var frames = Pyramid(gops: 1, groups: 6);
        const int first = 5; // I P B b b held; the next P (display 8) has a PTS only
        var orders = frames.Take(first).Select(f => (PictureOrderCount?)f.Order).ToArray();
        var pts = new long[first];
        var dts = new long[first];
        var timeline = Timeline();
        var firstDts = timeline.StampLeading(orders, frames[first].Pts, noDts ? None : frames[first].Pts, frames[first].Order, pts, dts);
        Assert.Multiple(() =>
        {
            Assert.That(firstDts, Is.EqualTo(frames[first].Dts), "the DTS the encoder wrote");
            Assert.That(dts, Is.EqualTo(frames.Take(first).Select(f => f.Dts)));
            Assert.That(pts, Is.EqualTo(frames.Take(first).Select(f => f.Pts)));
        });
        var placed = frames.Select((f, i) => timeline.Advance(Ts, i < first ? pts[i] : f.Pts, i < first ? dts[i] : i == first ? firstDts : f.Dts, 0, f.Order, backfilled: i < first)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)));
            Assert.That(placed.Select(f => f.Dts), Is.EqualTo(frames.Select(f => f.Dts)));
            Assert.That(placed.Select(f => f.Repair), Is.All.EqualTo(TimestampRepair.None), "no discontinuity");
        });
    }

    [Test]
    public void LeadingFramesBeforeAFrameWhoseDtsIsItsPts_NoBFrames_DtsKept()
    {
        // Without B-frames every DTS is its PTS: the line under the PTS is the DTS as it came.
        var frames = Enumerable.Range(0, 8).Select(i => new Coded(Start + (i * Frame), Start + (i * Frame), new PictureOrderCount(2 * i, i == 0, 2))).ToList();
        var pts = new long[4];
        var dts = new long[4];
        var firstDts = Timeline().StampLeading([.. frames.Take(4).Select(f => (PictureOrderCount?)f.Order)], frames[4].Pts, frames[4].Dts, frames[4].Order, pts, dts);
        Assert.Multiple(() =>
        {
            Assert.That(firstDts, Is.EqualTo(frames[4].Dts));
            Assert.That(dts, Is.EqualTo(frames.Take(4).Select(f => f.Dts)));
            Assert.That(pts, Is.EqualTo(frames.Take(4).Select(f => f.Pts)));
        });
    }

    // Review 2026-12-01 (reproduced with x264 B-frames, the first three PES with PTS only: DTS 133200, 133201, 133202 where
    // the encoder wrote 126000, 129600, 133200). With the reorder depth from the SPS the made-up DTS are the encoder's.
    [TestCase(true, TestName = "FirstFramesWithPtsOnly_ReorderDepthKnown_DtsAsEncoded")]
    [TestCase(false, TestName = "FirstFramesWithPtsOnly_ReorderDepthUnknown_DtsOneUnitApart")]
    public void FirstFramesWithPtsOnly(bool depthKnown)
    {
        var frames = Pyramid(gops: 1, groups: 6);
        var track = new TimestampSession().AddTrack(Ts, Frame);
        if (depthKnown) track.SetReorderDepth(2);
        var placed = frames.Select((f, i) => track.Next(f.Pts, i < 3 ? None : f.Dts, 0, f.Order)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(placed.Select(f => f.Pts), Is.EqualTo(frames.Select(f => f.Pts)));
            if (depthKnown) Assert.That(placed.Select(f => f.Dts), Is.EqualTo(frames.Select(f => f.Dts)));
            else Assert.That(placed.Take(3).Select(f => f.Dts), Is.EqualTo(new[] { frames[0].Pts, frames[0].Pts + 1, frames[0].Pts + 2 }), "the least step: later DTS still fit");
            Assert.That(placed.Skip(3).Select(f => f.Dts), Is.EqualTo(frames.Skip(3).Select(f => f.Dts)));
        });
    }
}
