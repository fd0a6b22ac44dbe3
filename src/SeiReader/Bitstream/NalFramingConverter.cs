using System;
using System.Buffers.Binary;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Rewrites the framing of a buffer of NAL units (Annex B ↔ length-prefixed, or between length sizes) without
    /// touching the NAL units themselves. Annex B output uses 4-byte start codes; trailing zero bytes are dropped.
    /// </summary>
    public static class NalFramingConverter
    {
        /// <summary>Size of <paramref name="source"/> once reframed to <paramref name="to"/>. Never throws on bad bytes.</summary>
        public static ReadStatus TryGetConvertedLength(ReadOnlySpan<byte> source, VideoCodec codec, NalFraming from, NalFraming to,
            out int length, out BitstreamError error, out int errorOffset)
        {
            var reader = new NalUnitReader(source, codec, from);
            long total = 0;
            ReadStatus status;
            while ((status = reader.Read(out NalUnit nal)) == ReadStatus.Success)
            {
                // An empty unit has nothing to frame; a unit with an unreadable header is carried as it came.
                if (nal.Length == 0) continue;
                if (nal.Length > to.MaxNalLength)
                    return Fail(BitstreamError.NalTooLongForLengthSize, nal.Offset, out length, out error, out errorOffset);
                total += to.PrefixSize + nal.Length;
            }
            if (status == ReadStatus.Malformed) return Fail(reader.Error, reader.ErrorOffset, out length, out error, out errorOffset);
            if (total > int.MaxValue) return Fail(BitstreamError.NalTooLongForLengthSize, 0, out length, out error, out errorOffset);
            length = (int)total;
            error = BitstreamError.None;
            errorOffset = 0;
            return ReadStatus.Success;
        }

        /// <summary>
        /// Writes <paramref name="source"/>, reframed to <paramref name="to"/>, into <paramref name="destination"/>.
        /// Nothing is written when the source is malformed.
        /// </summary>
        /// <returns><see cref="ReadStatus.Success"/> or <see cref="ReadStatus.Malformed"/> with the error and its offset.</returns>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the converted length.</exception>
        public static ReadStatus TryConvert(ReadOnlySpan<byte> source, VideoCodec codec, NalFraming from, NalFraming to, Span<byte> destination,
            out int bytesWritten, out BitstreamError error, out int errorOffset)
        {
            ReadStatus check = TryGetConvertedLength(source, codec, from, to, out int length, out error, out errorOffset);
            bytesWritten = 0;
            if (check != ReadStatus.Success) return check;
            if (destination.Length < length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), length, destination.Length);
            var reader = new NalUnitReader(source, codec, from);
            while (reader.Read(out NalUnit nal) == ReadStatus.Success)
            {
                // As the length pass: an empty unit has nothing to frame (its start code or zero prefix is not counted).
                if (nal.Length == 0) continue;
                bytesWritten += WriteFramed(nal.GetBytes(source), to, destination.Slice(bytesWritten));
            }
            return ReadStatus.Success;
        }

        /// <summary>Writes one NAL unit with the framing of <paramref name="to"/> and returns the bytes written.</summary>
        /// <exception cref="ArgumentException">
        /// <paramref name="destination"/> is too short, or <paramref name="nal"/> is too long for the length prefix.
        /// </exception>
        public static int WriteFramed(ReadOnlySpan<byte> nal, NalFraming to, Span<byte> destination)
        {
            int needed = to.PrefixSize + nal.Length;
            if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), needed, destination.Length);
            if (nal.Length > to.MaxNalLength) ThrowHelper.ThrowArgument(nameof(nal), $"A NAL unit of {nal.Length} bytes does not fit {to}.");
            switch (to.LengthSize)
            {
                case 0: AnnexB.WriteStartCode(destination); break;
                case 1: destination[0] = (byte)nal.Length; break;
                case 2: BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)nal.Length); break;
                default: BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)nal.Length); break;
            }
            nal.CopyTo(destination.Slice(to.PrefixSize));
            return needed;
        }

        private static ReadStatus Fail(BitstreamError what, int where, out int length, out BitstreamError error, out int errorOffset)
        {
            length = 0;
            error = what;
            errorOffset = where;
            return ReadStatus.Malformed;
        }
    }
}
