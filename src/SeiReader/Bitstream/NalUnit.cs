using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Where one NAL unit sits in a buffer, and its parsed header. Offsets only, never a copy:
    /// <see cref="GetBytes"/> slices the buffer that was read.
    /// </summary>
    public readonly struct NalUnit : IEquatable<NalUnit>
    {
        /// <summary>Creates a NAL unit record.</summary>
        /// <param name="framedOffset">Offset of its start code (zero_byte included) or length prefix.</param>
        /// <param name="offset">Offset of its first header byte.</param>
        /// <param name="length">Bytes from the header to the last byte, trailing zero bytes excluded.</param>
        /// <param name="header">Its parsed header.</param>
        public NalUnit(int framedOffset, int offset, int length, NalHeader header)
            : this(framedOffset, offset, length, header, BitstreamError.None)
        {
        }

        /// <summary>Creates a NAL unit record for a unit whose framing is sound but whose header is not.</summary>
        /// <param name="framedOffset">Offset of its start code (zero_byte included) or length prefix.</param>
        /// <param name="offset">Offset of its first byte.</param>
        /// <param name="length">Bytes of the unit (0 for an empty one), trailing zero bytes excluded.</param>
        /// <param name="header">Its parsed header, or <see cref="NalHeader.Unreadable"/>.</param>
        /// <param name="headerError">Why the header could not be read, or <see cref="BitstreamError.None"/>.</param>
        internal NalUnit(int framedOffset, int offset, int length, NalHeader header, BitstreamError headerError)
        {
            FramedOffset = framedOffset;
            Offset = offset;
            Length = length;
            Header = header;
            HeaderError = headerError;
        }

        /// <summary>
        /// <see cref="BitstreamError.None"/>, or why this unit's header could not be read
        /// (<see cref="BitstreamError.EmptyNalUnit"/>, <see cref="BitstreamError.ForbiddenZeroBitSet"/>,
        /// <see cref="BitstreamError.TruncatedNalHeader"/>, <see cref="BitstreamError.InvalidTemporalId"/>): the framing
        /// around it is sound, so the units after it are read; its <see cref="Header"/> is not readable and matches no
        /// kind. FFmpeg's parser skips such a unit the same way (libavcodec/h2645_parse.c).
        /// </summary>
        public BitstreamError HeaderError { get; }

        /// <summary>
        /// Offset of the framing before the NAL unit: the Annex B start code (with its <c>zero_byte</c> when the
        /// start code is 4 bytes long) or the length prefix.
        /// </summary>
        public int FramedOffset { get; }

        /// <summary>Offset of the first NAL unit header byte.</summary>
        public int Offset { get; }

        /// <summary>Length of the NAL unit (header + payload, without framing and without trailing zero bytes).</summary>
        public int Length { get; }

        /// <summary>Offset just past the last byte of the NAL unit.</summary>
        public int End => Offset + Length;

        /// <summary>The parsed NAL unit header.</summary>
        public NalHeader Header { get; }

        /// <summary>The NAL unit (header included) as a slice of <paramref name="buffer"/>, the buffer it was read from.</summary>
        public ReadOnlySpan<byte> GetBytes(ReadOnlySpan<byte> buffer) => buffer.Slice(Offset, Length);

        /// <summary>The NAL unit payload after its header, as a slice of <paramref name="buffer"/>.</summary>
        public ReadOnlySpan<byte> GetPayload(ReadOnlySpan<byte> buffer) =>
            Length <= Header.Length ? ReadOnlySpan<byte>.Empty : buffer.Slice(Offset + Header.Length, Length - Header.Length);

        /// <inheritdoc />
        public bool Equals(NalUnit other) =>
            FramedOffset == other.FramedOffset && Offset == other.Offset && Length == other.Length && Header == other.Header && HeaderError == other.HeaderError;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is NalUnit other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(FramedOffset, Offset, Length, Header, HeaderError);

        /// <summary>Equality of two records.</summary>
        public static bool operator ==(NalUnit left, NalUnit right) => left.Equals(right);

        /// <summary>Inequality of two records.</summary>
        public static bool operator !=(NalUnit left, NalUnit right) => !left.Equals(right);

        /// <summary>For example "H264 type 5 (ref 3) at 4, 1234 bytes".</summary>
        public override string ToString() =>
            HeaderError == BitstreamError.None ? $"{Header} at {Offset}, {Length} bytes" : $"unreadable header ({HeaderError}) at {Offset}, {Length} bytes";
    }
}
