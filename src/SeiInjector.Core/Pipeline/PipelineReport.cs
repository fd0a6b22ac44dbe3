namespace CatEvening.SeiInjector.Pipeline;

/// <summary>What one run of the pipeline did.</summary>
/// <param name="Packets">Packets copied, every stream.</param>
/// <param name="VideoFrames">Video packets (access units) copied.</param>
/// <param name="CarrierFrames">Video packets that received an SEI NAL.</param>
/// <param name="SeiBytes">Bytes of SEI NALs added, framing included.</param>
/// <param name="Cancelled">True when the run stopped because it was cancelled rather than at the end of the input.</param>
/// <param name="DroppedPackets">Packets read and never written: read while the output was down and not kept by the
/// <see cref="GopCache"/> (or evicted from it), before the keyframe the output resumed at, or of streams that appeared
/// after the output header was written (an MPEG-TS PMT update adding a stream), or of a reopened input's streams that
/// match none of a file output's. Cached packets written later are not counted here.</param>
/// <param name="SkippedPackets">Packets the muxer refused even after their timestamps were repaired, or whose bytes it or
/// its bitstream filter found malformed (logged with the reason): not written.</param>
/// <param name="Discontinuities">Timestamp discontinuities bridged (the input jumped backwards, or far forwards).</param>
public sealed record PipelineReport(long Packets, long VideoFrames, long CarrierFrames, long SeiBytes, bool Cancelled, long DroppedPackets = 0,
    long SkippedPackets = 0, long Discontinuities = 0);
