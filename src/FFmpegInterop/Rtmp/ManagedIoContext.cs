using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop.Rtmp;

/// <summary>
/// An <c>AVIOContext</c> (libavformat/avio.h, <c>avio_alloc_context</c>) whose bytes come from or go to the managed RTMP
/// client: FFmpeg's FLV demuxer reads what <see cref="RtmpPlaySession"/> receives, FFmpeg's FLV muxer writes what
/// <see cref="RtmpPublishSession"/> sends. The callbacks never throw into native code: a failure is kept in
/// <see cref="LastError"/> and returned as its <c>AVERROR</c>.
/// </summary>
internal sealed unsafe class ManagedIoContext : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly RtmpPlaySession? _play;
    private readonly RtmpPublishSession? _publish;
    private GCHandle _self;
    private nint _context;

    private ManagedIoContext(RtmpPlaySession? play, RtmpPublishSession? publish)
    {
        _play = play;
        _publish = publish;
        var buffer = AvUtil.av_malloc(BufferSize);
        if (buffer == 0) throw new OutOfMemoryException("av_malloc of the RTMP I/O buffer");
        _self = GCHandle.Alloc(this);
        _context = play != null
            ? AvFormat.avio_alloc_context(buffer, BufferSize, 0, GCHandle.ToIntPtr(_self), &ReadPacket, null, 0)
            : AvFormat.avio_alloc_context(buffer, BufferSize, 1, GCHandle.ToIntPtr(_self), null, &WritePacket, 0);
        if (_context == 0)
        {
            AvUtil.av_freep(ref buffer);
            _self.Free();
            throw new OutOfMemoryException("avio_alloc_context");
        }
    }

    /// <summary>The native <c>AVIOContext*</c>, for the format context's <c>pb</c>.</summary>
    public nint Context => _context;

    /// <summary>The last failure a callback met (null while none).</summary>
    public RtmpException? LastError { get; private set; }

    /// <summary>A context FFmpeg reads the played stream from.</summary>
    public static ManagedIoContext ForReading(RtmpPlaySession session) => new(session, null);

    /// <summary>A context FFmpeg writes the published stream to.</summary>
    public static ManagedIoContext ForWriting(RtmpPublishSession session) => new(null, session);

    /// <summary>
    /// Opens a session with <paramref name="open"/> and wraps it in a context with <paramref name="wrap"/>; the session is
    /// closed if the wrapping fails.
    /// </summary>
    /// <exception cref="FFmpegException">The session could not be opened: the client's words for the cause, on
    /// <paramref name="direction"/>'s side, <paramref name="operation"/> first (a timeout or a cancel said as such).</exception>
    public static ManagedIoContext Open<TSession>(Func<TSession> open, Func<TSession, ManagedIoContext> wrap, string operation,
        InterruptGuard interrupt, MediaDirection direction) where TSession : IDisposable
    {
        TSession session;
        try
        {
            session = open();
        }
        catch (RtmpException e)
        {
            MediaInput.ThrowIo(e.ErrorCode, operation, interrupt, direction, e);
            throw;
        }
        try
        {
            return wrap(session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Of a context FFmpeg writes to and has not for a while: <see cref="RtmpPublishSession.CheckIdle"/>; nothing for reading.</summary>
    /// <exception cref="RtmpException">The link is gone.</exception>
    public void CheckIdle() => _publish?.CheckIdle();

    /// <summary>Writes out what FFmpeg still buffers (the muxer's header before the first packet).</summary>
    public void Flush() => AvFormat.avio_flush(_context);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ReadPacket(nint opaque, byte* buffer, int size)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not ManagedIoContext io || io._play == null) return AvError.InvalidArgument;
        try
        {
            var count = io._play.Read(new Span<byte>(buffer, size));
            return count > 0 ? count : AvError.EndOfFile;
        }
        catch (Exception e)
        {
            return io.Failed(e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int WritePacket(nint opaque, byte* buffer, int size)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not ManagedIoContext io || io._publish == null) return AvError.InvalidArgument;
        try
        {
            io._publish.Write(new ReadOnlySpan<byte>(buffer, size));
            return size;
        }
        catch (Exception e)
        {
            return io.Failed(e);
        }
    }

    // Keeps the failure for the caller's message and gives FFmpeg its code; nothing may leave a callback as an exception.
    private int Failed(Exception e)
    {
        var failure = e as RtmpException ?? new RtmpException(e.Message, AvError.InputOutput, e);
        LastError = failure;
        return failure.ErrorCode;
    }

    /// <summary>Frees the context and its buffer (after the format context that used it is closed), then the session.</summary>
    public void Dispose()
    {
        if (_context != 0)
        {
            var buffer = Marshal.ReadIntPtr(_context + IntPtr.Size); // AVIOContext.buffer follows av_class in every major
            AvUtil.av_freep(ref buffer);
            AvFormat.avio_context_free(ref _context);
        }
        if (_self.IsAllocated) _self.Free();
        _play?.Dispose();
        _publish?.Dispose();
    }
}
