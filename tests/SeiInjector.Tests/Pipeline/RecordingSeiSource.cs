using CatEvening.SeiInjector.Pipeline;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>Wraps a real SEI source and remembers which video packets carried an SEI NAL.</summary>
internal sealed class RecordingSeiSource(IFrameSeiSource inner) : IFrameSeiSource
{
    public List<long> Carriers { get; } = [];

    public List<string> NotCarriedReasons { get; } = [];

    public CatEvening.SeiInjector.Timing.MediaTimeline? Timeline => inner.Timeline;

    public void Start(VideoStreamDescription video) => inner.Start(video);

    public ReadOnlyMemory<byte> SeiFor(in VideoFrame frame) => inner.SeiFor(frame);

    public void Delivered(in VideoFrame frame, ReadOnlySpan<byte> sei)
    {
        Carriers.Add(frame.FrameIndex);
        inner.Delivered(frame, sei);
    }

    public void NotCarried(in VideoFrame frame, string reason)
    {
        NotCarriedReasons.Add(reason);
        inner.NotCarried(frame, reason);
    }

    public void Skipped(in VideoFrame frame) => inner.Skipped(frame);
}
