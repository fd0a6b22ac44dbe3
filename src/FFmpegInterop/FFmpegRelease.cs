using System.Collections.ObjectModel;

namespace CatEvening.FFmpegInterop;

/// <summary>One supported FFmpeg release: the major versions of its libraries and the struct layout they share.</summary>
public sealed class FFmpegRelease
{
    private FFmpegRelease(string name, int avFormat, int avCodec, int avUtil, StructLayouts layout)
    {
        Name = name;
        AvFormatMajor = avFormat;
        AvCodecMajor = avCodec;
        AvUtilMajor = avUtil;
        Layout = layout;
    }

    /// <summary>
    /// Every supported release, newest first: the order in which they are tried. The majors come from each release's
    /// <c>version_major.h</c>; 5.1, 7.1, 8.1 and 9.0 were also run (docs/ffmpeg-versions.md), 6.x only from its headers.
    /// </summary>
    public static ReadOnlyCollection<FFmpegRelease> Supported { get; } = new(
    [
        new("9.x", 63, 63, 61, StructLayouts.Major61),
        new("8.x", 62, 62, 60, StructLayouts.Major61),
        new("7.x", 61, 61, 59, StructLayouts.Major61),
        new("6.x", 60, 60, 58, StructLayouts.Major60),
        new("5.1", 59, 59, 57, StructLayouts.Major59),
    ]);

    /// <summary>FFmpeg release name, e.g. <c>5.1</c>.</summary>
    public string Name { get; }

    /// <summary>libavformat major version.</summary>
    public int AvFormatMajor { get; }

    /// <summary>libavcodec major version.</summary>
    public int AvCodecMajor { get; }

    /// <summary>libavutil major version.</summary>
    public int AvUtilMajor { get; }

    internal StructLayouts Layout { get; }

    /// <inheritdoc />
    public override string ToString() => $"FFmpeg {Name} (libavformat {AvFormatMajor}, libavcodec {AvCodecMajor}, libavutil {AvUtilMajor})";
}
