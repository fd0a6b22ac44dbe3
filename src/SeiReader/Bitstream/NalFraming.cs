using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// How NAL units are delimited in a buffer: Annex B byte stream (start codes <c>00 00 01</c> /
    /// <c>00 00 00 01</c>) or length-prefixed (a big-endian length of 1, 2 or 4 bytes before each NAL unit,
    /// as in MP4, Matroska and FLV, with the size given by <c>avcC</c>/<c>hvcC</c>).
    /// </summary>
    public readonly struct NalFraming : IEquatable<NalFraming>
    {
        private NalFraming(int lengthSize) => LengthSize = lengthSize;

        /// <summary>Annex B byte stream. The writers emit 4-byte start codes (<c>00 00 00 01</c>).</summary>
        public static NalFraming AnnexB => default;

        /// <summary>Length-prefixed with 4-byte lengths, the usual choice of MP4 muxers.</summary>
        public static NalFraming LengthPrefixed4 => new NalFraming(4);

        /// <summary>Size in bytes of the big-endian length before each NAL unit (1, 2 or 4); 0 for Annex B.</summary>
        public int LengthSize { get; }

        /// <summary>True for Annex B start codes, false for length prefixes.</summary>
        public bool IsAnnexB => LengthSize == 0;

        /// <summary>Bytes placed before each NAL unit by the writers: 4 for Annex B, else <see cref="LengthSize"/>.</summary>
        public int PrefixSize => LengthSize == 0 ? 4 : LengthSize;

        /// <summary>The largest NAL unit a length prefix of this size can describe.</summary>
        public long MaxNalLength => LengthSize switch
        {
            1 => byte.MaxValue,
            2 => ushort.MaxValue,
            _ => int.MaxValue,
        };

        /// <summary>Length-prefixed framing with <paramref name="lengthSize"/>-byte big-endian lengths.</summary>
        /// <param name="lengthSize">1, 2 or 4 (<c>lengthSizeMinusOne + 1</c> of avcC/hvcC).</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="lengthSize"/> is not 1, 2 or 4.</exception>
        public static NalFraming LengthPrefixed(int lengthSize)
        {
            if (lengthSize != 1 && lengthSize != 2 && lengthSize != 4)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(lengthSize), "A NAL length prefix is 1, 2 or 4 bytes.");
            return new NalFraming(lengthSize);
        }

        /// <inheritdoc />
        public bool Equals(NalFraming other) => LengthSize == other.LengthSize;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is NalFraming other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => LengthSize;

        /// <summary>Equality of two framings.</summary>
        public static bool operator ==(NalFraming left, NalFraming right) => left.Equals(right);

        /// <summary>Inequality of two framings.</summary>
        public static bool operator !=(NalFraming left, NalFraming right) => !left.Equals(right);

        /// <summary>"Annex B" or "length-prefixed (N bytes)".</summary>
        public override string ToString() => IsAnnexB ? "Annex B" : $"length-prefixed ({LengthSize} bytes)";
    }
}
