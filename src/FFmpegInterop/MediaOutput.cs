using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;
using CatEvening.FFmpegInterop.Rtmp;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// An open muxer writing to any URL FFmpeg writes (file, <c>pipe:1</c>, rtmp://, srt://, …) with stream copy. Owns the
/// <c>AVFormatContext</c> (<c>avformat_free_context</c>), its <c>AVIOContext</c> (<c>avio_closep</c>) and its interrupt
/// callback.
/// </summary>
/// <remarks>
/// Packets go out through <c>av_write_frame</c>, never the interleaving queue: a packet is in the muxer (and, for
/// non-seekable outputs such as pipes and network URLs, flushed) as soon as it is written.
/// </remarks>
public sealed class MediaOutput : IDisposable
{
    private const int NoFileFlag = 0x0001;   // AVFMT_NOFILE: the muxer opens its own I/O
    private const int AvioFlagWrite = 2;     // AVIO_FLAG_WRITE

    private readonly OutputContextHandle _context;
    private readonly InterruptGuard _interrupt;
    private readonly List<MediaStream> _streams = [];

    // FF_COMPLIANCE_NORMAL (libavcodec/defs.h).
    private const int ComplianceNormal = 0;
    private bool _headerWritten;

    private readonly RtmpClient _rtmpClient;

    private MediaOutput(OutputContextHandle context, InterruptGuard interrupt, string url, RtmpClient rtmpClient)
    {
        _rtmpClient = rtmpClient;
        _context = context;
        _interrupt = interrupt;
        Url = url;
        var format = Marshal.ReadIntPtr(context.DangerousGetHandle() + StructLayouts.FormatOutputFormat);
        FormatName = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(format + StructLayouts.FormatName)) ?? "";
    }

    /// <summary>The URL written to.</summary>
    public string Url { get; }

    /// <summary>The muxer's short name, e.g. <c>flv</c>.</summary>
    public string FormatName { get; }

    /// <summary>The output streams, in index order.</summary>
    public IReadOnlyList<MediaStream> Streams => _streams;

    /// <summary>
    /// The muxer a streaming URL implies, where FFmpeg's own guess (by extension only) finds none:
    /// <c>flv</c> for rtmp/rtmps/rtmpt, <c>mpegts</c> for srt/udp/tcp. Null for anything else.
    /// </summary>
    /// <param name="url">Destination URL.</param>
    public static string? DefaultFormatForUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var colon = url.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0) return null;
        return url[..colon].ToLowerInvariant() switch
        {
            "rtmp" or "rtmps" or "rtmpt" or "rtmpe" or "rtmpte" or "rtmpts" => "flv",
            "srt" or "udp" or "tcp" => "mpegts",
            _ => null,
        };
    }

    /// <summary>
    /// True when <paramref name="url"/> names a file (a path, or <c>file:</c>), which opening again truncates; false for a
    /// protocol URL (<c>rtmp://</c>, <c>srt://</c>, <c>udp://</c>, <c>pipe:1</c>, …).
    /// </summary>
    /// <param name="url">Destination URL.</param>
    public static bool IsFileUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return true;
        // FFmpeg's url_find_protocol: a scheme is the letters, digits, '+', '-' and '.' before the first ':'; a one-letter
        // one is a Windows drive.
        var colon = url.IndexOf(':');
        if (colon <= 1) return true;
        foreach (var c in url.AsSpan(0, colon))
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.' or '_')) return true;
        return false;
    }

    /// <summary>
    /// Checks, without opening anything or logging, that a muxer matches <paramref name="formatName"/> or (when null) the
    /// scheme or extension of <paramref name="url"/>, as <see cref="Create"/> will choose it: a run can refuse an unknown
    /// output before it opens its input.
    /// </summary>
    /// <exception cref="FFmpegException">No muxer matches (AVERROR(EINVAL), permanent, output side), with the message
    /// <see cref="Create"/> would give.</exception>
    public static void CheckFormat(string url, string? formatName)
    {
        ArgumentNullException.ThrowIfNull(url);
        FFmpegLibrary.EnsureLoaded();
        formatName ??= DefaultFormatForUrl(url);
        if (AvFormat.av_guess_format(formatName, formatName is null ? url : null, null) != 0) return;
        throw UnknownFormat(url, formatName, AvError.InvalidArgument);
    }

    private static FFmpegException UnknownFormat(string url, string? formatName, int result) =>
        new(formatName != null
                ? $"output format '{formatName}' is not known to this FFmpeg"
                : $"no output format matches '{url}': give one with --output-format",
            result, result < 0 ? AvError.Describe(result) : "unknown format", MediaDirection.Output);

    /// <summary>Creates a muxer for <paramref name="url"/>; nothing is opened or written until <see cref="WriteHeader"/>.</summary>
    /// <param name="url">Destination.</param>
    /// <param name="formatName">Muxer short name, or null to choose it from the URL's scheme (<see cref="DefaultFormatForUrl"/>) or extension.</param>
    /// <param name="ioTimeout">Longest any single blocking write may take before it fails.</param>
    /// <param name="rtmpClient">Which RTMP client publishes to an <c>rtmp://</c> URL.</param>
    /// <exception cref="FFmpegException">No muxer matches the name or the URL.</exception>
    public static MediaOutput Create(string url, string? formatName, TimeSpan ioTimeout, RtmpClient rtmpClient = RtmpClient.Managed)
    {
        ArgumentNullException.ThrowIfNull(url);
        FFmpegLibrary.EnsureLoaded();
        using var log = FFmpegLog.Capture();
        var interrupt = new InterruptGuard(ioTimeout);
        var handle = new OutputContextHandle(interrupt);
        try
        {
            formatName ??= DefaultFormatForUrl(url);
            var result = AvFormat.avformat_alloc_output_context2(out var context, 0, formatName, url);
            if (result < 0 || context == 0) throw UnknownFormat(url, formatName, result);
            handle.Adopt(context);
            interrupt.Install(context);
            return new MediaOutput(handle, interrupt, url, rtmpClient);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds an output stream that copies <paramref name="input"/>: codec parameters (extradata included), the codec tag
    /// when this muxer accepts it, and the time base as a hint to the muxer.
    /// </summary>
    public MediaStream AddCopyOf(MediaStream input) => AddCopyOf(input, null);

    /// <summary>
    /// As <see cref="AddCopyOf(MediaStream)"/>, with the codec parameters taken from <paramref name="parameters"/> when
    /// given (the input stream's, completed and kept by the caller: <see cref="CodecParameters"/>).
    /// </summary>
    public MediaStream AddCopyOf(MediaStream input, CodecParameters? parameters)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_headerWritten) throw new InvalidOperationException("streams must be added before the header is written");
        var context = _context.DangerousGetHandle();
        var native = AvFormat.avformat_new_stream(context, 0);
        if (native == 0) throw new FFmpegException("avformat_new_stream", 0, "out of memory", MediaDirection.Output);
        var output = new MediaStream(_context, native);
        AvError.Check(AvCodec.avcodec_parameters_copy(output.CodecParameters, parameters?.Pointer ?? input.CodecParameters), $"copying the parameters of stream {input}", MediaDirection.Output);
        output.CodecTag = CompatibleTag(input);
        output.TimeBase = input.TimeBase;
        _streams.Add(output);
        return output;
    }

    // As ffmpeg's stream copy does: keep the input's codec tag unless this muxer maps that tag to another codec.
    private uint CompatibleTag(MediaStream input)
    {
        var format = Marshal.ReadIntPtr(_context.DangerousGetHandle() + StructLayouts.FormatOutputFormat);
        var tags = Marshal.ReadIntPtr(format + StructLayouts.OutputFormatCodecTags);
        if (tags == 0) return input.CodecTag;
        if (AvFormat.av_codec_get_id(tags, input.CodecTag) == input.CodecId) return input.CodecTag;
        return AvFormat.av_codec_get_tag2(tags, input.CodecId, out _) == 0 ? input.CodecTag : 0;
    }

    /// <summary>Opens the destination (unless the muxer does its own I/O) and writes the container header.</summary>
    /// <exception cref="FFmpegException">The destination cannot be opened or the muxer rejects a stream.</exception>
    public unsafe void WriteHeader()
    {
        if (_headerWritten) throw new InvalidOperationException("the header was already written");
        // Connecting: a refused connection retried every few hundred ms logs the same FFmpeg line each time (FFmpegLog).
        using var log = FFmpegLog.Capture();
        var context = _context.DangerousGetHandle();
        var format = Marshal.ReadIntPtr(context + StructLayouts.FormatOutputFormat);
        if ((Marshal.ReadInt32(format + StructLayouts.OutputFormatFlags) & NoFileFlag) == 0)
        {
            _interrupt.Arm();
            if (_rtmpClient == RtmpClient.Managed && RtmpUrl.TryParse(Url, out var rtmpUrl))
            {
                // The managed client publishes what FFmpeg's FLV muxer writes into a custom AVIOContext, flushed per packet.
                _context.Io = ManagedIoContext.Open(() => RtmpPublishSession.Open(rtmpUrl, _interrupt, Url), ManagedIoContext.ForWriting,
                    $"opening output {Url}", _interrupt, MediaDirection.Output);
                Marshal.WriteIntPtr(context + StructLayouts.FormatIoContext, _context.Io!.Context);
                AvError.Check(AvUtil.av_opt_set_int(context, "flush_packets", 1, 0), "setting flush_packets", MediaDirection.Output);
            }
            else
            {
                var io = (nint)0;
                var opened = AvFormat.avio_open2(ref io, Url, AvioFlagWrite, _interrupt.Native, 0);
                if (opened < 0) MediaInput.ThrowIo(AvError.ForUrl(opened, Url), $"opening output {Url}", _interrupt, MediaDirection.Output);
                Marshal.WriteIntPtr(context + StructLayouts.FormatIoContext, io);
            }
        }
        _interrupt.Arm();
        var result = AvFormat.avformat_write_header(context, 0);
        if (result >= 0 && _context.Io is { } managedIo)
        {
            // The header and metadata go out now, not with the first packet.
            managedIo.Flush();
            var ioError = Marshal.ReadInt32(managedIo.Context + StructLayouts.IoContextError);
            if (ioError < 0) result = ioError;
        }
        if (result < 0)
        {
            // "Function not implemented" or "Invalid argument" says little when the muxer simply cannot carry a codec (H.265
            // in FLV before FFmpeg 6.1): asked only once the header failed for one of those reasons (not a timeout or a
            // cancel), so a muxer that cannot tell blocks nothing. The same header fails the same way every time: the
            // error is permanent (no error code), so a live output does not retry it.
            if (result == AvError.NotImplemented || result is AvError.InvalidArgument or AvError.PatchWelcome)
            {
                foreach (var stream in _streams)
                {
                    if (AvFormat.avformat_query_codec(format, stream.CodecId, ComplianceNormal) == 0)
                        throw new FFmpegException($"writing the {FormatName} header to {Url}: the {FormatName} muxer of {FFmpegLibrary.Release} " +
                            $"cannot carry {stream.CodecName} (stream #{stream.Index}); choose another output format (--output-format mpegts, mp4 or matroska)",
                            MediaDirection.Output);
                }
            }
            MediaInput.ThrowIo(result, $"writing the {FormatName} header to {Url}", _interrupt, MediaDirection.Output, _context.Io?.LastError);
        }
        _headerWritten = true;
    }

    /// <summary>
    /// For an output no packet was written to for a while (the input is down): finds out, without waiting, whether the
    /// destination closed the link meanwhile (its FIN or reset has arrived), so it can be reopened before the next packet
    /// instead of that packet being the first to fail; answers what the server sent (pings) when the socket takes the
    /// answer at once. Only the managed RTMP client can tell (it owns the socket); for other outputs this does nothing.
    /// A host that vanished without a word (power, network cut) is still found by the next write, as before.
    /// </summary>
    /// <exception cref="FFmpegException">The link is gone (output side, retryable): the server closed the connection,
    /// the socket failed, or the server stopped the publishing.</exception>
    /// <remarks>Not to be called while another thread writes to this output.</remarks>
    public void CheckIdleLink()
    {
        if (!_headerWritten || _context.Io is not { } io) return;
        _interrupt.Arm();
        try
        {
            io.CheckIdle();
        }
        catch (RtmpException e)
        {
            MediaInput.ThrowIo(e.ErrorCode, $"checking the idle output {Url}", _interrupt, MediaDirection.Output, e);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            throw new FFmpegException($"checking the idle output {Url}", AvError.InputOutput, e.Message, MediaDirection.Output);
        }
    }

    /// <summary>
    /// Writes one packet, whose timestamps must already be in the output stream's time base. The packet stays owned by
    /// the caller (unref it after).
    /// </summary>
    /// <exception cref="FFmpegException">The muxer rejects the packet or the destination fails or stalls.</exception>
    public void Write(Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (!_headerWritten) throw new InvalidOperationException("write the header first");
        _interrupt.Arm();
        var result = AvFormat.av_write_frame(_context.DangerousGetHandle(), packet.Pointer);
        if (result < 0) MediaInput.ThrowIo(result, $"writing a packet of stream {packet.StreamIndex} to {Url}", _interrupt, MediaDirection.Output, _context.Io?.LastError);
    }

    /// <summary>
    /// Writes one packet as <see cref="Write"/> does, but reports a packet the muxer refuses instead of throwing, so the
    /// caller can skip it and go on: <c>AVERROR(EINVAL)</c> (timestamps it will not take) or <c>AVERROR_INVALIDDATA</c>
    /// (bytes the muxer or its bitstream filter cannot take: an AVCC NAL length past the packet's end, an MPEG-TS H.264
    /// packet without a start code), while the output's I/O context holds no error of its own. A failure of the link
    /// itself (the protocol's error, kept by the I/O context; a stall or a cancel) still throws, whatever its code.
    /// </summary>
    /// <param name="packet">The packet, timestamps in the output stream's time base; stays owned by the caller.</param>
    /// <param name="refusal">FFmpeg's reason when the muxer refused the packet, else null.</param>
    /// <returns>True when the packet was written.</returns>
    /// <exception cref="FFmpegException">The destination fails or stalls.</exception>
    public bool TryWrite(Packet packet, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(packet);
        if (!_headerWritten) throw new InvalidOperationException("write the header first");
        _interrupt.Arm();
        var context = _context.DangerousGetHandle();
        var result = AvFormat.av_write_frame(context, packet.Pointer);
        refusal = null;
        if (result >= 0) return true;
        if (result is AvError.InvalidArgument or AvError.InvalidData && !LinkFailed(context))
        {
            refusal = result == AvError.InvalidData
                ? $"the muxer or its bitstream filter found the packet malformed ({AvError.Describe(result)})"
                : AvError.Describe(result);
            return false;
        }
        MediaInput.ThrowIo(result, $"writing a packet of stream {packet.StreamIndex} to {Url}", _interrupt, MediaDirection.Output, _context.Io?.LastError);
        return false;
    }

    // Whether the output's link failed: its I/O context kept an error (av_write_frame returns that error in place of the
    // muxer's), or the interrupt stopped the call (a stall, a cancel). A muxer with its own I/O (AVFMT_NOFILE) has none.
    private bool LinkFailed(nint context)
    {
        if (_interrupt.Cancelled || _interrupt.TimedOut) return true;
        var io = Marshal.ReadIntPtr(context + StructLayouts.FormatIoContext);
        return io != 0 && Marshal.ReadInt32(io + StructLayouts.IoContextError) < 0;
    }

    /// <summary>Writes the trailer (index, duration) and flushes.</summary>
    public void WriteTrailer()
    {
        if (!_headerWritten) throw new InvalidOperationException("write the header first");
        using var log = FFmpegLog.Capture();
        _interrupt.Arm();
        var result = AvFormat.av_write_trailer(_context.DangerousGetHandle());
        if (result < 0) MediaInput.ThrowIo(result, $"finishing {Url}", _interrupt, MediaDirection.Output, _context.Io?.LastError);
    }

    /// <summary>Makes the current and every later blocking call on this output stop (a header or a write waiting on a
    /// dead peer); safe from any thread.</summary>
    public void Cancel() => _interrupt.Cancel();

    /// <summary>Closes the destination and frees the muxer (without a trailer: call <see cref="WriteTrailer"/> first).</summary>
    public void Dispose()
    {
        using var log = FFmpegLog.Capture();
        _context.Dispose();
    }

    /// <summary>Owns the muxer context, its AVIOContext and, last, the interrupt callback they may call while closing.</summary>
    private sealed class OutputContextHandle(InterruptGuard interrupt) : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => false;

        public void Adopt(nint context) => SetHandle(context);

        /// <summary>The managed RTMP client's I/O context, when it writes this output; freed after the format context.</summary>
        public ManagedIoContext? Io { get; set; }

        protected override bool ReleaseHandle()
        {
            var context = handle;
            if (context != 0 && Io != null)
            {
                // A custom pb is the caller's: FFmpeg must not close it.
                Marshal.WriteIntPtr(context + StructLayouts.FormatIoContext, 0);
                AvFormat.avformat_free_context(context);
            }
            else if (context != 0)
            {
                var format = Marshal.ReadIntPtr(context + StructLayouts.FormatOutputFormat);
                if ((Marshal.ReadInt32(format + StructLayouts.OutputFormatFlags) & NoFileFlag) == 0)
                {
                    var io = Marshal.ReadIntPtr(context + StructLayouts.FormatIoContext);
                    if (io != 0)
                    {
                        AvFormat.avio_closep(ref io);
                        Marshal.WriteIntPtr(context + StructLayouts.FormatIoContext, 0);
                    }
                }
                AvFormat.avformat_free_context(context);
            }
            Io?.Dispose();
            interrupt.Dispose();
            return true;
        }
    }
}
