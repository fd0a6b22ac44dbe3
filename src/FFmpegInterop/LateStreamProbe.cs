using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// Completes the parameters of a video stream that a demuxer announced after the open (FLV and MPEG-TS create a
/// stream when its first packet arrives). <c>avformat_find_stream_info</c> cannot run twice (FFmpeg frees its probe
/// state after the first call), so the stream's own first packets go through its decoder until the picture size is
/// known, and what the decoder learned is copied into the stream's parameters, as the probe would have done. Muxers
/// refuse a video stream without a size ("dimensions not set"), and an audio stream without a sample rate ("sample rate
/// not set"), which a short <c>analyzeduration</c> leaves when the audio's first frames come after it ended.
/// </summary>
public static class LateStreamProbe
{
    private const int SearchChildren = 1; // AV_OPT_SEARCH_CHILDREN

    /// <summary>
    /// Decodes <paramref name="packets"/> (the stream's first ones, in decode order) until the picture size is known;
    /// true when it is, and the stream's parameters now hold it. The packets are not changed.
    /// </summary>
    /// <exception cref="FFmpegException">No decoder for the codec, or it cannot be opened (out of memory).</exception>
    public static bool TryCompleteVideo(MediaStream stream, IEnumerable<Packet> packets) =>
        TryComplete(stream, packets, "size", context =>
            AvUtil.av_opt_get_image_size(context, "video_size", SearchChildren, out var width, out var height) >= 0 && width > 0 && height > 0);

    /// <summary>
    /// The same for an audio stream whose sample rate FFmpeg's probe did not find (its first frames came after a short
    /// <c>analyzeduration</c> ended): decodes its first packets until the decoder knows the sample rate, and copies what
    /// it learnt (rate, channels, frame size) into the stream's parameters.
    /// </summary>
    /// <exception cref="FFmpegException">No decoder for the codec, or it cannot be opened (out of memory).</exception>
    public static bool TryCompleteAudio(MediaStream stream, IEnumerable<Packet> packets) =>
        TryComplete(stream, packets, "sample rate", context => AvUtil.av_opt_get_int(context, "ar", 0, out var rate) >= 0 && rate > 0);

    private static bool TryComplete(MediaStream stream, IEnumerable<Packet> packets, string what, Func<nint, bool> known)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(packets);
        var decoder = AvCodec.avcodec_find_decoder(stream.CodecId);
        if (decoder == 0) throw new FFmpegException($"no {stream.CodecName} decoder in this FFmpeg to read the {what} of late stream {stream}", MediaDirection.Input);
        var context = AvCodec.avcodec_alloc_context3(decoder);
        if (context == 0) throw new FFmpegException("avcodec_alloc_context3", 0, "out of memory", MediaDirection.Input);
        try
        {
            AvError.Check(AvCodec.avcodec_parameters_to_context(context, stream.CodecParameters), $"reading the parameters of late stream {stream}", MediaDirection.Input);
            AvError.Check(AvCodec.avcodec_open2(context, decoder, 0), $"opening the {stream.CodecName} decoder for late stream {stream}", MediaDirection.Input);
            foreach (var packet in packets)
            {
                if (packet.StreamIndex != stream.Index) continue;
                // A packet the decoder refuses (a leading non-keyframe) says nothing: the next one may.
                _ = AvCodec.avcodec_send_packet(context, packet.Pointer);
                if (known(context))
                {
                    AvError.Check(AvCodec.avcodec_parameters_from_context(stream.CodecParameters, context), $"completing the parameters of late stream {stream}", MediaDirection.Input);
                    return true;
                }
            }
            return false;
        }
        finally
        {
            AvCodec.avcodec_free_context(ref context);
        }
    }
}
