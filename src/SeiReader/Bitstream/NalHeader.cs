using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// A parsed NAL unit header.
    /// <code>
    /// H.264 7.3.1 nal_unit( ):  forbidden_zero_bit f(1) | nal_ref_idc u(2) | nal_unit_type u(5)
    /// H.265 7.3.1.2 nal_unit_header( ):
    ///   forbidden_zero_bit f(1) | nal_unit_type u(6) | nuh_layer_id u(6) | nuh_temporal_id_plus1 u(3)
    /// </code>
    /// </summary>
    public readonly struct NalHeader : IEquatable<NalHeader>
    {
        /// <summary>Bytes of the H.264 NAL unit header (the SVC/MVC extension bytes of types 14, 20, 21 not included).</summary>
        public const int H264Length = 1;

        /// <summary>Bytes of the H.265 NAL unit header.</summary>
        public const int H265Length = 2;

        private NalHeader(VideoCodec codec, int type, int nalRefIdc, int layerId, int temporalId)
        {
            Codec = codec;
            Type = type;
            NalRefIdc = nalRefIdc;
            LayerId = layerId;
            TemporalId = temporalId;
        }

        /// <summary>The codec whose header syntax was read.</summary>
        public VideoCodec Codec { get; }

        /// <summary><c>nal_unit_type</c>: 0..31 in H.264, 0..63 in H.265; -1 for a header that could not be read
        /// (<see cref="IsReadable"/>).</summary>
        public int Type { get; }

        /// <summary>
        /// False for the header of a NAL unit whose header is malformed (forbidden_zero_bit set, H.265 header cut short or
        /// TemporalId invalid, or an empty unit) that <see cref="NalUnitReader"/> framed anyway: no predicate of this
        /// struct is true for it (see <see cref="NalUnit.HeaderError"/>).
        /// </summary>
        public bool IsReadable => Type >= 0;

        /// <summary>The header of a NAL unit whose header is malformed: <see cref="Type"/> -1, nothing else set.</summary>
        internal static NalHeader Unreadable(VideoCodec codec) => new NalHeader(codec, -1, 0, 0, 0);

        /// <summary>H.264 <c>nal_ref_idc</c> (0..3); 0 for H.265.</summary>
        public int NalRefIdc { get; }

        /// <summary>H.265 <c>nuh_layer_id</c> (0..63); 0 for H.264.</summary>
        public int LayerId { get; }

        /// <summary>H.265 <c>TemporalId</c> = <c>nuh_temporal_id_plus1 - 1</c> (0..6); 0 for H.264.</summary>
        public int TemporalId { get; }

        /// <summary>Size of this header in bytes: 1 (H.264) or 2 (H.265).</summary>
        public int Length => Codec == VideoCodec.H264 ? H264Length : H265Length;

        /// <summary>Size of the NAL unit header of <paramref name="codec"/> in bytes.</summary>
        public static int GetLength(VideoCodec codec) => codec == VideoCodec.H264 ? H264Length : H265Length;

        /// <summary>True for a coded slice: H.264 types 1..5, 20, 21; H.265 types 0..31.</summary>
        public bool IsVcl => Codec == VideoCodec.H264
            ? (Type >= 1 && Type <= 5) || Type == 20 || Type == 21
            : Type >= 0 && Type < 32;

        /// <summary>
        /// True for a NAL unit that must come before the first coded slice it belongs with, so that a spliced SEI
        /// has to come before it too: VCL NAL units, and the H.264 prefix NAL unit (type 14) that heads an SVC/MVC slice.
        /// </summary>
        public bool StartsPictureData => IsVcl || (Codec == VideoCodec.H264 && Type == (int)H264NalUnitType.PrefixNalUnit);

        /// <summary>True for a VPS (H.265), SPS, PPS, or H.264 SPS extension / subset SPS / depth parameter set.</summary>
        public bool IsParameterSet => Codec == VideoCodec.H264
            ? Type == 7 || Type == 8 || Type == 13 || Type == 15 || Type == 16
            : Type >= 32 && Type <= 34;

        /// <summary>True for an access unit delimiter (H.264 type 9, H.265 type 35).</summary>
        public bool IsAccessUnitDelimiter => Type == (Codec == VideoCodec.H264 ? 9 : 35);

        /// <summary>True for any SEI NAL unit: H.264 type 6, H.265 types 39 (prefix) and 40 (suffix).</summary>
        public bool IsSei => Codec == VideoCodec.H264 ? Type == 6 : Type == 39 || Type == 40;

        /// <summary>True for an SEI NAL unit that precedes the coded slices: H.264 type 6, H.265 type 39.</summary>
        public bool IsPrefixSei => Type == (Codec == VideoCodec.H264 ? 6 : 39);

        /// <summary>True for an H.265 suffix SEI NAL unit (type 40).</summary>
        public bool IsSuffixSei => Codec == VideoCodec.H265 && Type == 40;

        /// <summary>True for end of sequence (H.264 type 10, H.265 type 36).</summary>
        public bool IsEndOfSequence => Type == (Codec == VideoCodec.H264 ? 10 : 36);

        /// <summary>True for end of stream (H.264 type 11, H.265 end of bitstream type 37).</summary>
        public bool IsEndOfStream => Type == (Codec == VideoCodec.H264 ? 11 : 37);

        /// <summary>True for an IDR slice: H.264 type 5, H.265 types 19 and 20.</summary>
        public bool IsIdr => Codec == VideoCodec.H264 ? Type == 5 : Type == 19 || Type == 20;

        /// <summary>
        /// True for a slice of a random access point: H.264 IDR (type 5); H.265 IRAP (BLA, IDR, CRA and reserved
        /// IRAP types 16..23, H.265 7.4.2.2).
        /// </summary>
        public bool IsIrap => Codec == VideoCodec.H264 ? Type == 5 : Type >= 16 && Type <= 23;

        /// <summary>
        /// Reads the NAL unit header at the start of <paramref name="nal"/> (the NAL unit without start code or
        /// length prefix). Never throws.
        /// </summary>
        /// <returns>
        /// <see cref="ReadStatus.Success"/>; <see cref="ReadStatus.Malformed"/> with
        /// <see cref="BitstreamError.EmptyNalUnit"/>, <see cref="BitstreamError.TruncatedNalHeader"/>,
        /// <see cref="BitstreamError.ForbiddenZeroBitSet"/> or <see cref="BitstreamError.InvalidTemporalId"/>.
        /// </returns>
        public static ReadStatus TryRead(VideoCodec codec, ReadOnlySpan<byte> nal, out NalHeader header, out BitstreamError error)
        {
            header = default;
            if (nal.IsEmpty)
            {
                error = BitstreamError.EmptyNalUnit;
                return ReadStatus.Malformed;
            }
            byte first = nal[0];
            if ((first & 0x80) != 0)
            {
                error = BitstreamError.ForbiddenZeroBitSet;
                return ReadStatus.Malformed;
            }
            if (codec == VideoCodec.H264)
            {
                header = new NalHeader(codec, first & 0x1F, (first >> 5) & 0x03, 0, 0);
                error = BitstreamError.None;
                return ReadStatus.Success;
            }
            if (nal.Length < H265Length)
            {
                error = BitstreamError.TruncatedNalHeader;
                return ReadStatus.Malformed;
            }
            byte second = nal[1];
            int temporalIdPlus1 = second & 0x07;
            if (temporalIdPlus1 == 0)
            {
                error = BitstreamError.InvalidTemporalId;
                return ReadStatus.Malformed;
            }
            header = new NalHeader(codec, (first >> 1) & 0x3F, 0, ((first & 0x01) << 5) | (second >> 3), temporalIdPlus1 - 1);
            error = BitstreamError.None;
            return ReadStatus.Success;
        }

        /// <summary>Reads the NAL unit header at the start of <paramref name="nal"/>.</summary>
        /// <exception cref="BitstreamException">The header is malformed (offset 0 of <paramref name="nal"/>).</exception>
        public static NalHeader Read(VideoCodec codec, ReadOnlySpan<byte> nal)
        {
            if (TryRead(codec, nal, out NalHeader header, out BitstreamError error) != ReadStatus.Success)
                ThrowHelper.ThrowBitstream(error, 0);
            return header;
        }

        /// <summary>
        /// Writes an SEI NAL unit header: H.264 <c>06</c> (nal_ref_idc 0, as H.264 7.4.1 requires for SEI);
        /// H.265 prefix (type 39) or suffix (type 40) SEI with layer 0 and the given TemporalId.
        /// </summary>
        internal static int WriteSeiHeader(VideoCodec codec, bool suffix, int temporalId, Span<byte> destination)
        {
            if (codec == VideoCodec.H264)
            {
                destination[0] = (byte)H264NalUnitType.Sei;
                return H264Length;
            }
            destination[0] = (byte)((suffix ? (int)H265NalUnitType.SuffixSei : (int)H265NalUnitType.PrefixSei) << 1);
            destination[1] = (byte)(temporalId + 1);
            return H265Length;
        }

        /// <inheritdoc />
        public bool Equals(NalHeader other) =>
            Codec == other.Codec && Type == other.Type && NalRefIdc == other.NalRefIdc &&
            LayerId == other.LayerId && TemporalId == other.TemporalId;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is NalHeader other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(Codec, Type, NalRefIdc, LayerId, TemporalId);

        /// <summary>Equality of two headers.</summary>
        public static bool operator ==(NalHeader left, NalHeader right) => left.Equals(right);

        /// <summary>Inequality of two headers.</summary>
        public static bool operator !=(NalHeader left, NalHeader right) => !left.Equals(right);

        /// <summary>For example "H264 type 5 (ref 3)" or "H265 type 19 (layer 0, tid 0)".</summary>
        public override string ToString() => Codec == VideoCodec.H264
            ? $"H264 type {Type} (ref {NalRefIdc})"
            : $"H265 type {Type} (layer {LayerId}, tid {TemporalId})";
    }
}
