using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

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

    private MediaInput(InputContextHandle context, InterruptGuard interrupt, CancellationTokenRegistration cancellation, string url)
    {
        _context = context;
        _interrupt = interrupt;
        _cancellation = cancellation;
        Url = url;
        var count = Marshal.ReadInt32(context.DangerousGetHandle() + StructLayouts.FormatStreamCount);
        var array = Marshal.ReadIntPtr(context.DangerousGetHandle() + StructLayouts.FormatStreams);
        var streams = new MediaStream[count];
        for (var i = 0; i < count; i++) streams[i] = new MediaStream(context, Marshal.ReadIntPtr(array + (i * IntPtr.Size)));
        Streams = streams;
        var format = Marshal.ReadIntPtr(context.DangerousGetHandle() + StructLayouts.FormatInputFormat);
        FormatName = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(format + StructLayouts.FormatName)) ?? "";
    }

    /// <summary>The URL that was opened.</summary>
    public string Url { get; }

    /// <summary>The demuxer's short name, e.g. <c>flv</c> or <c>mov,mp4,m4a,3gp,3g2,mj2</c>.</summary>
    public string FormatName { get; }

    /// <summary>The streams found while opening, in index order.</summary>
    public IReadOnlyList<MediaStream> Streams { get; }

    /// <summary>
    /// Opens <paramref name="url"/> and probes its streams.
    /// </summary>
    /// <param name="url">Anything FFmpeg opens: a path, <c>pipe:0</c>, rtmp://, srt://, udp://, …</param>
    /// <param name="formatName">Demuxer short name (needed for pipes without a recognisable header), or null to probe.</param>
    /// <param name="ioTimeout">Longest any single blocking call (open, probe, one read) may take before it fails.</param>
    /// <param name="analyzeDuration">How much media FFmpeg reads to probe the streams before returning (its default, 5 s, when null); a
    /// live input starts sooner with less.</param>
    /// <param name="cancellation">Cancels the open and, later, any blocking read (they fail with <see cref="AvError.Exit"/>).</param>
    /// <param name="rawTimestamps">Turn off FFmpeg's timestamp overflow correction (<c>correct_ts_overflow</c>): packets
    /// carry the container's own values (33-bit MPEG-TS, 32-bit FLV), for a caller that unwraps them itself.</param>
    /// <exception cref="FFmpegException">The input cannot be opened, the format is unknown, it timed out or was cancelled.</exception>
    public static MediaInput Open(string url, string? formatName, TimeSpan ioTimeout, TimeSpan? analyzeDuration = null, CancellationToken cancellation = default,
        bool rawTimestamps = false)
    {
        ArgumentNullException.ThrowIfNull(url);
        FFmpegLibrary.EnsureLoaded();
        nint inputFormat = 0;
        if (formatName != null)
        {
            inputFormat = AvFormat.av_find_input_format(formatName);
            if (inputFormat == 0) throw new FFmpegException($"input format '{formatName}' is not known to this FFmpeg ({FFmpegLibrary.Release})");
        }
        var interrupt = new InterruptGuard(ioTimeout);
        var handle = new InputContextHandle(interrupt);
        var registration = cancellation.Register(interrupt.Cancel);
        try
        {
            var context = AvFormat.avformat_alloc_context();
            if (context == 0) throw new FFmpegException("avformat_alloc_context", 0, "out of memory");
            interrupt.Install(context);
            if (analyzeDuration is { } analyze)
                AvError.Check(AvUtil.av_opt_set_int(context, "analyzeduration", (long)analyze.TotalMicroseconds, 0), "setting analyzeduration");
            if (rawTimestamps)
                AvError.Check(AvUtil.av_opt_set_int(context, "correct_ts_overflow", 0, 0), "setting correct_ts_overflow");
            interrupt.Arm();
            var result = AvFormat.avformat_open_input(ref context, url, inputFormat, 0);
            if (result < 0) ThrowIo(result, $"opening input {url}", interrupt);
            handle.Adopt(context);
            interrupt.Arm();
            result = AvFormat.avformat_find_stream_info(context, 0);
            if (result < 0) ThrowIo(result, $"reading stream information of {url}", interrupt);
            return new MediaInput(handle, interrupt, registration, url);
        }
        catch
        {
            registration.Dispose();
            handle.Dispose();
            throw;
        }
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
        return result switch
        {
            >= 0 => ReadResult.Packet,
            AvError.EndOfFile => ReadResult.EndOfStream,
            AvError.TryAgain => ReadResult.TryAgain,
            _ => ThrowIo(result, $"reading from {Url}", _interrupt),
        };
    }

    /// <summary>Makes the current and every later blocking call on this input stop; safe from any thread.</summary>
    public void Cancel() => _interrupt.Cancel();

    internal static ReadResult ThrowIo(int result, string operation, InterruptGuard interrupt)
    {
        if (result == AvError.Exit && interrupt.TimedOut)
            throw new FFmpegException($"{operation}: no progress for {interrupt.Timeout.TotalSeconds:0.###} s (I/O timeout)", result, AvError.Describe(result));
        if (result == AvError.Exit && interrupt.Cancelled)
            throw new FFmpegException($"{operation}: cancelled", result, AvError.Describe(result));
        AvError.Throw(result, operation);
        return default;
    }

    /// <summary>Closes the input.</summary>
    public void Dispose()
    {
        _cancellation.Dispose();
        _context.Dispose();
    }

    /// <summary>
    /// Owns the context and, after it, the interrupt callback that FFmpeg may still call while closing (a network close
    /// can block), so the callback outlives every call that can reach it, finalizer included.
    /// </summary>
    private sealed class InputContextHandle(InterruptGuard interrupt) : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => false;

        public void Adopt(nint context) => SetHandle(context);

        protected override bool ReleaseHandle()
        {
            var p = handle;
            if (p != 0) AvFormat.avformat_close_input(ref p);
            interrupt.Dispose();
            return true;
        }
    }
}
