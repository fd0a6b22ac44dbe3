using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Tests.Pipeline;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Bitstream;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Timing;

/// <summary>
/// Where <see cref="RawVideoTimestamps"/> takes a raw stream's frame rate from, on real x264/x265 Annex B output (25 fps):
/// both encoders write the rate in the SPS VUI (x265 leaves <c>vps_timing_info_present_flag</c> at 0, as FFmpeg's
/// trace_headers shows), so the source reported is the SPS for both, which is what the run's log prints.
/// </summary>
public class RawVideoTimestampsTests
{
    [TestCase("libx264", VideoCodec.H264, "h264")]
    [TestCase("libx265", VideoCodec.H265, "hevc")]
    public void RawEncoderOutput_RateFromTheSpsVuiTiming_ReportedAsSps(string encoder, VideoCodec codec, string format)
    {
        var path = FieldMedia.Clip($"raw-rate-{encoder}", 1, format,
            ["-c:v", encoder, "-preset", "veryfast", .. encoder == "libx265" ? new[] { "-x265-params", "log-level=error" } : []], ["-an"]);
        var stamps = new RawVideoTimestamps(codec, new Rational(1, 1_200_000), frameRate: null);
        Assert.That(stamps.FrameRateSource, Is.EqualTo("default"), "nothing read yet");
        // The whole stream as one buffer: the parameter sets at its start are read before its first slice.
        stamps.Next(File.ReadAllBytes(path));
        Assert.Multiple(() =>
        {
            Assert.That(stamps.FrameRateSource, Is.EqualTo("sps"));
            Assert.That(stamps.FrameRate.Numerator / (double)stamps.FrameRate.Denominator, Is.EqualTo(25.0));
        });
    }

    [Test]
    public void FrameRateGiven_OverridesTheStreamsTiming_ReportedAsOption()
    {
        var path = FieldMedia.Clip("raw-rate-libx264", 1, "h264", ["-c:v", "libx264", "-preset", "veryfast"], ["-an"]);
        var stamps = new RawVideoTimestamps(VideoCodec.H264, new Rational(1, 1_200_000), new Rational(50, 1));
        stamps.Next(File.ReadAllBytes(path));
        Assert.Multiple(() =>
        {
            Assert.That(stamps.FrameRateSource, Is.EqualTo("option"));
            Assert.That(stamps.FrameRate, Is.EqualTo(new Rational(50, 1)));
        });
    }
}
