using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>The kind of a stream (<c>AVMediaType</c>).</summary>
public enum MediaType
{
    /// <summary>AVMEDIA_TYPE_UNKNOWN.</summary>
    Unknown = -1,
    /// <summary>AVMEDIA_TYPE_VIDEO.</summary>
    Video = 0,
    /// <summary>AVMEDIA_TYPE_AUDIO.</summary>
    Audio = 1,
    /// <summary>AVMEDIA_TYPE_DATA.</summary>
    Data = 2,
    /// <summary>AVMEDIA_TYPE_SUBTITLE.</summary>
    Subtitle = 3,
    /// <summary>AVMEDIA_TYPE_ATTACHMENT.</summary>
    Attachment = 4,
}

/// <summary>The codecs CatEvening tells apart by their FFmpeg codec id; everything else is <see cref="Other"/>.</summary>
public enum KnownCodec
{
    /// <summary>Any codec not listed here.</summary>
    Other,
    /// <summary>H.264 / AVC (FFmpeg's <c>h264</c>).</summary>
    H264,
    /// <summary>H.265 / HEVC (FFmpeg's <c>hevc</c>).</summary>
    Hevc,
}

/// <summary>
/// One stream of an open input or output: a view over the native <c>AVStream</c>, valid while its context is open.
/// </summary>
public sealed class MediaStream
{
    private readonly SafeHandle _owner;
    private readonly nint _stream;

    internal MediaStream(SafeHandle owner, nint stream)
    {
        _owner = owner;
        _stream = stream;
    }

    internal nint CodecParameters
    {
        get
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            return Marshal.ReadIntPtr(_stream + FFmpegLibrary.Layout.StreamCodecParameters);
        }
    }

    /// <summary>Index of the stream in its context.</summary>
    public int Index => Marshal.ReadInt32(_stream + FFmpegLibrary.Layout.StreamIndex);

    /// <summary>Video, audio, …</summary>
    public MediaType MediaType => (MediaType)Marshal.ReadInt32(CodecParameters + StructLayouts.ParametersCodecType);

    /// <summary>FFmpeg's codec id: a number of the loaded libavcodec, which can differ between releases (see <see cref="CodecIds"/>).</summary>
    public int CodecId => Marshal.ReadInt32(CodecParameters + StructLayouts.ParametersCodecId);

    /// <summary>The codec, if it is one CatEvening knows, by the loaded library's own ids.</summary>
    public KnownCodec KnownCodec => FFmpegLibrary.CodecIds.Classify(CodecId);

    /// <summary>FFmpeg's short codec name, e.g. <c>h264</c>.</summary>
    public string CodecName => Marshal.PtrToStringUTF8(AvCodec.avcodec_get_name(CodecId)) ?? "unknown";

    /// <summary>Time base of the stream's timestamps (set by the demuxer; for an output, by the muxer's header).</summary>
    public unsafe Rational TimeBase
    {
        get
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            var r = *(AVRational*)(_stream + FFmpegLibrary.Layout.StreamTimeBase);
            return new Rational(r.Num, r.Den);
        }
        internal set
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            *(AVRational*)(_stream + FFmpegLibrary.Layout.StreamTimeBase) = value.ToNative();
        }
    }

    /// <summary>
    /// Timestamp of the stream's first frame as the demuxer found it while probing (AVStream <c>start_time</c>, in
    /// <see cref="TimeBase"/>), or null when unknown. <c>start_time</c> follows <c>time_base</c> in every supported
    /// release's AVStream.
    /// </summary>
    public unsafe long? StartTime
    {
        get
        {
            ObjectDisposedException.ThrowIf(_owner.IsClosed, this);
            var start = *(long*)(_stream + FFmpegLibrary.Layout.StreamTimeBase + sizeof(AVRational));
            return start == Packet.NoTimestamp ? null : start;
        }
    }

    /// <summary>
    /// The codec's out-of-band configuration (avcC, hvcC or Annex B parameter sets), empty when there is none. A view
    /// over FFmpeg's buffer, valid while the context is open.
    /// </summary>
    public unsafe ReadOnlySpan<byte> Extradata
    {
        get
        {
            var par = CodecParameters;
            var data = *(byte**)(par + StructLayouts.ParametersExtradata);
            var size = *(int*)(par + StructLayouts.ParametersExtradataSize);
            return data == null || size <= 0 ? [] : new ReadOnlySpan<byte>(data, size);
        }
    }

    /// <summary>
    /// An audio stream's sample rate in Hz, null for other streams and while FFmpeg's probe has not found it (a short
    /// <c>analyzeduration</c> that ended before the stream's first frames; muxers refuse such a stream: "sample rate not
    /// set"). See <see cref="AudioFrameDuration"/> for how it is read.
    /// </summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public int? AudioSampleRate => CodecOptions.AudioSampleRate(CodecParameters);

    /// <summary>
    /// An audio stream's samples per frame over its sample rate: the time one coded frame lasts (AAC: 1024/48000 s), as
    /// <c>ffmpeg</c> advances a stream-copied audio packet that comes without timestamps or duration. Null for other
    /// streams and when either is unknown. Read through FFmpeg's AVOption table of a codec context filled from the
    /// stream's parameters (<c>ar</c>, <c>frame_size</c>), so no struct layout is assumed; allocates a context.
    /// </summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public Rational? AudioFrameDuration => CodecOptions.AudioFrameDuration(CodecParameters);

    /// <summary>
    /// A video stream's picture size in pixels; null for other streams and while it is unknown (a stream announced before
    /// its first frame, e.g. by an FLV sequence header, and probed too briefly to see one: muxers refuse it, "dimensions not set").
    /// Read through FFmpeg's AVOption table (<c>video_size</c>) of a codec context filled from the stream's parameters.
    /// </summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public (int Width, int Height)? VideoSize => CodecOptions.VideoSize(CodecParameters);

    internal uint CodecTag
    {
        get => (uint)Marshal.ReadInt32(CodecParameters + StructLayouts.ParametersCodecTag);
        set => Marshal.WriteInt32(CodecParameters + StructLayouts.ParametersCodecTag, (int)value);
    }

    /// <inheritdoc />
    public override string ToString() => $"#{Index} {MediaType} {CodecName} tb={TimeBase}";
}
