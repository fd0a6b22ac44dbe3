using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Turns what the <see cref="CueBook"/> says is due on a frame into one SEI NAL unit, framed as the stream.
/// Format version 2 (the default): everything due (new cues, repeats, closes, the heartbeat) in one
/// <see cref="MessageBundle"/> under the frame's transmission sequence number, signed once, as the NAL's only
/// <c>sei_message()</c>, so players that read only the first message of an SEI NAL (mpegts.js 1.8.2, flv.js) or
/// the first user-data SEI of a frame (hls.js before PR #4242) see all of it. Format version 1: each message signed
/// into its own payload, one <c>sei_message()</c> each, in the same NAL.
/// </summary>
public sealed class CueSeiSource : IFrameSeiSource
{
    private readonly CueBook _book;
    private readonly MessageSigner _signer;
    private readonly byte _formatVersion;
    private readonly List<byte[]> _payloads = [];
    private VideoStreamDescription? _video;
    private CuePlan? _plan;
    private byte[] _buffer = new byte[4096];

    /// <summary>Creates the source over a book and a signer (neither is owned).</summary>
    /// <param name="book">What is due on each frame.</param>
    /// <param name="signer">Signs the payloads.</param>
    /// <param name="formatVersion">Envelope format to write: <see cref="CatEveningSei.FormatVersion2"/> (default) or
    /// <see cref="CatEveningSei.FormatVersion"/> (1) for readers not yet updated.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="formatVersion"/> is neither 1 nor 2.</exception>
    public CueSeiSource(CueBook book, MessageSigner signer, byte formatVersion = CatEveningSei.FormatVersion2)
    {
        ArgumentNullException.ThrowIfNull(book);
        ArgumentNullException.ThrowIfNull(signer);
        if (formatVersion is not (CatEveningSei.FormatVersion or CatEveningSei.FormatVersion2))
            throw new ArgumentOutOfRangeException(nameof(formatVersion), formatVersion, "format version must be 1 or 2");
        _book = book;
        _signer = signer;
        _formatVersion = formatVersion;
        // Version 1 signs each message into its own payload, and readers look at 16 payloads of an access unit at most.
        if (formatVersion == CatEveningSei.FormatVersion) book.LimitMessagesPerFrame(CatEveningSei.DefaultMaxPayloadsPerAccessUnit);
    }

    /// <summary>The envelope format version written.</summary>
    public byte FormatVersion => _formatVersion;

    /// <inheritdoc />
    public Timing.MediaTimeline? Timeline => _book.Timeline;

    /// <inheritdoc />
    public void Start(VideoStreamDescription video) => _video = video ?? throw new ArgumentNullException(nameof(video));

    /// <inheritdoc />
    public ReadOnlyMemory<byte> SeiFor(in VideoFrame frame)
    {
        var video = _video ?? throw new InvalidOperationException("Start was not called");
        var plan = _book.CollectDue(frame);
        if (plan is null)
        {
            // Most frames carry nothing: a reference store would run the GC's write barrier (its globals and card
            // table, cold pages after every poll() sleep) to store null over null.
            if (_plan is not null) _plan = null;
            return ReadOnlyMemory<byte>.Empty;
        }
        _plan = plan;
        var messages = plan.Messages;
        _payloads.Clear();
        if (_formatVersion == CatEveningSei.FormatVersion2)
        {
            // Every message of one Collect is stamped with the same wall clock reading.
            _payloads.Add(_signer.Sign(new MessageBundle(_book.Options.StreamId, plan.TransmissionSequence, messages[0].IssuedAtMicros, messages)));
        }
        else
        {
            foreach (var message in messages) _payloads.Add(_signer.Sign(message));
        }
        var measure = SeiNalWriter.CreateMeasuring(video.Codec, video.Framing);
        foreach (var payload in _payloads) measure.WriteMessage(SeiPayloadType.UserDataUnregistered, payload);
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
