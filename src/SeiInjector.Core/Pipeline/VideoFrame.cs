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

    /// <summary>PTS in seconds, null when absent.</summary>
    public double? PtsSeconds => Pts is { } p ? TimeBase.ToSeconds(p) : null;
}
