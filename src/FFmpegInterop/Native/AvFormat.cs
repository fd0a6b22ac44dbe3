using System.Runtime.InteropServices;

namespace CatEvening.FFmpegInterop.Native;

/// <summary>
/// The libavformat functions CatEvening calls. The library name is logical: <see cref="FFmpegLibrary"/> resolves it to
/// the libavformat of a supported major version.
/// </summary>
internal static unsafe partial class AvFormat
{
    internal const string Library = "avformat";

    /// <summary>Packed version (major &lt;&lt; 16 | minor &lt;&lt; 8 | micro). Nothing to free.</summary>
    [LibraryImport(Library)]
    internal static partial uint avformat_version();

    /// <summary>Initialises the network protocols once per process. Paired with nothing we call.</summary>
    [LibraryImport(Library)]
    internal static partial int avformat_network_init();

    /// <summary>Allocates a format context; freed by <see cref="avformat_close_input"/> (input) or <see cref="avformat_free_context"/>.</summary>
    [LibraryImport(Library)]
    internal static partial nint avformat_alloc_context();

    /// <summary>Opens an input into <paramref name="context"/>; on failure FFmpeg frees the context and sets it to null.
    /// <paramref name="options"/> (an AVDictionary, may be null) is left holding the entries nobody consumed.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int avformat_open_input(ref nint context, string url, nint inputFormat, ref nint options);

    /// <summary>Probes the first packets for codec parameters; they stay buffered inside the context and are returned by reads.</summary>
    [LibraryImport(Library)]
    internal static partial int avformat_find_stream_info(nint context, nint options);

    /// <summary>Closes an input and frees the context, its streams and its AVIOContext; sets the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial void avformat_close_input(ref nint context);

    /// <summary>Static muxer description matching a short name, else a file name's extension (null when none does); owned
    /// by FFmpeg, never freed. Logs nothing (avformat_alloc_output_context2 logs its miss at error level).</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint av_guess_format(string? shortName, string? fileName, string? mimeType);

    /// <summary>1 when the muxer can store the codec, 0 when it cannot, negative when it cannot tell (libavformat/avformat.h).</summary>
    [LibraryImport(Library)]
    internal static partial int avformat_query_codec(nint outputFormat, int codecId, int stdCompliance);

    /// <summary>Static demuxer description by short name; owned by FFmpeg, never freed.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint av_find_input_format(string shortName);

    /// <summary>Reads the next packet into a caller-owned AVPacket, which the caller unrefs.</summary>
    [LibraryImport(Library)]
    internal static partial int av_read_frame(nint context, nint packet);

    /// <summary>Allocates an output context with its muxer chosen by name or URL; freed by <see cref="avformat_free_context"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int avformat_alloc_output_context2(out nint context, nint outputFormat, string? formatName, string url);

    /// <summary>Frees a context and its streams (not its AVIOContext, which <see cref="avio_closep"/> closes).</summary>
    [LibraryImport(Library)]
    internal static partial void avformat_free_context(nint context);

    /// <summary>Adds a stream owned by the context.</summary>
    [LibraryImport(Library)]
    internal static partial nint avformat_new_stream(nint context, nint codec);

    /// <summary>Writes the container header; may change each stream's time base.</summary>
    [LibraryImport(Library)]
    internal static partial int avformat_write_header(nint context, nint options);

    /// <summary>Writes one packet directly (no interleaving queue). Does not take ownership: the caller unrefs.</summary>
    [LibraryImport(Library)]
    internal static partial int av_write_frame(nint context, nint packet);

    /// <summary>Writes the trailer and flushes the muxer.</summary>
    [LibraryImport(Library)]
    internal static partial int av_write_trailer(nint context);

    /// <summary>Opens the output byte stream; closed with <see cref="avio_closep"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int avio_open2(ref nint ioContext, string url, int flags, AVIOInterruptCB* interrupt, nint options);

    /// <summary>Reads up to <paramref name="size"/> bytes (libavformat/avio.h); returns the count, or a negative AVERROR
    /// (AVERROR_EOF at the end). Used by the tests to read a protocol's byte stream as the demuxer gets it.</summary>
    [LibraryImport(Library)]
    internal static partial int avio_read(nint ioContext, byte* buffer, int size);

    /// <summary>Flushes and closes an AVIOContext and sets the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial int avio_closep(ref nint ioContext);

    /// <summary>Allocates an AVIOContext over caller callbacks (libavformat/avio.h); <paramref name="buffer"/> comes from
    /// <c>av_malloc</c> and is owned by the context from then on (freed with <c>av_freep(&amp;ctx->buffer)</c>, then
    /// <see cref="avio_context_free"/>).</summary>
    [LibraryImport(Library)]
    internal static partial nint avio_alloc_context(nint buffer, int bufferSize, int writeFlag, nint opaque,
        delegate* unmanaged[Cdecl]<nint, byte*, int, int> readPacket, delegate* unmanaged[Cdecl]<nint, byte*, int, int> writePacket, nint seek);

    /// <summary>Frees an AVIOContext from <see cref="avio_alloc_context"/> (not its buffer) and nulls the pointer.</summary>
    [LibraryImport(Library)]
    internal static partial void avio_context_free(ref nint ioContext);

    /// <summary>Writes out what the AVIOContext buffers.</summary>
    [LibraryImport(Library)]
    internal static partial void avio_flush(nint ioContext);

    /// <summary>Tag for a codec in a muxer's tag tables; returns 0 when the muxer has no tag for it. Nothing to free.</summary>
    [LibraryImport(Library)]
    internal static partial int av_codec_get_tag2(nint tags, int codecId, out uint tag);

    /// <summary>Codec for a tag in a muxer's tag tables (AV_CODEC_ID_NONE when unknown). Nothing to free.</summary>
    [LibraryImport(Library)]
    internal static partial int av_codec_get_id(nint tags, uint tag);
}

/// <summary><c>AVIOInterruptCB</c> (libavformat/avio.h): the same in every supported major.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct AVIOInterruptCB
{
    public delegate* unmanaged[Cdecl]<nint, int> Callback;
    public nint Opaque;
}
