using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>The video stream the pipeline splices into (or inspect reads).</summary>
/// <param name="StreamIndex">Index of the stream in the input (and the output: every stream is copied in order).</param>
/// <param name="Codec">H.264 or H.265.</param>
/// <param name="Framing">How NAL units are delimited in its packets (from the extradata).</param>
/// <param name="TimeBase">Time base of the input packets' timestamps.</param>
public sealed record VideoStreamDescription(int StreamIndex, VideoCodec Codec, NalFraming Framing, Rational TimeBase)
{
    /// <summary>The first H.264 or H.265 stream of an input, with its framing read from the codec configuration.</summary>
    /// <exception cref="InjectionException">No such stream, or its configuration (extradata) is malformed.</exception>
    public static VideoStreamDescription Find(MediaInput input) =>
        TryFind(input) ?? throw new InjectionException($"{input.Url} has no H.264 or H.265 video stream (streams: {string.Join(", ", input.Streams)})");

    /// <summary>The first H.264 or H.265 stream of an input, or null when it has none (yet).</summary>
    /// <exception cref="InjectionException">The stream's configuration (extradata) is malformed.</exception>
    public static VideoStreamDescription? TryFind(MediaInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var stream = input.Streams.FirstOrDefault(s => s.MediaType == MediaType.Video && s.KnownCodec is KnownCodec.H264 or KnownCodec.Hevc);
        if (stream is null) return null;
        var codec = stream.KnownCodec == KnownCodec.H264 ? VideoCodec.H264 : VideoCodec.H265;
        if (CodecConfiguration.TryParse(codec, stream.Extradata, out var configuration, out var error, out var offset) != ReadStatus.Success)
            throw new InjectionException($"the {stream.CodecName} configuration (extradata) of stream {stream.Index} in {input.Url} is malformed: {BitstreamException.Describe(error, offset)}");
        return new VideoStreamDescription(stream.Index, codec, configuration!.Framing, stream.TimeBase);
    }
}
