using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// The <c>AVCodecID</c> values of the codecs CatEvening looks at, as the loaded libavcodec numbers them. They are
/// looked up by name at load, never compiled in: the enum is not stable across majors (<c>AV_CODEC_ID_HEVC</c> is 173
/// up to libavcodec 62 and 172 in libavcodec 63, where an entry before it was removed).
/// </summary>
public sealed class CodecIds
{
    private CodecIds(int h264, int hevc)
    {
        H264 = h264;
        Hevc = hevc;
    }

    /// <summary>The loaded library's ids; loads FFmpeg on first use.</summary>
    public static CodecIds Loaded => FFmpegLibrary.CodecIds;

    /// <summary><c>AV_CODEC_ID_H264</c> of the loaded libavcodec.</summary>
    public int H264 { get; }

    /// <summary><c>AV_CODEC_ID_HEVC</c> of the loaded libavcodec.</summary>
    public int Hevc { get; }

    /// <summary>Which known codec an id of the loaded library stands for.</summary>
    public KnownCodec Classify(int codecId) =>
        codecId == H264 ? KnownCodec.H264 : codecId == Hevc ? KnownCodec.Hevc : KnownCodec.Other;

    /// <summary>The id of <paramref name="codec"/> in the loaded library.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="codec"/> is <see cref="KnownCodec.Other"/>.</exception>
    public int IdOf(KnownCodec codec) => codec switch
    {
        KnownCodec.H264 => H264,
        KnownCodec.Hevc => Hevc,
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "only H.264 and HEVC have a fixed id here"),
    };

    /// <summary>Reads every id from the libavcodec just loaded (called once by <see cref="FFmpegLibrary"/>).</summary>
    /// <exception cref="FFmpegException">The library has no descriptor for a codec name.</exception>
    internal static CodecIds Lookup() => new(IdByName("h264"), IdByName("hevc"));

    /// <summary>The id of FFmpeg's codec descriptor named <paramref name="name"/> (the id is the descriptor's first field).</summary>
    /// <exception cref="FFmpegException">No descriptor has that name.</exception>
    internal static int IdByName(string name)
    {
        var descriptor = AvCodec.avcodec_descriptor_get_by_name(name);
        if (descriptor == 0)
            throw new FFmpegException($"the loaded libavcodec has no codec descriptor named '{name}' (an FFmpeg built without it?)");
        return Marshal.ReadInt32(descriptor);
    }
}
