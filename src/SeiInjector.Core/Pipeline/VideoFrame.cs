using CatEvening.FFmpegInterop;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>One video packet (one access unit) as the pipeline reads it, in decode order.</summary>
/// <param name="Pts">Presentation timestamp in <paramref name="TimeBase"/> units, null when the input has none (raw Annex B).</param>
/// <param name="Dts">Decoding timestamp, null when absent.</param>
/// <param name="IsKeyframe">The demuxer marks the packet as a random access point.</param>
/// <param name="FrameIndex">0-based index in decode order.</param>
/// <param name="TimeBase">Time base of the video stream.</param>
public readonly record struct VideoFrame(long? Pts, long? Dts, bool IsKeyframe, long FrameIndex, Rational TimeBase)
{
    /// <summary>
    /// Presentation time on the program timeline (microseconds from the first video frame, <see cref="Timing.MediaTimeline"/>),
    /// when the pipeline placed the frame; null when whoever reads the frame places it (the cue book then does).
    /// </summary>
    public long? ProgramTime { get; init; }

    /// <summary>Decoding time on the program timeline, microseconds; set together with <see cref="ProgramTime"/>.</summary>
    public long? ProgramDecodeTime { get; init; }

    /// <summary>
    /// Time base the packet's timestamps are written in (the output stream's, which FFmpeg rounds them to), when the
    /// pipeline knows it; null when it is <see cref="TimeBase"/>. A reader sees the carrier's PTS and every target in it:
    /// an offset to a target must be the distance between the two as rounded there (90 kHz in, 1 kHz out: a carrier at
    /// 1.566667 s goes out at 1.567 s, the target frame 1.533333 s at 1.533 s, 34 ms apart, not 33.333 ms).
    /// </summary>
    public Rational? WrittenTimeBase { get; init; }

    /// <summary>PTS in seconds, null when absent.</summary>
    public double? PtsSeconds => Pts is { } p ? TimeBase.ToSeconds(p) : null;
}
