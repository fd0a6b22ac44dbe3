using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Timing;

/// <summary>
/// Timestamps for a raw Annex B stream (no container timestamps): each access unit's DTS is one frame duration after
/// the last one's; its PTS is its place in presentation order, from the picture order count of its slice header (so
/// B-frames get the PTS an encoder would have given them), shifted by the stream's reorder depth so PTS ≥ DTS. The frame
/// duration comes from the frame rate given, else the SPS VUI timing, else (H.265) the VPS timing, else 25 fps.
/// </summary>
/// <remarks>
/// <para>The picture order and the stream's timing come from <see cref="PictureOrder"/>. An access unit it cannot read
/// goes out one frame after the last, in decode order. Allocation-free per packet.</para>
/// <para>A count reset (an IDR) is shown one frame after every frame before it (H.264 8.2.5.2, H.265 C.5.2.2), and at
/// least the reorder depth after its own DTS. Both matter where streams are spliced (<c>cat a.h264 b.h264</c>): the
/// second part's reorder depth or frame rate may differ from the first's (its own SPS); DTS and PTS go on from where the
/// first part left them, at the new rate.</para>
/// </remarks>
public sealed class RawVideoTimestamps
{
    private static readonly Rational DefaultRate = new(25, 1);

    private readonly PictureOrder _order;
    private readonly Rational _timeBase;
    private readonly Rational? _forcedRate;
    // The next DTS; the PTS of the current count epoch's count 0; the highest PTS so far (none yet: long.MinValue) and
    // the frame duration when it was given (the frame shown last lasts that long, whatever the rate after it).
    private long _nextDts, _epochPts, _maxPts = long.MinValue, _maxPtsDuration;

    /// <summary>Creates the stamper.</summary>
    /// <param name="codec">H.264 or H.265.</param>
    /// <param name="timeBase">Time base of the timestamps to make (the raw demuxer's video time base).</param>
    /// <param name="frameRate">A frame rate that overrides the stream's own timing; null to use the stream's, or 25.</param>
    public RawVideoTimestamps(VideoCodec codec, Rational timeBase, Rational? frameRate)
    {
        _order = new PictureOrder(codec, NalFraming.AnnexB);
        _timeBase = timeBase;
        _forcedRate = frameRate;
    }

    /// <summary>
    /// The stamper for an input read by FFmpeg's raw <c>h264</c>/<c>hevc</c> demuxer (which gives no timestamps), with
    /// the parameter sets of its codec configuration read; null for any other input, whose own timestamps are used.
    /// </summary>
    /// <param name="input">The open input.</param>
    /// <param name="video">Its video stream.</param>
    /// <param name="frameRate">As for the constructor: overrides the stream's timing; null for the stream's, or 25.</param>
    public static RawVideoTimestamps? ForRawInput(MediaInput input, VideoStreamDescription video, Rational? frameRate)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(video);
        if (input.FormatName is not ("h264" or "hevc")) return null;
        var stamps = new RawVideoTimestamps(video.Codec, video.TimeBase, frameRate);
        stamps.ReadConfiguration(input.Streams[video.StreamIndex].Extradata);
        return stamps;
    }

    /// <summary>The frame rate in use: the one given, else the stream's timing once read, else 25.</summary>
    public Rational FrameRate => _forcedRate ?? _order.FrameRate ?? DefaultRate;

    /// <summary>Where the frame rate came from: <c>option</c>, <c>sps</c>, <c>vps</c> or <c>default</c>.</summary>
    public string FrameRateSource => _forcedRate is not null ? "option" : _order.FrameRateSource ?? "default";

    /// <summary>Reads the parameter sets in the codec configuration (extradata), if any.</summary>
    public void ReadConfiguration(ReadOnlySpan<byte> extradata)
    {
        if (!extradata.IsEmpty && AnnexB.StartsWithStartCode(extradata)) _order.ReadParameterSets(extradata);
    }

    /// <summary>Timestamps for the next access unit (Annex B bytes), in the time base given.</summary>
    public (long Pts, long Dts) Next(ReadOnlySpan<byte> accessUnit)
    {
        var read = _order.TryRead(accessUnit, out var poc);
        var rate = FrameRate;
        var duration = new Rational(rate.Denominator, rate.Numerator).Rescale(1, _timeBase);
        var dts = _nextDts;
        _nextDts += duration;
        var delay = _order.Reorder >= 0 ? _order.Reorder : 2;
        long pts;
        if (read)
        {
            if (poc.Reset) _epochPts = Math.Max(dts + (delay * duration), _maxPts == long.MinValue ? long.MinValue : _maxPts + _maxPtsDuration);
            pts = _epochPts + (poc.Value / poc.UnitsPerFrame * duration);
        }
        else
        {
            pts = _maxPts == long.MinValue ? dts + (delay * duration) : _maxPts + _maxPtsDuration;
        }
        if (pts > _maxPts) (_maxPts, _maxPtsDuration) = (pts, duration);
        return (pts, dts);
    }
}
