using System.Runtime.InteropServices;

namespace CatEvening.FFmpegInterop.Native;

/// <summary>The libavutil functions CatEvening calls.</summary>
internal static unsafe partial class AvUtil
{
    internal const string Library = "avutil";

    /// <summary>Packed version (major &lt;&lt; 16 | minor &lt;&lt; 8 | micro). Nothing to free.</summary>
    [LibraryImport(Library)]
    internal static partial uint avutil_version();

    /// <summary>Writes the text for an error code into a caller buffer; negative when the code is unknown.</summary>
    [LibraryImport(Library)]
    internal static partial int av_strerror(int errorCode, byte* buffer, nuint bufferSize);

    /// <summary>Sets FFmpeg's global log level.</summary>
    [LibraryImport(Library)]
    internal static partial void av_log_set_level(int level);

    /// <summary>Replaces FFmpeg's log callback (process-wide; libavutil/log.h). The callback is called for every
    /// <c>av_log</c>, at any level, on any thread.</summary>
    [LibraryImport(Library)]
    internal static partial void av_log_set_callback(nint callback);

    /// <summary>Formats one log call as FFmpeg's default callback does (prefix "[class @ 0x…] " while
    /// <paramref name="printPrefix"/> is set; it is updated for the next call) into <paramref name="line"/>;
    /// returns the length it needed (may exceed the buffer: the text is then cut), negative on error.
    /// <paramref name="arguments"/> is the callback's va_list as it came.</summary>
    [LibraryImport(Library)]
    internal static partial int av_log_format_line2(nint context, int level, byte* format, nint arguments, byte* line, int lineSize, int* printPrefix);

    /// <summary>Sets an AVOption by name on an object whose first field is an AVClass pointer.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int av_opt_set_int(nint target, string name, long value, int searchFlags);

    /// <summary>Adds or replaces an entry of a dictionary, allocating it when <paramref name="dictionary"/> is null;
    /// freed by <see cref="av_dict_free"/>. Key and value are copied.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int av_dict_set(ref nint dictionary, string key, string value, int flags);

    /// <summary>Next entry after <paramref name="previous"/> whose key starts with <paramref name="key"/> (flag
    /// AV_DICT_IGNORE_SUFFIX), or null. The entry stays owned by the dictionary.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint av_dict_get(nint dictionary, string key, nint previous, int flags);

    /// <summary>Frees a dictionary and every entry, and sets the pointer to null.</summary>
    [LibraryImport(Library)]
    internal static partial void av_dict_free(ref nint dictionary);

    /// <summary>Reads an image-size AVOption (e.g. a codec context's <c>video_size</c>); nothing to free.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int av_opt_get_image_size(nint target, string name, int searchFlags, out int width, out int height);

    /// <summary>Reads an AVOption by name; FFmpeg finds the field through its own offset table.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int av_opt_get_int(nint target, string name, int searchFlags, out long value);

    /// <summary>Allocates native memory FFmpeg may reallocate or free (libavutil/mem.h).</summary>
    [LibraryImport(Library)]
    internal static partial nint av_malloc(nuint size);

    /// <summary>Frees memory from <see cref="av_malloc"/> and nulls the pointer.</summary>
    [LibraryImport(Library)]
    internal static partial void av_freep(ref nint pointer);
}
