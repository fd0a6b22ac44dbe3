using System.Runtime.InteropServices;

namespace CatEvening.FFmpegInterop.Native;

/// <summary>The libavcodec functions CatEvening calls (packets and codec parameters).</summary>
internal static unsafe partial class AvCodec
{
    internal const string Library = "avcodec";

    /// <summary>Packed version (major &lt;&lt; 16 | minor &lt;&lt; 8 | micro). Nothing to free.</summary>
    [LibraryImport(Library)]
    internal static partial uint avcodec_version();

    /// <summary>Allocates an empty packet; freed by <see cref="av_packet_free"/>.</summary>
    [LibraryImport(Library)]
    internal static partial nint av_packet_alloc();

    /// <summary>Unrefs and frees a packet, setting the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial void av_packet_free(ref nint packet);

    /// <summary>Drops the packet's buffer reference and resets its fields; the packet itself stays allocated.</summary>
    [LibraryImport(Library)]
    internal static partial void av_packet_unref(nint packet);

    /// <summary>Moves every field and the buffer reference of <paramref name="source"/> into the unreferenced
    /// <paramref name="destination"/>, leaving the source blank. Nothing to free beyond the two packets.</summary>
    [LibraryImport(Library)]
    internal static partial void av_packet_move_ref(nint destination, nint source);

    /// <summary>Gives an unreferenced packet a new refcounted, padded buffer of <paramref name="size"/> bytes.</summary>
    [LibraryImport(Library)]
    internal static partial int av_new_packet(nint packet, int size);

    /// <summary>Copies timestamps, flags, stream index and side data (not the payload) from <paramref name="source"/>.</summary>
    [LibraryImport(Library)]
    internal static partial int av_packet_copy_props(nint destination, nint source);

    /// <summary>Converts pts, dts and duration between time bases (AV_NOPTS_VALUE stays unset).</summary>
    [LibraryImport(Library)]
    internal static partial void av_packet_rescale_ts(nint packet, AVRational source, AVRational destination);

    /// <summary>Allocates codec parameters with defaults; freed by <see cref="avcodec_parameters_free"/>. Null when out of memory.</summary>
    [LibraryImport(Library)]
    internal static partial nint avcodec_parameters_alloc();

    /// <summary>Frees codec parameters (and their extradata) and sets the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial void avcodec_parameters_free(ref nint parameters);

    /// <summary>Deep-copies codec parameters (extradata included) into parameters owned by the destination stream.</summary>
    [LibraryImport(Library)]
    internal static partial int avcodec_parameters_copy(nint destination, nint source);

    /// <summary>
    /// Static <c>AVCodecDescriptor</c> for a codec name (null when unknown); owned by FFmpeg, never freed. Its first field
    /// is the <c>AVCodecID</c> (an int) in every release.
    /// </summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint avcodec_descriptor_get_by_name(string name);

    /// <summary>Static decoder description for a codec id, or null; owned by FFmpeg.</summary>
    [LibraryImport(Library)]
    internal static partial nint avcodec_find_decoder(int codecId);

    /// <summary>Allocates a codec context with defaults; freed by <see cref="avcodec_free_context"/>.</summary>
    [LibraryImport(Library)]
    internal static partial nint avcodec_alloc_context3(nint codec);

    /// <summary>Closes and frees a codec context and sets the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial void avcodec_free_context(ref nint context);

    /// <summary>Copies codec parameters (extradata included) into a codec context the context owns.</summary>
    [LibraryImport(Library)]
    internal static partial int avcodec_parameters_to_context(nint context, nint parameters);

    /// <summary>Copies what a codec context knows (size, pixel format, profile, extradata...) into codec parameters they own.</summary>
    [LibraryImport(Library)]
    internal static partial int avcodec_parameters_from_context(nint parameters, nint context);

    /// <summary>Opens a decoder on a context. Nothing extra to free: <see cref="avcodec_free_context"/> closes it.</summary>
    [LibraryImport(Library)]
    internal static partial int avcodec_open2(nint context, nint codec, nint options);

    /// <summary>Feeds a packet to a decoder; the packet stays owned by the caller.</summary>
    [LibraryImport(Library)]
    internal static partial int avcodec_send_packet(nint context, nint packet);

    /// <summary>Static codec name; owned by FFmpeg.</summary>
    [LibraryImport(Library)]
    internal static partial nint avcodec_get_name(int codecId);
}

/// <summary><c>AVRational</c>: a time base or a rate.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AVRational
{
    public int Num;
    public int Den;

    public AVRational(int num, int den)
    {
        Num = num;
        Den = den;
    }
}
