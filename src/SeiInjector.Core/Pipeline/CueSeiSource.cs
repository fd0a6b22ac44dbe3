using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Turns what the <see cref="CueBook"/> says is due on a frame into one SEI NAL unit: each message signed into a
/// complete user_data_unregistered payload, all of them in one NAL (one <c>sei_message()</c> each), framed as the stream.
/// </summary>
public sealed class CueSeiSource : IFrameSeiSource
{
    private readonly CueBook _book;
    private readonly MessageSigner _signer;
    private readonly List<byte[]> _payloads = [];
    private VideoStreamDescription? _video;
    private CuePlan? _plan;
    private byte[] _buffer = new byte[4096];

    /// <summary>Creates the source over a book and a signer (neither is owned).</summary>
    public CueSeiSource(CueBook book, MessageSigner signer)
    {
        ArgumentNullException.ThrowIfNull(book);
        ArgumentNullException.ThrowIfNull(signer);
        _book = book;
        _signer = signer;
    }

    /// <inheritdoc />
    public Timing.MediaTimeline? Timeline => _book.Timeline;

    /// <inheritdoc />
    public void Start(VideoStreamDescription video) => _video = video ?? throw new ArgumentNullException(nameof(video));

    /// <inheritdoc />
    public ReadOnlyMemory<byte> SeiFor(in VideoFrame frame)
    {
        var video = _video ?? throw new InvalidOperationException("Start was not called");
        var plan = _plan = _book.Collect(frame);
        var messages = plan.Messages;
        if (messages.Count == 0) return ReadOnlyMemory<byte>.Empty;
        _payloads.Clear();
        var measure = SeiNalWriter.CreateMeasuring(video.Codec, video.Framing);
        foreach (var message in messages)
        {
            var payload = _signer.Sign(message);
            _payloads.Add(payload);
            measure.WriteMessage(SeiPayloadType.UserDataUnregistered, payload);
        }
        var length = measure.Complete();
        if (_buffer.Length < length) _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
        var writer = new SeiNalWriter(_buffer, video.Codec, video.Framing);
        foreach (var payload in _payloads) writer.WriteMessage(SeiPayloadType.UserDataUnregistered, payload);
        var written = writer.Complete();
        return _buffer.AsMemory(0, written);
    }

    /// <inheritdoc />
    public void Delivered(in VideoFrame frame, ReadOnlySpan<byte> sei) => _book.Commit(PlanOf(frame), sei);

    /// <inheritdoc />
    public void NotCarried(in VideoFrame frame, string reason) => _book.Defer(PlanOf(frame));

    private CuePlan PlanOf(in VideoFrame frame) =>
        // The plan holds the frame as the book placed it on the timeline: the same packet when its index matches.
        _plan is { } plan && plan.Frame.FrameIndex == frame.FrameIndex ? plan : throw new InvalidOperationException($"frame {frame.FrameIndex} was not the last one given to SeiFor");

    /// <inheritdoc />
    public void Skipped(in VideoFrame frame) => _book.Pass(frame);
}
