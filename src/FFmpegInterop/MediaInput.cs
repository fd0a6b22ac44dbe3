using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;
using CatEvening.FFmpegInterop.Rtmp;

namespace CatEvening.FFmpegInterop;

/// <summary>What a read produced.</summary>
public enum ReadResult
{
    /// <summary>The packet holds the next packet of the input.</summary>
    Packet,
    /// <summary>No packet now (<c>EAGAIN</c>, non-blocking inputs): try again.</summary>
    TryAgain,
    /// <summary>The input ended (<c>AVERROR_EOF</c>).</summary>
    EndOfStream,
}

/// <summary>
/// An open demuxer over any URL FFmpeg opens (file, <c>pipe:0</c>, rtmp://, srt://, …). Owns the
/// <c>AVFormatContext</c> (closed by <c>avformat_close_input</c>) and its interrupt callback.
/// </summary>
public sealed class MediaInput : IDisposable
{
    private readonly InputContextHandle _context;
    private readonly InterruptGuard _interrupt;
    private readonly CancellationTokenRegistration _cancellation;
    private MediaStream[] _streams = [];

    private MediaInput(InputContextHandle context, InterruptGuard interrupt, CancellationTokenRegistration cancellation, string url, long openedTimestamp)
    {
        OpenedTimestamp = openedTimestamp;
        _context = context;
        _interrupt = interrupt;
        _cancellation = cancellation;
        Url = url;
        UpdateStreams();
        var format = Marshal.ReadIntPtr(context.DangerousGetHandle() + StructLayouts.FormatInputFormat);
        FormatName = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(format + StructLayouts.FormatName)) ?? "";
    }

    /// <summary>The URL that was opened.</summary>
    public string Url { get; }

    /// <summary>
    /// When the connection was up (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> ticks): <c>avformat_open_input</c>
    /// had returned and <c>avformat_find_stream_info</c> was about to read its probe. A live source's first packets
    /// arrived from this moment on, although the probe hands them over only when it ends (up to the analyze duration
    /// later, 5 s by default).
    /// </summary>
    public long OpenedTimestamp { get; }

    /// <summary>The demuxer's short name, e.g. <c>flv</c> or <c>mov,mp4,m4a,3gp,3g2,mj2</c>.</summary>
    public string FormatName { get; }

    /// <summary>
    /// The streams known so far, in index order: those found while opening, and those a later read announced once
    /// <see cref="UpdateStreams"/> has seen them (FLV and MPEG-TS create a stream when its first packet arrives).
    /// </summary>
    public IReadOnlyList<MediaStream> Streams => _streams;

    /// <summary>
    /// Opens <paramref name="url"/> and probes its streams.
    /// </summary>
    /// <param name="url">Anything FFmpeg opens: a path, <c>pipe:0</c>, rtmp://, srt://, udp://, …</param>
    /// <param name="formatName">Demuxer short name (needed for pipes without a recognisable header), or null to probe.</param>
    /// <param name="ioTimeout">Longest any single blocking call (open, probe, one read) may take before it fails; over the
    /// managed RTMP client, the longest it may go without bytes arriving (a probe that keeps receiving is not cut). A
    /// listening input (<paramref name="listen"/>) waits for its peer without a bound; the probe after it is bounded.</param>
    /// <param name="analyzeDuration">How much media FFmpeg reads to probe the streams before returning (its default, 5 s, when null); a
    /// live input starts sooner with less.</param>
    /// <param name="cancellation">Cancels the open and, later, any blocking read (they fail with <see cref="AvError.Exit"/>).</param>
    /// <param name="listen">Wait for the peer to connect instead of connecting to it: FFmpeg's <c>listen</c> option
    /// (rtmp://, tcp://, http://) for those protocols, <c>mode=listener</c> in the URL for srt://.</param>
    /// <param name="rawTimestamps">Turn off FFmpeg's timestamp overflow correction (<c>correct_ts_overflow</c>): packets
    /// carry the container's own values (33-bit MPEG-TS, 32-bit FLV), for a caller that unwraps them itself.</param>
    /// <param name="rtmpClient">Which RTMP client plays an <c>rtmp://</c> URL this process connects to (not a listening one).</param>
    /// <exception cref="FFmpegException">The input cannot be opened, the format is unknown, it timed out or was cancelled
    /// (<see cref="FFmpegException.Direction"/> is <see cref="MediaDirection.Input"/>).</exception>
    public static MediaInput Open(string url, string? formatName, TimeSpan ioTimeout, TimeSpan? analyzeDuration = null,
        CancellationToken cancellation = default, bool listen = false, bool rawTimestamps = false, RtmpClient rtmpClient = RtmpClient.Managed)
    {
        ArgumentNullException.ThrowIfNull(url);
        FFmpegLibrary.EnsureLoaded();
        // A refused connection retried every few hundred ms logs the same FFmpeg line each time: said once (FFmpegLog).
        using var log = FFmpegLog.Capture();
        nint inputFormat = 0;
        if (formatName != null)
        {
            inputFormat = AvFormat.av_find_input_format(formatName);
            if (inputFormat == 0)
                throw new FFmpegException($"input format '{formatName}' is not known to this FFmpeg ({FFmpegLibrary.Release})", MediaDirection.Input);
        }
        var interrupt = new InterruptGuard(ioTimeout);
        var handle = new InputContextHandle(interrupt);
        var registration = cancellation.Register(interrupt.Cancel);
        nint options = 0;
        try
        {
            // The handle owns the context from here on: whatever fails below, disposing the handle frees it.
            handle.Adopt(AvFormat.avformat_alloc_context());
            var context = handle.DangerousGetHandle();
            if (context == 0) throw new FFmpegException("avformat_alloc_context", 0, "out of memory", MediaDirection.Input);
            interrupt.Install(context);
            if (analyzeDuration is { } analyze)
                AvError.Check(AvUtil.av_opt_set_int(context, "analyzeduration", (long)analyze.TotalMicroseconds, 0), $"setting analyzeduration {analyze}", MediaDirection.Input);
            if (rawTimestamps)
                AvError.Check(AvUtil.av_opt_set_int(context, "correct_ts_overflow", 0, 0), "setting correct_ts_overflow", MediaDirection.Input);
            if (listen && !IsSrt(url)) AvError.Check(AvUtil.av_dict_set(ref options, "listen", "1", 0), "setting listen", MediaDirection.Input);
            if (listen || IsListeningUrl(url)) interrupt.ArmUnbounded();
            else interrupt.Arm();
            if (!listen && rtmpClient == RtmpClient.Managed && RtmpUrl.TryParse(url, out var rtmpUrl))
            {
                // The managed client connects and plays; FFmpeg's demuxer reads the FLV bytes it hands over (custom I/O:
                // avformat_open_input leaves the pb it finds alone, and the handle frees it after the context).
                handle.Io = ManagedIoContext.Open(() => RtmpPlaySession.Open(rtmpUrl, interrupt, url), ManagedIoContext.ForReading,
                    $"opening input {url}", interrupt, MediaDirection.Input);
                Marshal.WriteIntPtr(context + StructLayouts.FormatIoContext, handle.Io!.Context);
            }
            var result = handle.OpenInput(url, inputFormat, ref options);
            if (result < 0) ThrowIo(handle.Io is null ? AvError.ForUrl(result, url) : result, $"{(listen ? "listening for input" : "opening input")} {url}", interrupt, MediaDirection.Input, handle.Io?.LastError);
            if (options != 0 && AvUtil.av_dict_get(options, "", 0, DictIgnoreSuffix) != 0)
                throw new FFmpegException($"opening input {url}: the {url[..Math.Max(0, url.IndexOf(':'))]} protocol has no 'listen' option", AvError.OptionNotFound,
                    AvError.Describe(AvError.OptionNotFound), MediaDirection.Input);
            var opened = System.Diagnostics.Stopwatch.GetTimestamp();
            interrupt.Arm();
            result = AvFormat.avformat_find_stream_info(handle.DangerousGetHandle(), 0);
            if (result < 0) ThrowIo(result, $"reading stream information of {url}", interrupt, MediaDirection.Input, handle.Io?.LastError);
            // The probe ends at a read error as at the end of the data and returns success, but a read it lost to the
            // interrupt (I/O timeout, cancel) leaves AVERROR_EXIT in the I/O context's error: every read after the probed
            // packets would fail with it, bare. Said here, with its cause. (The interrupt noticed between two reads, with
            // no read lost, leaves no error and the input works.)
            var io = Marshal.ReadIntPtr(handle.DangerousGetHandle() + StructLayouts.FormatIoContext);
            if (io != 0 && Marshal.ReadInt32(io + StructLayouts.IoContextError) == AvError.Exit)
                ThrowIo(AvError.Exit, $"reading stream information of {url}", interrupt, MediaDirection.Input);
            return new MediaInput(handle, interrupt, registration, url, opened);
        }
        catch
        {
            registration.Dispose();
            handle.Dispose();
            throw;
        }
        finally
        {
            AvUtil.av_dict_free(ref options);
        }
    }

    /// <summary>True when <paramref name="url"/> waits for its peer by itself (srt:// with <c>mode=listener</c>).</summary>
    public static bool IsListeningUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var query = url.IndexOf('?', StringComparison.Ordinal);
        return IsSrt(url) && query > 0 && url[(query + 1)..].Split('&').Contains("mode=listener", StringComparer.OrdinalIgnoreCase);
    }

    private static bool IsSrt(string url) => url.StartsWith("srt://", StringComparison.OrdinalIgnoreCase);

    private const int DictIgnoreSuffix = 2; // AV_DICT_IGNORE_SUFFIX: av_dict_get with key "" walks every entry

    /// <summary>
    /// Reads the context's stream list again; true when streams were added since the last look (a stream whose first
    /// packet arrived after the probe). Existing <see cref="MediaStream"/> objects stay valid.
    /// </summary>
    public bool UpdateStreams()
    {
        var context = _context.DangerousGetHandle();
        var count = Marshal.ReadInt32(context + StructLayouts.FormatStreamCount);
        if (count == _streams.Length) return false;
        var array = Marshal.ReadIntPtr(context + StructLayouts.FormatStreams);
        var streams = new MediaStream[count];
        for (var i = 0; i < count; i++)
            streams[i] = i < _streams.Length ? _streams[i] : new MediaStream(_context, Marshal.ReadIntPtr(array + (i * IntPtr.Size)));
        _streams = streams;
        return true;
    }

    /// <summary>
    /// Reads the next packet into <paramref name="packet"/> (which must be unreferenced). EOF and EAGAIN are results,
    /// not exceptions.
    /// </summary>
    /// <exception cref="FFmpegException">A read error, or the read took longer than the I/O timeout.</exception>
    public ReadResult Read(Packet packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        _interrupt.Arm();
        var result = AvFormat.av_read_frame(_context.DangerousGetHandle(), packet.Pointer);
        if (result >= 0) return ReadResult.Packet;
        if (result == AvError.EndOfFile) return ReadResult.EndOfStream;
        if (result == AvError.TryAgain) return ReadResult.TryAgain;
        return ThrowIo(result, $"reading from {Url}", _interrupt, MediaDirection.Input, _context.Io?.LastError);
    }

    /// <summary>Makes the current and every later blocking call on this input stop; safe from any thread.</summary>
    public void Cancel() => _interrupt.Cancel();

    internal static ReadResult ThrowIo(int result, string operation, InterruptGuard interrupt, MediaDirection direction, RtmpException? cause = null)
    {
        // The managed RTMP client's own words for a failure it returned (FFmpeg's text for the code says less).
        if (cause != null && cause.ErrorCode == result && result != AvError.Exit)
            throw new FFmpegException(operation, result, cause.Message, direction);
        if (result == AvError.Exit && interrupt.TimedOut)
            throw new FFmpegException($"{operation}: no progress for {interrupt.Timeout.TotalSeconds:0.###} s (I/O timeout)", result, AvError.Describe(result), direction);
        if (result == AvError.Exit && interrupt.Cancelled)
            throw new FFmpegException($"{operation}: cancelled", result, AvError.Describe(result), direction);
        AvError.Throw(result, operation, direction);
        return default;
    }

    /// <summary>Closes the input.</summary>
    public void Dispose()
    {
        _cancellation.Dispose();
        using var log = FFmpegLog.Capture();
        _context.Dispose();
    }

    /// <summary>
    /// Owns the context and, after it, the interrupt callback that FFmpeg may still call while closing (a network close
    /// can block), so the callback outlives every call that can reach it, finalizer included.
    /// </summary>
    private sealed class InputContextHandle(InterruptGuard interrupt) : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => false;

        /// <summary>The managed RTMP client's I/O context, when it reads this input; freed after the format context.</summary>
        public ManagedIoContext? Io { get; set; }

        public void Adopt(nint context) => SetHandle(context);

        // avformat_open_input frees the context when it fails and nulls the pointer: the handle follows it.
        public int OpenInput(string url, nint inputFormat, ref nint options)
        {
            var context = handle;
            var result = AvFormat.avformat_open_input(ref context, url, inputFormat, ref options);
            SetHandle(context);
            return result;
        }

        // avformat_close_input also frees a context that was allocated but never opened (no demuxer, no I/O yet).
        protected override bool ReleaseHandle()
        {
            var p = handle;
            if (p != 0) AvFormat.avformat_close_input(ref p);
            Io?.Dispose();
            interrupt.Dispose();
            return true;
        }
    }
}
