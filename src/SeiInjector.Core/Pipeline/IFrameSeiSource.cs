namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Decides, per video packet in decode order, which SEI NAL (if any) rides on it. The pipeline splices what it returns
/// into the access unit right away; nothing is buffered.
/// </summary>
public interface IFrameSeiSource
{
    /// <summary>
    /// The program timeline this source schedules on, for the pipeline to place each video frame on before
    /// <see cref="SeiFor"/>; null when the source keeps no timeline (the pipeline then keeps its own).
    /// </summary>
    Timing.MediaTimeline? Timeline => null;

    /// <summary>Called once, before the first packet, with the video stream's codec and NAL framing.</summary>
    void Start(VideoStreamDescription video);

    /// <summary>
    /// The complete SEI NAL unit for this frame, framed as the stream is (Annex B start code or length prefix), or empty
    /// when nothing rides on it. The memory stays valid until the next call.
    /// </summary>
    ReadOnlyMemory<byte> SeiFor(in VideoFrame frame);

    /// <summary>Called after the packet carrying <paramref name="sei"/> was handed to the muxer.</summary>
    void Delivered(in VideoFrame frame, ReadOnlySpan<byte> sei);

    /// <summary>
    /// The packet had no place for the SEI (no coded slice, or bytes the splicer cannot walk) and went out untouched;
    /// what was due on it is due again on the next packet. <paramref name="reason"/> names the fault and its offset.
    /// </summary>
    void NotCarried(in VideoFrame frame, string reason);

    /// <summary>
    /// The frame was read while the output was down (or before the keyframe it resumes at): it is dropped, or held in
    /// the GOP cache and written without SEI once the output is back. Nothing rides on it, but program time moves on, so
    /// cues whose window closes meanwhile expire and those still open go out on the first frame given to
    /// <see cref="SeiFor"/> after it.
    /// </summary>
    void Skipped(in VideoFrame frame);
}
