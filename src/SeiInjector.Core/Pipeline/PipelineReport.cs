namespace CatEvening.SeiInjector.Pipeline;

/// <summary>What one run of the pipeline did.</summary>
/// <param name="Packets">Packets copied, every stream.</param>
/// <param name="VideoFrames">Video packets (access units) copied.</param>
/// <param name="CarrierFrames">Video packets that received an SEI NAL.</param>
/// <param name="SeiBytes">Bytes of SEI NALs added, framing included.</param>
/// <param name="Cancelled">True when the run stopped because it was cancelled rather than at the end of the input.</param>
public sealed record PipelineReport(long Packets, long VideoFrames, long CarrierFrames, long SeiBytes, bool Cancelled);
