using System.Globalization;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// The timestamp field cases (../shared/cases H1-H4 and variants: other codec, containers, offsets, a TS discontinuity,
/// one corrupt packet) through the real pipeline, with FFmpeg as the oracle: every packet accounted for, decoded video
/// identical, output DTS strictly increasing, timestamps unchanged where the input increased, and each cue firing on the
/// program frame its <c>at</c> names (a: 1.5 s, b: 4 s from the first frame with a timestamp).
/// </summary>
[NonParallelizable]
public class FieldCaseTests
{
    private const int FramesPerSecond = 25;
    private static readonly (string Id, double At)[] Cues = [("a", 1.5), ("b", 4.0)];

    private SigningKey _key = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public void CreateKeyAndFolder()
    {
        _key = SigningKey.Generate(9);
        _work = Path.Combine(Path.GetTempPath(), "sei-inject-field-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_work);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_work, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string H264Flv(string name, double seconds, string[]? outputArgs = null) => FieldMedia.Clip(name, seconds, "flv", outputArgs: outputArgs);

    [TestCase("flv", TestName = "H1_FlvRestartsAtZero_ToFlv_SecondSessionFollowsTheFirst_CuesOnProgramFrames")]
    [TestCase("mpegts", TestName = "H1_FlvRestartsAtZero_ToMpegTs_SecondSessionFollowsTheFirst_CuesOnProgramFrames")]
    [TestCase("mp4", TestName = "H1_FlvRestartsAtZero_ToMp4_SecondSessionFollowsTheFirst_CuesOnProgramFrames")]
    public void H1(string outputFormat)
    {
        var a = File.ReadAllBytes(H264Flv("h1-a", 2.5));
        var b = File.ReadAllBytes(H264Flv("h1-b", 2.5));
        var input = Write("h1.flv", FieldMedia.FlvConcat(a, b, restart: true));
        var outcome = Inject(input, outputFormat);
        var firstSession = Probe.VideoPackets(H264Flv("h1-a", 2.5)).Count;
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.Report.Discontinuities, Is.EqualTo(1), "one discontinuity, bridged once");
            Assert.That(outcome.Log.Split('\n').Count(l => l.Contains("discontinuity", StringComparison.Ordinal)), Is.EqualTo(1), "logged once");
            if (outputFormat == "flv")
                Assert.That(outcome.VideoOut.Take(firstSession), Is.EqualTo(outcome.VideoIn.Take(firstSession)), "the first session untouched");
            var dts = outcome.VideoOut.Select(p => Probe.Seconds(p.Dts)).ToList();
            Assert.That(dts[firstSession] - dts[firstSession - 1], Is.EqualTo(0.04).Within(1e-6), "the second session follows the first video frame by the frame spacing");
            // Audio takes the video's shift (after the few packets that overlap the first session's audio end).
            var videoShift = dts[firstSession] - Probe.Seconds(outcome.VideoIn[firstSession].Dts);
            var lastAudioShift = Probe.Seconds(outcome.AudioOut[^1].Dts) - Probe.Seconds(outcome.AudioIn[^1].Dts);
            Assert.That(lastAudioShift, Is.EqualTo(videoShift).Within(0.0011), "audio in step with the video");
        });
    }

    [Test]
    public void MpegTsDiscontinuity_TwoSessionsConcatenated_H265_IsBridged_CuesOnProgramFrames()
    {
        var clip = File.ReadAllBytes(FieldMedia.Clip("ts-hevc-3s", 3, "mpegts", ["-c:v", "libx265", "-preset", "veryfast", "-x265-params", "log-level=error"]));
        var input = Write("ts-restart.ts", [.. clip, .. clip]);
        var outcome = Inject(input, "mpegts");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.Report.Discontinuities, Is.EqualTo(1));
        });
    }

    /// <summary>
    /// H2 and its B-frame kinds: the PTS and DTS of the first two video PES, of a mid-stream keyframe and the frame after
    /// it, and of two more mid-stream frames are taken away. The leading frames are held until the first timestamp and
    /// stamped backwards from it, the others placed by picture order count: every output timestamp is the one the encoder
    /// wrote (exact: 90 kHz in, 90 kHz out, every step a whole number of ticks), and the cues ride the frames their `at`
    /// names counted from the first frame that has a PTS in the input (the case's rule: the third in decode order here).
    /// </summary>
    [TestCase("h2-bf0", "libx264", "-bf", "0", TestName = "H2_MpegTsPesWithoutPts_H264NoBFrames_TimestampsAsEncoded_CuesOnProgramFrames")]
    [TestCase("h2-bf", "libx264", TestName = "H2_MpegTsPesWithoutPts_H264BFrames_TimestampsAsEncoded_CuesOnProgramFrames")]
    [TestCase("h2-pyramid", "libx264", "-bf", "3", "-x264-params", "b-pyramid=normal", TestName = "H2_MpegTsPesWithoutPts_H264BPyramid_TimestampsAsEncoded_CuesOnProgramFrames")]
    [TestCase("h2-hevc", "libx265", "-x265-params", "bframes=3:log-level=error", TestName = "H2_MpegTsPesWithoutPts_H265BFrames_TimestampsAsEncoded_CuesOnProgramFrames")]
    public void H2(string name, string encoder, params string[] encoderArgs)
    {
        var basePath = FieldMedia.Clip(name, 5, "mpegts", ["-c:v", encoder, "-preset", "veryfast", .. encoderArgs]);
        var midKeyframe = VideoKeyframes(basePath).First(k => k >= 40);
        // The case's rule: program time from the first frame that has a PTS, the third in decode order here.
        AssertTimestampsRestored(name, basePath, [0, 1, midKeyframe, midKeyframe + 1, 70, 71], firstWithPts: 2);
    }

    /// <summary>
    /// H2 variant (fresh tester, 2026-12-01): every video PES up to and including the second keyframe's next frame comes
    /// without PTS, so the frames held at the start span a whole GOP and an IDR (a picture order count reset). They were
    /// stamped in decode order: PTS repeated and the first GOP shown out of order. Right value: every timestamp as encoded.
    /// </summary>
    [TestCase("h2-gop7-bf", "libx264", TestName = "H2_LeadingPesWithoutPtsSpanningAGopAndAnIdr_H264BFrames_TimestampsAsEncoded")]
    [TestCase("h2-gop7-pyramid", "libx264", "-bf", "3", "-x264-params", "b-pyramid=normal", TestName = "H2_LeadingPesWithoutPtsSpanningAGopAndAnIdr_H264BPyramid_TimestampsAsEncoded")]
    [TestCase("h2-gop7-hevc-closed", "libx265", "-x265-params", "bframes=3:open-gop=0:log-level=error", TestName = "H2_LeadingPesWithoutPtsSpanningAGopAndAnIdr_H265ClosedGop_TimestampsAsEncoded")]
    public void H2LeadingGop(string name, string encoder, params string[] encoderArgs)
    {
        // 7 s: program time starts a GOP and more in, and cue b is due 4 s after that.
        var basePath = FieldMedia.Clip(name, 7, "mpegts", ["-c:v", encoder, "-preset", "veryfast", .. encoderArgs]);
        var secondKeyframe = VideoKeyframes(basePath)[1];
        AssertTimestampsRestored(name, basePath, [.. Enumerable.Range(0, secondKeyframe + 2)], firstWithPts: secondKeyframe + 2);
    }

    /// <summary>
    /// H2 with H.265 leading pictures (review, 2026-12-01): x265 closed GOPs with <c>radl=2</c>, so every IDR after the
    /// first is an IDR_W_RADL followed in decode order by two RADL pictures shown before it. The PES up to the second IDR
    /// (or up to its first RADL) come without PTS: the held GOP ended on the PTS of a RADL (two PTS repeated, the GOP two
    /// frames late). Right value: every timestamp as encoded.
    /// </summary>
    [TestCase(0, TestName = "H2_LeadingPesWithoutPtsUpToAnIdrWithRadlPictures_H265_TimestampsAsEncoded")]
    [TestCase(1, TestName = "H2_LeadingPesWithoutPtsUpToTheFirstRadlPicture_H265_TimestampsAsEncoded")]
    public void H2LeadingGopBeforeRadl(int afterIdr)
    {
        var basePath = FieldMedia.Clip("h2-hevc-radl", 7, "mpegts",
            ["-c:v", "libx265", "-preset", "veryfast", "-x265-params", "keyint=25:min-keyint=25:radl=2:open-gop=0:bframes=3:scenecut=0:log-level=error"]);
        var secondKeyframe = VideoKeyframes(basePath)[1];
        var original = Probe.VideoPackets(basePath).Select(p => Probe.Seconds(p.Pts)).ToList();
        Assert.That(original[secondKeyframe + 1] < original[secondKeyframe] && original[secondKeyframe + 2] < original[secondKeyframe + 1], Is.True,
            "the recipe: the two frames decoded after the IDR are shown before it (RADL)");
        var firstWithPts = secondKeyframe + afterIdr;
        AssertTimestampsRestored($"h2-hevc-radl-{afterIdr}", basePath, [.. Enumerable.Range(0, firstWithPts)], firstWithPts);
    }

    /// <summary>
    /// H2 with PES that carry a PTS and no DTS (review, 2026-12-01), on B-frame streams. Leading PES without PTS up to a
    /// P-frame whose PES has a PTS only: FFmpeg hands that frame over with its PTS as DTS, the leading frames were stamped
    /// back from it and the next frame's own DTS fell before them (a discontinuity: every later timestamp 0.2 s late).
    /// The first three PES with a PTS only: their DTS came out one unit apart. Right value: every timestamp as encoded.
    /// </summary>
    [TestCase("h2-bf", "libx264", new[] { 0, 1, 2, 3, 4 }, new[] { 5 }, 5, TestName = "H2_LeadingPesWithoutPtsThenAPesWithPtsOnly_H264BFrames_TimestampsAsEncoded")]
    [TestCase("h2-hevc", "libx265", new[] { 0, 1, 2, 3, 4 }, new[] { 5 }, 5, TestName = "H2_LeadingPesWithoutPtsThenAPesWithPtsOnly_H265BFrames_TimestampsAsEncoded")]
    [TestCase("h2-bf", "libx264", new int[0], new[] { 0, 1, 2 }, 0, TestName = "H2_FirstPesWithPtsOnly_H264BFrames_TimestampsAsEncoded")]
    [TestCase("h2-hevc", "libx265", new int[0], new[] { 0, 1, 2 }, 0, TestName = "H2_FirstPesWithPtsOnly_H265BFrames_TimestampsAsEncoded")]
    public void H2PtsOnly(string name, string encoder, int[] stripped, int[] ptsOnly, int firstWithPts)
    {
        string[] args = encoder == "libx265" ? ["-c:v", encoder, "-preset", "veryfast", "-x265-params", "bframes=3:log-level=error"] : ["-c:v", encoder, "-preset", "veryfast"];
        var basePath = FieldMedia.Clip(name, 5, "mpegts", args);
        AssertTimestampsRestored($"{name}-ptsonly-{string.Join('-', ptsOnly)}", basePath, stripped, firstWithPts, ptsOnly);
    }

    // The video PES `stripped` (decode indices) of `basePath` lose their PTS and DTS, and `ptsOnly` their DTS; the injector's
    // output must hold every timestamp the encoder wrote, and the cues ride the frames their `at` names from the frame
    // `firstWithPts`.
    private void AssertTimestampsRestored(string name, string basePath, int[] stripped, int firstWithPts, int[]? ptsOnly = null)
    {
        var original = Probe.VideoPackets(basePath);
        var edited = FieldMedia.TsPesTimestamps(File.ReadAllBytes(basePath), 0x100, stripped.ToHashSet());
        if (ptsOnly is not null) edited = FieldMedia.TsPesPtsOnly(edited, 0x100, ptsOnly.ToHashSet());
        var input = Write(name + ".ts", edited);
        var outcome = Inject(input, "mpegts");
        Assert.Multiple(() =>
        {
            Assert.That(outcome.VideoIn.Count(p => p.Pts == "N/A"), Is.EqualTo(stripped.Length), $"the recipe took {stripped.Length} PTS away");
            outcome.AssertValid();
            var pts = outcome.VideoOut.Select(p => p.Pts).ToList();
            Assert.That(pts.Distinct().Count(), Is.EqualTo(pts.Count), "every PTS unique");
            Assert.That(outcome.VideoOut.All(p => Probe.Seconds(p.Pts) >= Probe.Seconds(p.Dts)), Is.True, "PTS at or after DTS");
            Assert.That(outcome.VideoOut.Select(p => p.Pts), Is.EqualTo(original.Select(p => p.Pts)), "every PTS as the encoder wrote it");
            Assert.That(outcome.VideoOut.Select(p => p.Dts), Is.EqualTo(original.Select(p => p.Dts)), "every DTS too");
            var presented = original.Select(p => Probe.Seconds(p.Pts)).Order().ToList();
            outcome.AssertCuesOnProgramFrames(originFrame: presented.IndexOf(Probe.Seconds(original[firstWithPts].Pts)));
            Assert.That(outcome.Log, Does.Not.Contain("discontinuity"));
        });
    }

    private static List<int> VideoKeyframes(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags", "-of", "csv=p=0", path).EnsureSuccess("ffprobe");
        return [.. r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select((l, i) => (l, i)).Where(x => x.l.StartsWith('K')).Select(x => x.i)];
    }

    [TestCase("libx264", 95441.9, TestName = "H3_MpegTsStartingBeforeThe33BitWrap_H264_TimestampsUnchanged_CuesExact")]
    [TestCase("libx265", 95441.5, TestName = "H3_MpegTsStartingBeforeThe33BitWrap_H265_TimestampsUnchanged_CuesExact")]
    public void H3(string encoder, double offset)
    {
        var input = FieldMedia.Clip($"h3-{encoder}-{offset}", 6, "mpegts",
            ["-c:v", encoder, "-preset", "veryfast", .. encoder == "libx265" ? new[] { "-x265-params", "log-level=error" } : []],
            ["-output_ts_offset", offset.ToString(CultureInfo.InvariantCulture)]);
        var outcome = Inject(input, "mpegts");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.VideoOut, Is.EqualTo(outcome.VideoIn), "video timestamps: the raw 33-bit values");
            Assert.That(outcome.AudioOut, Is.EqualTo(outcome.AudioIn), "audio timestamps");
            Assert.That(RawPesPts(outcome.Output), Is.EqualTo(RawPesPts(input)), "PES PTS bytes as in the input");
            Assert.That(outcome.Report.Discontinuities, Is.Zero);
        });
    }

    [Test]
    public void H4_FlvWrittenByFFmpegsMuxerAcrossIts31BitWrap_TimestampsUnchanged_CuesExact()
    {
        var input = H264Flv("h4", 8, ["-output_ts_offset", "4294962.5"]);
        var outcome = Inject(input, "flv");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.VideoOut, Is.EqualTo(outcome.VideoIn));
            Assert.That(outcome.AudioOut, Is.EqualTo(outcome.AudioIn));
            Assert.That(outcome.Report.Discontinuities, Is.Zero);
        });
    }

    [Test]
    public void FlvWrappingAt2Pow32AsSpecEncodersWrite_ToMpegTs_CuesExact()
    {
        var flv = File.ReadAllBytes(H264Flv("plain-6s", 6));
        var input = Write("wrap32.flv", FieldMedia.FlvRetime(flv, (_, ts) => (ts + (1L << 32) - 3000) & 0xFFFF_FFFF));
        var outcome = Inject(input, "mpegts");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.Report.Discontinuities, Is.Zero);
        });
    }

    [TestCase(0x1_2345_6789L, TestName = "Fuzz_MpegTsOneVideoPesWithCorruptTimestamps_RunGoesOn_CuesOnProgramFrames")]
    [TestCase(1000L, TestName = "Fuzz_MpegTsOneVideoPesWithTimestampsFarBack_RunGoesOn_CuesOnProgramFrames")]
    public void FuzzTs(long corrupt)
    {
        var baseTs = File.ReadAllBytes(FieldMedia.Clip("h2-base", 5, "mpegts", ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0"]));
        var input = Write($"fuzz-{corrupt}.ts", FieldMedia.TsPesTimestamps(baseTs, 0x100, new HashSet<int> { 60 }, corrupt));
        var outcome = Inject(input, "mpegts");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.VideoOut.Where((_, i) => i != 60), Is.EqualTo(outcome.VideoIn.Where((_, i) => i != 60)), "only the corrupt packet was re-stamped");
            Assert.That(Probe.Seconds(outcome.VideoOut[60].Dts) - Probe.Seconds(outcome.VideoOut[59].Dts), Is.EqualTo(0.04).Within(1e-6), "in its place in the line");
        });
    }

    [Test]
    public void Fuzz_FlvOneVideoTagWithACorruptTimestamp_RunGoesOn_CuesOnProgramFrames()
    {
        var flv = File.ReadAllBytes(H264Flv("plain-6s", 6));
        var tag = FieldMedia.FlvVideoTag(flv, 60);
        var input = Write("fuzz.flv", FieldMedia.FlvRetime(flv, (i, ts) => i == tag ? 0x0765_4321 : ts));
        var outcome = Inject(input, "flv");
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
        });
    }

    /// <summary>
    /// BUG 5: video packets whose first AVCC NAL length (0x7fffff00) runs past their end. The MPEG-TS muxer's
    /// h264_mp4toannexb filter refuses each (AVERROR_INVALIDDATA from av_write_frame), which ended the run after 40 of
    /// 200 frames; each is now logged with its stream, timestamps and reason, counted as skipped, and the run goes on
    /// with every other packet (ffprobe as the oracle). FLV carries them as they are.
    /// </summary>
    [TestCase("mpegts", 3, TestName = "Fuzz_FlvVideoPacketsWithANalLengthPastTheirEnd_ToMpegTs_EachRefusedLoggedCountedSkipped_RunGoesOn")]
    [TestCase("flv", 0, TestName = "Fuzz_FlvVideoPacketsWithANalLengthPastTheirEnd_ToFlv_CarriedAsTheyAre")]
    public void FuzzNalLength(string outputFormat, int refused)
    {
        int[] broken = [40, 41, 100];
        var flv = File.ReadAllBytes(H264Flv("plain-6s", 6));
        var input = Write("nal-length.flv", FieldMedia.FlvNalLength(flv, broken.ToHashSet()));
        var outcome = Inject(input, outputFormat);
        var kept = outcome.VideoIn.Where((_, i) => refused == 0 || !broken.Contains(i)).Select(p => Probe.Seconds(p.Pts)).ToList();
        var written = outcome.VideoOut.Select(p => Probe.Seconds(p.Pts)).ToList();
        var refusals = outcome.Log.Split('\n').Where(l => l.Contains("muxer refused a packet", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(outcome.VideoIn, Has.Count.EqualTo(150), "the input: 6 s at 25 fps");
            Assert.That(outcome.Report.Cancelled, Is.False, "the run reached the input's end");
            Assert.That(outcome.Report.SkippedPackets, Is.EqualTo(refused), "each refused packet counted");
            Assert.That(outcome.Monitor.SkippedPackets, Is.EqualTo(refused));
            Assert.That(outcome.Report.Packets + outcome.Report.SkippedPackets, Is.EqualTo(Outcome.PacketCount(input)), "every other packet written");
            Assert.That(Outcome.PacketCount(outcome.Output), Is.EqualTo(outcome.Report.Packets), "the output holds what the report says was written");
            Assert.That(written.Select(t => Math.Round(t - written[0], 6)), Is.EqualTo(kept.Select(t => Math.Round(t - kept[0], 6))),
                "the video written is the input's without the refused packets");
            Assert.That(outcome.AudioOut, Has.Count.EqualTo(outcome.AudioIn.Count), "all the audio written");
            Assert.That(refusals, Has.Count.EqualTo(refused), "each refusal logged once");
            Assert.That(refusals, Has.All.Contains("stream #0").And.All.Contains("PTS").And.All.Contains("malformed"), "with the stream, timestamps and reason");
            Assert.That(outcome.Inspected.Select(m => m.Verified), Is.All.True, "every message verifies");
        });
    }

    [TestCase("libx264", "h264", "mpegts", null, 0.04, TestName = "H5_RawH264WithBFrames_ToMpegTs_StampedFromTheSpsTimingInPictureOrder_CuesByMediaTime")]
    [TestCase("libx264", "h264", "flv", null, 0.04, TestName = "H5_RawH264WithBFrames_ToFlv_StampedFromTheSpsTimingInPictureOrder_CuesByMediaTime")]
    [TestCase("libx265", "hevc", "mp4", null, 0.04, TestName = "H5_RawH265WithBFrames_ToMp4_StampedFromTheSpsVuiTimingInPictureOrder_CuesByMediaTime")]
    [TestCase("libx264", "h264", "mpegts", 50, 0.02, TestName = "H5_RawH264_FrameRateOption_StampsAtThatRate")]
    public void H5(string encoder, string rawFormat, string outputFormat, int? frameRate, double spacing)
    {
        var input = FieldMedia.Clip($"h5-{encoder}", 6, rawFormat,
            ["-c:v", encoder, "-preset", "medium", .. encoder == "libx265" ? new[] { "-x265-params", "log-level=error" } : []], ["-an"]);
        var outcome = Inject(input, outputFormat, rawFormat, frameRate is { } f ? new FFmpegInterop.Rational(f, 1) : null);
        var presented = Probe.VideoFrames(outcome.Output).Select(f => Probe.Seconds(f.Pts)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(outcome.VideoIn.Select(p => p.Pts), Is.All.EqualTo("N/A"), "the raw input has no timestamps");
            outcome.AssertValid();
            Assert.That(presented.Zip(presented.Skip(1)).Select(p => Math.Round(p.Second - p.First, 6)), Is.All.EqualTo(spacing),
                "decoded in presentation order, one frame apart: PTS follow the picture order");
            if (frameRate is null) outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(outcome.Log, Does.Contain(frameRate is null ? "SPS timing" : "--frame-rate"));
        });
    }

    // Cue targets at 60 fps: every 50 ms (three frames: exactly on a frame, which a rounding up of a millisecond makes a
    // frame late) and between frames.
    private static Cue[] GridCues() =>
        [.. Enumerable.Range(1, 30).Select(k => new Cue($"g{k}", k * 0.05)), .. Enumerable.Range(0, 10).Select(k => new Cue($"h{k}", 0.0123 + (0.17 * k)))];

    /// <summary>
    /// Fresh tester (2026-12-01): a 90 kHz (MPEG-TS) or raw Annex B input written to FLV or Matroska (1 kHz). The cue
    /// book stated a target as its distance from the carrier in the input's time base (1.533333 s - 1.566667 s), the
    /// muxer rounded the carrier to 1.567 s and the target frame to 1.533 s: the reader's target 1.534 s fired a frame
    /// late (15 of 40 cues), and repeats named another target than the first delivery. Right value: the targets and
    /// heartbeat carrier PTS as written, every cue on the frame its <c>at</c> names, as in MPEG-TS.
    /// </summary>
    [TestCase("mpegts", "flv", null, TestName = "CueTargets_MpegTs90kHzToFlv1kHz_StatedAsWritten_CuesOnProgramFrames")]
    [TestCase("mpegts", "matroska", null, TestName = "CueTargets_MpegTs90kHzToMatroska1kHz_StatedAsWritten_CuesOnProgramFrames")]
    [TestCase("mpegts", "mpegts", null, TestName = "CueTargets_MpegTs90kHzToMpegTs_StatedAsWritten_CuesOnProgramFrames")]
    [TestCase("h264", "flv", "h264", TestName = "CueTargets_RawH264ToFlv1kHz_StatedAsWritten_CuesOnProgramFrames")]
    [TestCase("h264", "matroska", "h264", TestName = "CueTargets_RawH264ToMatroska1kHz_StatedAsWritten_CuesOnProgramFrames")]
    public void CueTargetsInTheOutputTimeBase(string inputFormat, string outputFormat, string? rawFormat)
    {
        var input = FieldMedia.Clip($"60fps-{inputFormat}", 3, inputFormat, ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3"],
            rawFormat is null ? null : ["-an"], rate: 60);
        var outcome = Inject(input, outputFormat, rawFormat, cues: GridCues());
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            outcome.AssertCuesOnProgramFrames(originFrame: 0, framesPerSecond: 60);
            outcome.AssertTargetsAsWritten();
        });
    }

    /// <summary>
    /// Fresh tester (2026-12-01): two sessions spliced into one input (a publisher restart), B-frames in the first and
    /// none (or fewer) in the second. The new session followed the last DTS by one frame, so its first frames (PTS equal
    /// to DTS) were shown at the PTS of the first session's last frames: two PTS repeated (MPEG-TS, FLV). A raw Annex B
    /// input stamped the second part's IDR at its decode index plus its own (shorter) reorder depth, repeating PTS without
    /// a discontinuity; with another frame rate in the second part's SPS, its DTS went back to 1.5 s. Right value (an IDR
    /// follows every frame before it): the new session's first frame shown after every frame already shown, no PTS
    /// repeated, DTS strictly increasing, PTS at or after DTS, decoded video identical, cues on their program frames.
    /// </summary>
    [TestCase("mpegts", TestName = "Restart_ShorterReorderDelay_MpegTs_NewSessionShownAfterTheOld_CuesOnProgramFrames")]
    [TestCase("flv", TestName = "Restart_ShorterReorderDelay_FlvRestartingAtZero_NewSessionShownAfterTheOld_CuesOnProgramFrames")]
    [TestCase("h264", TestName = "Restart_ShorterReorderDelay_RawH264Spliced_NewPartShownAfterTheOld_CuesOnProgramFrames")]
    [TestCase("hevc", TestName = "Restart_ShorterReorderDelay_RawH265Spliced_NewPartShownAfterTheOld_CuesOnProgramFrames")]
    [TestCase("h264-50fps", TestName = "Restart_ShorterReorderDelayAndAnotherSpsFrameRate_RawH264Spliced_NewPartShownAfterTheOld_CuesOnProgramFrames")]
    public void RestartWithAShorterReorderDelay(string kind)
    {
        var format = kind.StartsWith("h264", StringComparison.Ordinal) ? "h264" : kind;
        var raw = format is "h264" or "hevc";
        string[] Encoder(int bframes) => format == "hevc"
            ? ["-c:v", "libx265", "-preset", "veryfast", "-x265-params", $"bframes={bframes}:log-level=error"]
            : ["-c:v", "libx264", "-preset", "veryfast", "-bf", bframes.ToString(CultureInfo.InvariantCulture)];
        var secondRate = kind == "h264-50fps" ? 50 : 25;
        var a = FieldMedia.Clip($"restart-{format}-bf", 2.5, format, Encoder(format == "hevc" ? 4 : 3), raw ? ["-an"] : null);
        var b = FieldMedia.Clip($"restart-{format}-bf0-{secondRate}", 2.5, format, Encoder(0), raw ? ["-an"] : null, rate: secondRate);
        var (aBytes, bBytes) = (File.ReadAllBytes(a), File.ReadAllBytes(b));
        var input = Write($"restart-{kind}.{(raw ? format : format == "mpegts" ? "ts" : format)}",
            format == "flv" ? FieldMedia.FlvConcat(aBytes, bBytes, restart: true) : [.. aBytes, .. bBytes]);
        var firstSession = Probe.VideoPackets(a).Count;
        var outcome = Inject(input, format == "flv" ? "flv" : "mpegts", raw ? format : null);
        var packets = outcome.VideoOut.Select(p => (Pts: Probe.Seconds(p.Pts), Dts: Probe.Seconds(p.Dts))).ToList();
        Assert.Multiple(() =>
        {
            outcome.AssertValid();
            Assert.That(packets.Select(p => p.Pts).Distinct().Count(), Is.EqualTo(packets.Count), "every PTS unique");
            Assert.That(packets.All(p => p.Pts >= p.Dts), Is.True, "PTS at or after DTS");
            Assert.That(packets.Skip(firstSession).Min(p => p.Pts), Is.GreaterThan(packets.Take(firstSession).Max(p => p.Pts)),
                "the new session shown after every frame of the old");
            if (!raw)
            {
                Assert.That(outcome.Report.Discontinuities, Is.EqualTo(1), "one discontinuity");
                // Audio takes the video's shift, also when it showed the discontinuity first (FLV) and the video then moved it on.
                var videoShift = packets[firstSession].Dts - Probe.Seconds(outcome.VideoIn[firstSession].Dts);
                var lastAudioShift = Probe.Seconds(outcome.AudioOut[^1].Dts) - Probe.Seconds(outcome.AudioIn[^1].Dts);
                Assert.That(lastAudioShift, Is.EqualTo(videoShift).Within(0.0011), "audio in step with the video");
            }
            // Program frames: 25 fps, then the second part's rate from one 25 fps frame after the first part's last.
            var firstPart = firstSession / (double)FramesPerSecond;
            outcome.AssertCuesOnProgramFrames(originFrame: 0, frameOf: at => at <= firstPart
                ? (int)Math.Ceiling((at * FramesPerSecond) - 1e-9)
                : firstSession + (int)Math.Ceiling(((at - firstPart) * secondRate) - 1e-9));
        });
    }

    /// <summary>
    /// A reconnection whose new session starts with video PES without PTS (an MPEG-TS publisher that comes back mid-GOP
    /// or through a remuxer that drops the first timestamps): the input (a TCP source) ends after one 2.5 s session and
    /// is opened again by the pipeline, the output kept. The leading frames of the new session are stamped one frame
    /// apart after what was written, and program time runs on through them: with the wall clock held still, the
    /// reconnection adds no program time, so program frame k is output frame k, and the cue at 2.52 s rides the first
    /// PTS-less frame, as a and b ride theirs.
    /// </summary>
    [Test]
    public void Reconnect_NewTsSessionStartsWithPesWithoutPts_LeadingFramesInterpolated_CuesOnProgramFrames()
    {
        var session = File.ReadAllBytes(FieldMedia.Clip("reconnect", 2.5, "mpegts", ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0"]));
        var leadingWithoutPts = FieldMedia.TsPesTimestamps(session, 0x100, new HashSet<int> { 0, 1 });
        // The oracle's view of the whole input: both sessions one after the other.
        var reference = Write("reconnect-both.ts", [.. session, .. leadingWithoutPts]);
        var firstSession = Probe.VideoPackets(Write("reconnect-1.ts", session)).Count;
        var expectedPackets = Outcome.PacketCount(reference);

        using var source = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        source.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var serve = Task.Run(async () =>
        {
            // Each opening of the input is one connection: the first two get a session each, later ones nothing.
            var held = new List<System.Net.Sockets.TcpClient>();
            var connections = 0;
            try
            {
                foreach (var part in new[] { session, leadingWithoutPts })
                {
                    using var client = await source.AcceptTcpClientAsync(stop.Token);
                    connections++;
                    await client.GetStream().WriteAsync(part, stop.Token);
                }
                while (true) held.Add(await source.AcceptTcpClientAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                foreach (var c in held) c.Dispose();
            }
            return connections;
        });
        Cue[] cues = [new("a", 1.5), new("c", 2.52), new("b", 4.0)];
        var clock = new CatEvening.SeiInjector.Tests.Cues.CueBookTests.ManualClock();
        var outcome = Inject(reference, "mpegts", cues: cues, clock: clock, live: options => options with
        {
            InputUrl = $"tcp://127.0.0.1:{((System.Net.IPEndPoint)source.LocalEndpoint).Port}",
            InputFormat = "mpegts",
            ReconnectLinks = true,
            IoTimeout = TimeSpan.FromSeconds(30),
        }, until: monitor => monitor.Packets + monitor.DroppedPackets + monitor.SkippedPackets >= expectedPackets, stop: stop);
        stop.Cancel();
        Assert.That(serve.Wait(TimeSpan.FromSeconds(30)), Is.True, "the source stops with the test");
        var pts = outcome.VideoOut.Select(p => Probe.Seconds(p.Pts)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(firstSession, Is.EqualTo(63), "the first session: frames 0-62");
            Assert.That(outcome.VideoIn.Skip(firstSession).Take(2).Select(p => p.Pts), Is.All.EqualTo("N/A"), "the new session's first two frames have no PTS");
            outcome.AssertValid(cancelled: true);
            Assert.That(outcome.Report.DroppedPackets, Is.Zero, "the output stayed open: every packet written");
            Assert.That(pts[firstSession], Is.GreaterThan(pts[firstSession - 1]), "the new session follows what was written");
            Assert.That(pts[firstSession + 1] - pts[firstSession], Is.EqualTo(0.04).Within(1e-6), "leading frames one frame apart");
            Assert.That(pts[firstSession + 2] - pts[firstSession + 1], Is.EqualTo(0.04).Within(1e-6), "and the first PTS frame one frame after them");
            Assert.That(pts.Skip(firstSession + 2).Zip(pts.Skip(firstSession + 3)).Select(p => Math.Round(p.Second - p.First, 6)), Is.All.EqualTo(0.04),
                "the rest of the session as it came");
            outcome.AssertCuesOnProgramFrames(originFrame: 0);
            Assert.That(serve.Result, Is.GreaterThanOrEqualTo(2), "the input was opened again for the second session");
        });
    }

    /// <summary>
    /// BUG 3, MPEG-TS: the first session is joined mid-GOP (its first packets before any SPS/PPS), so the probe leaves the
    /// video's extradata empty (its picture size comes from the first keyframe); the second starts at the top and has its
    /// SPS/PPS as extradata. Annex B video carries its parameter sets in-band: the output (a file) stays open, with both
    /// sessions, instead of being opened again over the first ("the reopened input's streams differ").
    /// </summary>
    [Test]
    public void Reconnect_TsJoinedMidGopThenFromTheTop_ExtradataKnownOnlyTheSecondTime_FileOutputKeepsBothSessions()
    {
        var whole = File.ReadAllBytes(FieldMedia.Clip("reconnect-ts-4s", 4, "mpegts"));
        var packets = whole.Length / 188;
        var midGop = whole.AsSpan(188 * (packets / 10)).ToArray();
        var reference = Write("midgop-both.ts", [.. midGop, .. whole]);
        var firstOpen = Write("midgop-1.ts", midGop);
        var probed = FFmpegCli.Ffprobe("-v", "error", "-analyzeduration", "100000", "-select_streams", "v:0", "-show_entries", "stream=extradata_size", "-of", "csv=p=0", firstOpen)
            .EnsureSuccess("ffprobe the mid-GOP session");
        var expectedPackets = Outcome.PacketCount(reference);

        using var source = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        source.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var serve = Task.Run(async () =>
        {
            var held = new List<System.Net.Sockets.TcpClient>();
            try
            {
                foreach (var part in new[] { midGop, whole })
                {
                    using var client = await source.AcceptTcpClientAsync(stop.Token);
                    await client.GetStream().WriteAsync(part, stop.Token);
                }
                while (true) held.Add(await source.AcceptTcpClientAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                foreach (var c in held) c.Dispose();
            }
        });
        var outcome = Inject(reference, "mpegts", live: options => options with
        {
            InputUrl = $"tcp://127.0.0.1:{((System.Net.IPEndPoint)source.LocalEndpoint).Port}",
            InputFormat = "mpegts",
            ReconnectLinks = true,
            AnalyzeDuration = TimeSpan.FromMilliseconds(100),
            IoTimeout = TimeSpan.FromSeconds(30),
        }, until: monitor => monitor.Packets + monitor.DroppedPackets + monitor.SkippedPackets >= expectedPackets, stop: stop);
        stop.Cancel();
        Assert.That(serve.Wait(TimeSpan.FromSeconds(30)), Is.True, "the source stops with the test");
        Assert.Multiple(() =>
        {
            Assert.That(probed.StdOut.Trim(), Is.AnyOf("", "0"), "the mid-GOP session's probe finds no extradata (the case under test)");
            Assert.That(outcome.Log, Does.Not.Contain("differ"));
            Assert.That(outcome.Report.DroppedPackets, Is.Zero, "the output stayed open: every packet written");
            Assert.That(Outcome.PacketCount(outcome.Output), Is.EqualTo(outcome.Report.Packets), "the file holds every packet written");
            Assert.That(outcome.Report.Packets + outcome.Report.SkippedPackets, Is.EqualTo(expectedPackets), "both sessions, every packet");
            Assert.That(outcome.VideoOut, Has.Count.EqualTo(outcome.VideoIn.Count), "both sessions' video in the file");
        });
    }

    private readonly record struct Cue(string Id, double At);

    private Outcome Inject(string input, string outputFormat, string? inputFormat = null, FFmpegInterop.Rational? frameRate = null, Cue[]? cues = null,
        IWallClock? clock = null, Func<PipelineOptions, PipelineOptions>? live = null, Func<PacketMonitor, bool>? until = null, CancellationTokenSource? stop = null)
    {
        cues ??= [.. Cues.Select(c => new Cue(c.Id, c.At))];
        var output = Path.Combine(_work, Path.GetFileNameWithoutExtension(input) + "-" + Guid.NewGuid().ToString("N")[..6] + "." + (outputFormat == "mpegts" ? "ts" : outputFormat));
        var book = new CueBook(new CueBookOptions { StreamId = "field", Heartbeat = HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)), Repeat = 3 }, clock: clock);
        foreach (var (id, at) in cues)
            book.Add(new CueRequest(id, id == "b" ? MessageKind.InteractionStart : MessageKind.Custom, CueTime.FromFirstFrame(TimeSpan.FromSeconds(at)),
                id == "b" ? TimeSpan.FromSeconds(2) : TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty));
        var log = new StringWriter();
        var monitor = new PacketMonitor();
        var options = new PipelineOptions { InputUrl = input, OutputUrl = output, InputFormat = inputFormat, OutputFormat = outputFormat, Log = line => { lock (log) log.WriteLine(line); }, Monitor = monitor, FrameRate = frameRate };
        if (live is not null) options = live(options);
        var pipeline = new InjectionPipeline(options, new CueSeiSource(book, new MessageSigner(_key)));
        PipelineReport report;
        if (until is null)
        {
            report = pipeline.Run();
        }
        else
        {
            var run = Task.Run(() => pipeline.Run(stop!.Token));
            // Bounded in time by `stop` (it cancels itself): only a real hang reaches it.
            while (!until(monitor) && !run.IsCompleted && !stop!.IsCancellationRequested) run.Wait(TimeSpan.FromMilliseconds(50));
            stop!.Cancel();
            report = run.Result;
        }
        var inspected = new List<InspectedMessage>();
        new StreamInspector(_key.PublicKey).Inspect(output, null, TimeSpan.FromSeconds(30), inspected.Add);
        string text;
        lock (log) text = log.ToString();
        return new Outcome(input, output, report, monitor, text, inspected, cues);
    }

    // PTS fields of the video PES headers (PID 0x100), raw 33-bit values.
    private static List<long> RawPesPts(string path)
    {
        var d = File.ReadAllBytes(path);
        var found = new List<long>();
        for (var off = 0; off + 188 <= d.Length; off += 188)
        {
            if (d[off] != 0x47 || (((d[off + 1] & 0x1f) << 8) | d[off + 2]) != 0x100 || (d[off + 1] & 0x40) == 0) continue;
            var i = off + 4 + ((d[off + 3] & 0x20) != 0 ? 1 + d[off + 4] : 0);
            if ((d[i + 7] & 0x80) == 0) continue;
            var p = i + 9;
            found.Add(((long)(d[p] >> 1) & 7) << 30 | (long)d[p + 1] << 22 | (long)(d[p + 2] >> 1) << 15 | (long)d[p + 3] << 7 | (long)(d[p + 4] >> 1));
        }
        return found;
    }

    private sealed class Outcome(string input, string output, PipelineReport report, PacketMonitor monitor, string log, List<InspectedMessage> inspected, Cue[] cues)
    {
        public static int PacketCount(string path) => AllPackets(path).Count;

        public string Output => output;
        public PipelineReport Report => report;
        public string Log => log;
        public PacketMonitor Monitor => monitor;
        public List<InspectedMessage> Inspected => inspected;
        public List<(string Pts, string Dts)> VideoIn { get; } = Probe.VideoPackets(input);
        public List<(string Pts, string Dts)> VideoOut { get; } = Probe.VideoPackets(output);
        public List<(string Pts, string Dts)> AudioIn { get; } = Packets(input, "a:0");
        public List<(string Pts, string Dts)> AudioOut { get; } = Packets(output, "a:0");

        public void AssertValid(bool cancelled = false)
        {
            Assert.That(report.Cancelled, Is.EqualTo(cancelled), cancelled ? "a live input runs until stopped" : "the run reached the input's end");
            Assert.That(AllPackets(output).Count, Is.EqualTo(report.Packets), "the output holds what the report says was written");
            Assert.That(report.Packets + report.SkippedPackets + report.DroppedPackets, Is.EqualTo(AllPackets(input).Count), "every input packet written, or skipped and counted");
            Assert.That(monitor.SkippedPackets, Is.EqualTo(report.SkippedPackets));
            Assert.That(FramesPassthrough(output), Is.EqualTo(FramesPassthrough(input)), "decoded video identical (framemd5, passthrough)");
            // Matroska stores no DTS: FFmpeg's demuxer leaves the first ones of a B-frame stream unknown.
            var noDts = output.EndsWith(".matroska", StringComparison.Ordinal);
            foreach (var (stream, dts) in AllPackets(output).GroupBy(p => p.Stream)
                .Select(g => (g.Key, g.Select(p => p.Dts).Where(d => !noDts || d != long.MinValue).ToList())))
                Assert.That(dts.Zip(dts.Skip(1)).All(p => p.Second > p.First), Is.True, $"stream {stream}: output DTS strictly increasing");
            Assert.That(inspected.Select(m => m.Verified), Is.All.True, "every message verifies");
        }

        /// <summary>
        /// Each cue fires on the frame presented <c>at</c> after the frame <paramref name="originFrame"/> (presentation
        /// order): the frame <paramref name="frameOf"/> names for <c>at</c>, by default the first at or after it at
        /// <paramref name="framesPerSecond"/>.
        /// </summary>
        public void AssertCuesOnProgramFrames(int originFrame, int framesPerSecond = FramesPerSecond, Func<double, int>? frameOf = null)
        {
            frameOf ??= at => (int)Math.Ceiling((at * framesPerSecond) - 1e-9);
            var presented = Probe.VideoFrames(output).Select(f => Probe.Seconds(f.Pts)).ToList();
            foreach (var (id, at) in cues)
            {
                var first = inspected.FirstOrDefault(m => m.Message is CueMessage c && c.CueId == id && m.First);
                Assert.That(first, Is.Not.Null, $"cue {id} was sent");
                if (first is null) continue;
                var fired = presented.FindIndex(t => Math.Abs(t - first.FireTime!.Value) < 1e-4);
                Assert.That(fired - originFrame, Is.EqualTo(frameOf(at)), $"cue {id} fires on the program frame at {at} s");
            }
        }

        /// <summary>
        /// Every occurrence of a cue (first delivery and repeats) names the same target, on the timestamps as written (a
        /// target on a frame is that frame's PTS: <see cref="AssertCuesOnProgramFrames"/>); every heartbeat's carrier PTS
        /// is its carrier's PTS as written, in 90 kHz.
        /// </summary>
        public void AssertTargetsAsWritten()
        {
            foreach (var (id, _) in cues)
            {
                var occurrences = inspected.Where(m => m.Message is CueMessage c && c.CueId == id).ToList();
                Assert.That(occurrences.Select(m => m.TargetTime ?? double.NaN), Is.All.EqualTo(occurrences[0].TargetTime ?? double.NaN).Within(1e-9),
                    $"cue {id}: every occurrence names the same target");
            }
            var heartbeats = inspected.Where(m => m.Message is HeartbeatMessage).ToList();
            Assert.That(heartbeats, Is.Not.Empty, "heartbeats sent");
            Assert.That(heartbeats.Select(m => ((HeartbeatMessage)m.Message!).CarrierPts), Is.EqualTo(heartbeats.Select(m => (long)Math.Round(m.PtsTime!.Value * 90_000))),
                "heartbeat carrier PTS: the carrier's as written");
        }

        private static List<(string Pts, string Dts)> Packets(string path, string streams)
        {
            var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", streams, "-show_entries", "packet=pts_time,dts_time", "-of", "csv=p=0", path).EnsureSuccess("ffprobe");
            return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(',')).Select(f => (f[0], f.Length > 1 ? f[1] : "N/A")).ToList();
        }

        private static List<(int Stream, long Dts)> AllPackets(string path)
        {
            var r = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "packet=stream_index,dts", "-of", "csv=p=0", path).EnsureSuccess("ffprobe");
            return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(','))
                .Select(f => (int.Parse(f[0], CultureInfo.InvariantCulture), f.Length > 1 && long.TryParse(f[1], CultureInfo.InvariantCulture, out var d) ? d : long.MinValue)).ToList();
        }

        private static List<string> FramesPassthrough(string path)
        {
            var r = FFmpegCli.Ffmpeg("-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "framemd5", "-").EnsureSuccess($"framemd5 of {path}");
            return r.StdOut.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(',').Last().Trim()).ToList();
        }
    }
}
