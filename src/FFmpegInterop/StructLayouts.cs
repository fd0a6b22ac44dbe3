using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// Byte offsets of the public struct fields this assembly reads or writes, per libavformat major version (x86-64 and
/// arm64, LP64). Only fields without an accessor function are here; everything else goes through AVOptions or calls.
/// </summary>
/// <remarks>
/// Sources: FFmpeg's <c>libavformat/avformat.h</c> and <c>libavcodec/packet.h</c>, <c>codec_par.h</c> of each release.
/// 5.1 was checked on Debian 12 with <c>offsetof</c> against the installed headers. 6.0 put <c>av_class</c> first in
/// AVStream and moved <c>codecpar</c> up after <c>id</c>; 7.0 moved stream groups and chapters up in AVFormatContext
/// and added <c>data_codec_id</c> before <c>metadata</c>; 8.x and 9.x (majors 62 and 63) kept 7.x's offsets for every
/// field here (checked with <c>offsetof</c> against their headers). <see cref="Verify"/> checks the AVFormatContext offsets at
/// load through AVOptions, which locate the same fields by FFmpeg's own offset table.
/// </remarks>
internal sealed record StructLayouts(
    int FormatFlags,
    int FormatFpsProbeSize,
    int FormatInterruptCallback,
    int StreamIndex,
    int StreamTimeBase,
    int StreamCodecParameters)
{
    // AVFormatContext fields that never moved (5.1 to 9.x).
    internal const int FormatInputFormat = 8;
    internal const int FormatOutputFormat = 16;
    internal const int FormatIoContext = 32;
    internal const int FormatStreamCount = 44;
    internal const int FormatStreams = 48;

    // AVIOContext.error (after av_class, buffer, buffer_size, buf_ptr, buf_end, opaque, three callbacks, pos and
    // eof_reached): the first error its protocol returned, 0 while the link is sound. The same from 5.1 to 9.x; checked in
    // 5.1's libavformat.so.59 (writeout() stores the write callback's error at 0x54, avio_feof() reads eof_reached at 0x50).
    internal const int IoContextError = 84;

    // AVInputFormat / AVOutputFormat: name first; AVOutputFormat.flags and codec_tag after four pointers and three enums.
    internal const int FormatName = 0;
    internal const int OutputFormatFlags = 44;
    internal const int OutputFormatCodecTags = 48;

    // AVCodecParameters: the leading fields are the same in every supported major.
    internal const int ParametersCodecType = 0;
    internal const int ParametersCodecId = 4;
    internal const int ParametersCodecTag = 8;
    internal const int ParametersExtradata = 16;
    internal const int ParametersExtradataSize = 24;

    // AVPacket: the same in every supported major.
    internal const int PacketPts = 8;
    internal const int PacketDts = 16;
    internal const int PacketData = 24;
    internal const int PacketSize = 32;
    internal const int PacketStreamIndex = 36;
    internal const int PacketFlags = 40;
    internal const int PacketDuration = 64;
    internal const int PacketPosition = 72;

    /// <summary>FFmpeg 5.1.</summary>
    internal static readonly StructLayouts Major59 = new(
        FormatFlags: 96, FormatFpsProbeSize: 192, FormatInterruptCallback: 200,
        StreamIndex: 0, StreamTimeBase: 16, StreamCodecParameters: 208);

    /// <summary>FFmpeg 6.x: AVFormatContext as in 5.1; AVStream starts with av_class, codecpar follows id.</summary>
    internal static readonly StructLayouts Major60 = new(
        FormatFlags: 96, FormatFpsProbeSize: 192, FormatInterruptCallback: 200,
        StreamIndex: 8, StreamTimeBase: 32, StreamCodecParameters: 16);

    /// <summary>
    /// FFmpeg 7.x, 8.x and 9.x: nb_stream_groups/stream_groups and the chapters moved up after streams, data_codec_id
    /// added (7.0); unchanged since for these fields.
    /// </summary>
    internal static readonly StructLayouts Major61 = new(
        FormatFlags: 128, FormatFpsProbeSize: 208, FormatInterruptCallback: 216,
        StreamIndex: 8, StreamTimeBase: 32, StreamCodecParameters: 16);

    /// <summary>
    /// Checks the layout against the loaded library. AVFormatContext: through FFmpeg's own AVOption table, <c>fflags</c>
    /// is the flags field, and <c>fpsprobesize</c> and <c>err_detect</c> are the two ints right before
    /// <c>interrupt_callback</c>. AVStream: the second stream of a fresh muxer has index 1, codec parameters of unknown
    /// type and no codec, and an unset time base.
    /// </summary>
    /// <exception cref="FFmpegException">An offset does not match.</exception>
    internal static void Verify(StructLayouts layout)
    {
        VerifyFormatContext(layout);
        VerifyStream(layout);
    }

    private static unsafe void VerifyStream(StructLayouts layout)
    {
        if (AvFormat.avformat_alloc_output_context2(out var context, 0, "mpegts", "layout-check.ts") < 0 || context == 0)
            throw new FFmpegException("avformat_alloc_output_context2 failed while checking the struct layout");
        try
        {
            var first = AvFormat.avformat_new_stream(context, 0);
            var second = AvFormat.avformat_new_stream(context, 0);
            if (first == 0 || second == 0) throw new FFmpegException("avformat_new_stream failed while checking the struct layout");
            var parameters = *(nint*)(second + layout.StreamCodecParameters);
            var timeBase = *(AVRational*)(second + layout.StreamTimeBase);
            var ok = *(int*)(first + layout.StreamIndex) == 0 && *(int*)(second + layout.StreamIndex) == 1
                && *(nint*)(context + FormatStreams) is var streams && *(nint*)streams == first && *(nint*)(streams + sizeof(nint)) == second
                && parameters != 0 && parameters != *(nint*)(first + layout.StreamCodecParameters)
                && *(int*)(parameters + ParametersCodecType) == (int)MediaType.Unknown && *(int*)(parameters + ParametersCodecId) == 0
                && timeBase.Num == 0 && timeBase.Den == 0;
            if (!ok)
                throw new FFmpegException("the loaded libavformat's AVStream does not have the layout this build expects for its major version (a patched or mismatched FFmpeg?)");
        }
        finally
        {
            AvFormat.avformat_free_context(context);
        }
    }

    private static unsafe void VerifyFormatContext(StructLayouts layout)
    {
        var context = AvFormat.avformat_alloc_context();
        if (context == 0) throw new FFmpegException("avformat_alloc_context returned null while checking the struct layout");
        try
        {
            const long probeMarker = 0x1234;
            const long errorMarker = 5;
            bool ok = AvUtil.av_opt_set_int(context, "fpsprobesize", probeMarker, 0) >= 0
                && AvUtil.av_opt_set_int(context, "err_detect", errorMarker, 0) >= 0
                && AvUtil.av_opt_get_int(context, "fflags", 0, out var flags) >= 0
                && *(int*)(context + layout.FormatFlags) == (int)flags
                && *(int*)(context + layout.FormatFpsProbeSize) == probeMarker
                && *(int*)(context + layout.FormatFpsProbeSize + 4) == errorMarker
                && layout.FormatInterruptCallback == layout.FormatFpsProbeSize + 8;
            if (!ok)
                throw new FFmpegException("the loaded libavformat's AVFormatContext does not have the layout this build expects for its major version (a patched or mismatched FFmpeg?)");
        }
        finally
        {
            AvFormat.avformat_free_context(context);
        }
    }
}
