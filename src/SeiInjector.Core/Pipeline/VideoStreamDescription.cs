using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>The video stream the pipeline splices into.</summary>
/// <param name="StreamIndex">Index of the stream in the input (and the output: every stream is copied in order).</param>
/// <param name="Codec">H.264 or H.265.</param>
/// <param name="Framing">How NAL units are delimited in its packets (from the extradata).</param>
/// <param name="TimeBase">Time base of the input packets' timestamps.</param>
public sealed record VideoStreamDescription(int StreamIndex, VideoCodec Codec, NalFraming Framing, Rational TimeBase);
