using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// The decoder configuration found in a stream's codec extradata: its framing (from <c>lengthSizeMinusOne</c>
    /// of <c>avcC</c>/<c>hvcC</c>, or Annex B) and its out-of-band NAL units (parameter sets and, in hvcC,
    /// declarative SEI). Parsed once per stream, so it owns copies of the NAL units.
    /// </summary>
    public sealed partial class CodecConfiguration
    {
        private CodecConfiguration(VideoCodec codec, NalFraming framing, IReadOnlyList<ReadOnlyMemory<byte>> nalUnits)
        {
            Codec = codec;
            Framing = framing;
            NalUnits = nalUnits;
            var parameterSets = new List<ReadOnlyMemory<byte>>();
            foreach (ReadOnlyMemory<byte> nal in nalUnits)
            {
                if (NalHeader.Read(codec, nal.Span).IsParameterSet) parameterSets.Add(nal);
            }
            ParameterSets = parameterSets;
        }

        /// <summary>The codec.</summary>
        public VideoCodec Codec { get; }

        /// <summary>How the stream's packets frame their NAL units.</summary>
        public NalFraming Framing { get; }

        /// <summary>Every NAL unit of the configuration, in order, without framing.</summary>
        public IReadOnlyList<ReadOnlyMemory<byte>> NalUnits { get; }

        /// <summary>The VPS/SPS/PPS among <see cref="NalUnits"/>, in order, without framing.</summary>
        public IReadOnlyList<ReadOnlyMemory<byte>> ParameterSets { get; }

        /// <summary>
        /// Parses codec extradata: empty (Annex B, parameter sets in band), Annex B parameter sets, an
        /// AVCDecoderConfigurationRecord (<c>avcC</c>, H.264) or an HEVCDecoderConfigurationRecord (<c>hvcC</c>, H.265).
        /// Never throws on bad bytes.
        /// </summary>
        /// <returns><see cref="ReadStatus.Success"/> or <see cref="ReadStatus.Malformed"/> with the error and its offset.</returns>
        public static ReadStatus TryParse(VideoCodec codec, ReadOnlySpan<byte> extradata, out CodecConfiguration? configuration,
            out BitstreamError error, out int errorOffset)
        {
            configuration = null;
            var nalUnits = new List<ReadOnlyMemory<byte>>();
            NalFraming framing = NalFraming.AnnexB;
            ReadStatus status;
            if (extradata.IsEmpty)
            {
                status = ReadStatus.Success;
                error = BitstreamError.None;
                errorOffset = 0;
            }
            else if (AnnexB.StartsWithStartCode(extradata))
            {
                status = ParseAnnexB(codec, extradata, nalUnits, out error, out errorOffset);
            }
            else if (codec == VideoCodec.H264)
            {
                status = ParseAvcC(extradata, nalUnits, out framing, out error, out errorOffset);
            }
            else
            {
                status = ParseHvcC(extradata, nalUnits, out framing, out error, out errorOffset);
            }
            if (status == ReadStatus.Success) configuration = new CodecConfiguration(codec, framing, nalUnits);
            return status;
        }

        /// <summary>Parses codec extradata (see <see cref="TryParse"/>).</summary>
        /// <exception cref="BitstreamException">The extradata is malformed; the exception names the offset.</exception>
        public static CodecConfiguration Parse(VideoCodec codec, ReadOnlySpan<byte> extradata)
        {
            if (TryParse(codec, extradata, out CodecConfiguration? configuration, out BitstreamError error, out int offset) != ReadStatus.Success)
                ThrowHelper.ThrowBitstream(error, offset);
            return configuration!;
        }

        /// <summary>Bytes <see cref="WriteParameterSets"/> writes for <paramref name="framing"/>.</summary>
        public int GetParameterSetsLength(NalFraming framing)
        {
            int total = 0;
            foreach (ReadOnlyMemory<byte> nal in ParameterSets) total += framing.PrefixSize + nal.Length;
            return total;
        }

        /// <summary>
        /// Writes the parameter sets framed as <paramref name="framing"/> (for example, Annex B ones to put before a
        /// keyframe when a length-prefixed stream is sent as MPEG-TS).
        /// </summary>
        /// <returns>Bytes written.</returns>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is too short, or a parameter set does not fit the length prefix.</exception>
        public int WriteParameterSets(NalFraming framing, Span<byte> destination)
        {
            int needed = GetParameterSetsLength(framing);
            if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), needed, destination.Length);
            int written = 0;
            foreach (ReadOnlyMemory<byte> nal in ParameterSets)
                written += NalFramingConverter.WriteFramed(nal.Span, framing, destination.Slice(written));
            return written;
        }

        private static ReadStatus ParseAnnexB(VideoCodec codec, ReadOnlySpan<byte> extradata, List<ReadOnlyMemory<byte>> nalUnits,
            out BitstreamError error, out int errorOffset)
        {
            var reader = new NalUnitReader(extradata, codec, NalFraming.AnnexB);
            ReadStatus status;
            while ((status = reader.Read(out NalUnit nal)) == ReadStatus.Success)
            {
                // An empty unit or one whose header is unreadable is no parameter set: left out.
                if (nal.HeaderError == BitstreamError.None) nalUnits.Add(nal.GetBytes(extradata).ToArray());
            }
            error = reader.Error;
            errorOffset = reader.ErrorOffset;
            return status == ReadStatus.EndOfData ? ReadStatus.Success : status;
        }

        /// <summary>Reads <c>u(16) length | NAL unit</c> at <paramref name="pos"/>, checking the length and the NAL header.</summary>
        private static bool TryReadSizedNal(VideoCodec codec, ReadOnlySpan<byte> data, ref int pos, int expectedType,
            List<ReadOnlyMemory<byte>> nalUnits, out BitstreamError error, out int errorOffset)
        {
            if (data.Length - pos < 2) return Fail(BitstreamError.TruncatedConfiguration, pos, out error, out errorOffset);
            int length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos));
            if (length == 0) return Fail(BitstreamError.EmptyNalUnit, pos, out error, out errorOffset);
            if (length > data.Length - pos - 2) return Fail(BitstreamError.TruncatedConfiguration, pos, out error, out errorOffset);
            ReadOnlySpan<byte> nal = data.Slice(pos + 2, length);
            if (NalHeader.TryRead(codec, nal, out NalHeader header, out error) != ReadStatus.Success)
                return Fail(error, pos + 2, out error, out errorOffset);
            if (expectedType >= 0 && header.Type != expectedType)
                return Fail(BitstreamError.UnexpectedParameterSetType, pos + 2, out error, out errorOffset);
            nalUnits.Add(nal.ToArray());
            pos += 2 + length;
            errorOffset = 0;
            return true;
        }

        private static bool Fail(BitstreamError what, int where, out BitstreamError error, out int errorOffset)
        {
            error = what;
            errorOffset = where;
            return false;
        }
    }
}
