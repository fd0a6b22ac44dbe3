using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// A copy of a stream's codec parameters (<c>AVCodecParameters</c>, extradata included) that the caller owns: what
/// <see cref="LateStreamProbe"/> completed for a stream, kept apart from the demuxer's own parameters, which libavformat
/// may reset while it reads on (an MPEG-TS audio stream's sample rate, seen emptied again once a second late stream
/// appeared). A muxer stream can be made from it (<see cref="MediaOutput.AddCopyOf(MediaStream, CodecParameters?)"/>).
/// </summary>
public sealed class CodecParameters : IDisposable
{
    private nint _parameters;

    private CodecParameters(nint parameters) => _parameters = parameters;

    /// <summary>Copies the stream's current parameters.</summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public static CodecParameters CopyOf(MediaStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var parameters = AvCodec.avcodec_parameters_alloc();
        if (parameters == 0) throw new FFmpegException("avcodec_parameters_alloc", 0, "out of memory", MediaDirection.Input);
        var copy = new CodecParameters(parameters);
        try
        {
            AvError.Check(AvCodec.avcodec_parameters_copy(parameters, stream.CodecParameters), $"copying the parameters of stream {stream}", MediaDirection.Input);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    internal nint Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_parameters == 0, this);
            return _parameters;
        }
    }

    /// <summary>The sample rate in Hz of audio parameters, null for other media or when unknown (see <see cref="MediaStream.AudioSampleRate"/>).</summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public int? AudioSampleRate => CodecOptions.AudioSampleRate(Pointer);

    /// <summary>Seconds per coded frame of audio parameters, null for other media or when unknown (see <see cref="MediaStream.AudioFrameDuration"/>).</summary>
    /// <exception cref="FFmpegException">Out of memory.</exception>
    public Rational? AudioFrameDuration => CodecOptions.AudioFrameDuration(Pointer);

    /// <summary>Frees the copy.</summary>
    public void Dispose()
    {
        if (_parameters != 0) AvCodec.avcodec_parameters_free(ref _parameters);
    }
}

/// <summary>
/// Integer fields of codec parameters read through FFmpeg's AVOption table of a codec context filled from them
/// (<c>ar</c>, <c>frame_size</c>), so that no struct layout past the first fields is assumed; each read allocates a context.
/// </summary>
internal static class CodecOptions
{
    /// <summary>Sample rate in Hz; null unless audio with a known rate.</summary>
    public static int? AudioSampleRate(nint parameters) =>
        IsAudio(parameters) && Read(parameters, "ar", null) is ( > 0 and <= int.MaxValue and var rate, _) ? (int)rate : null;

    /// <summary>Samples per frame over the sample rate; null unless audio with both known.</summary>
    public static Rational? AudioFrameDuration(nint parameters) =>
        IsAudio(parameters) && Read(parameters, "ar", "frame_size") is ( > 0 and <= int.MaxValue and var rate, > 0 and <= int.MaxValue and var samples)
            ? new Rational((int)samples, (int)rate)
            : null;

    /// <summary>Picture size in pixels; null unless video with both known.</summary>
    public static (int Width, int Height)? VideoSize(nint parameters)
    {
        if ((MediaType)Marshal.ReadInt32(parameters + StructLayouts.ParametersCodecType) != MediaType.Video) return null;
        var context = AvCodec.avcodec_alloc_context3(0);
        if (context == 0) throw new FFmpegException("avcodec_alloc_context3", 0, "out of memory", MediaDirection.Input);
        try
        {
            return AvCodec.avcodec_parameters_to_context(context, parameters) >= 0
                && AvUtil.av_opt_get_image_size(context, "video_size", 0, out var width, out var height) >= 0 && width > 0 && height > 0
                ? (width, height)
                : null;
        }
        finally
        {
            AvCodec.avcodec_free_context(ref context);
        }
    }

    private static unsafe bool IsAudio(nint parameters) => (MediaType)(*(int*)(parameters + StructLayouts.ParametersCodecType)) == MediaType.Audio;

    // Two integer AVOptions (0 where unknown or not asked).
    private static (long First, long Second) Read(nint parameters, string first, string? second)
    {
        var context = AvCodec.avcodec_alloc_context3(0);
        if (context == 0) throw new FFmpegException("avcodec_alloc_context3", 0, "out of memory", MediaDirection.Input);
        try
        {
            if (AvCodec.avcodec_parameters_to_context(context, parameters) < 0) return (0, 0);
            var a = AvUtil.av_opt_get_int(context, first, 0, out var one) >= 0 ? one : 0;
            var b = second is not null && AvUtil.av_opt_get_int(context, second, 0, out var two) >= 0 ? two : 0;
            return (a, b);
        }
        finally
        {
            AvCodec.avcodec_free_context(ref context);
        }
    }
}
