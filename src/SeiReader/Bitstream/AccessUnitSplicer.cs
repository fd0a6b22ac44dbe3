using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Inserts a framed SEI NAL unit into an access unit (a demuxed packet) right before its first coded slice:
    /// after the AUD, the parameter sets and any SEI already there (H.264 7.4.1.2.3, H.265 7.4.2.4.4 order), never
    /// before an AUD, and never into an access unit without a coded slice (an SEI-only access unit breaks WebRTC
    /// paths). The original bytes are copied around it unchanged.
    /// </summary>
    public static class AccessUnitSplicer
    {
        /// <summary>
        /// Finds where an SEI NAL unit goes: the framed offset (start code or length prefix) of the first coded
        /// slice (or of the H.264 prefix NAL unit heading it). Annex B data is examined only up to that slice's
        /// header; length prefixes are all checked. Never throws.
        /// </summary>
        /// <param name="accessUnit">The whole access unit.</param>
        /// <param name="codec">Its codec.</param>
        /// <param name="framing">Its framing.</param>
        /// <param name="offset">Insertion offset in <paramref name="accessUnit"/>.</param>
        /// <param name="firstSlice">Header of the first coded slice (its TemporalId is the access unit's).</param>
        /// <param name="error">Why there is no insertion point.</param>
        /// <param name="errorOffset">Offset of the fault; for <see cref="BitstreamError.NoVclNalUnit"/>, the access unit length.</param>
        /// <returns><see cref="ReadStatus.Success"/> or <see cref="ReadStatus.Malformed"/>.</returns>
        public static ReadStatus TryFindInsertionPoint(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing,
            out int offset, out NalHeader firstSlice, out BitstreamError error, out int errorOffset)
        {
            return framing.IsAnnexB
                ? FindAnnexB(accessUnit, codec, out offset, out firstSlice, out error, out errorOffset)
                : FindLengthPrefixed(accessUnit, codec, framing, out offset, out firstSlice, out error, out errorOffset);
        }

        /// <summary>
        /// Writes <paramref name="accessUnit"/> with <paramref name="seiNal"/> inserted into <paramref name="destination"/>.
        /// When the access unit cannot be parsed or holds no coded slice, the original bytes are copied instead and
        /// the result says why, naming the offset. For H.265 the inserted NAL unit's TemporalId is set to the access
        /// unit's (H.265 7.4.2.2 requires it). Never throws on bad access unit bytes.
        /// </summary>
        /// <param name="accessUnit">The access unit to splice into.</param>
        /// <param name="codec">Its codec.</param>
        /// <param name="framing">Its framing, which <paramref name="seiNal"/> must share.</param>
        /// <param name="seiNal">Exactly one framed prefix SEI NAL unit, as <see cref="SeiNalWriter"/> writes it.</param>
        /// <param name="destination">At least <paramref name="accessUnit"/>.Length + <paramref name="seiNal"/>.Length bytes.</param>
        /// <exception cref="ArgumentException">
        /// <paramref name="destination"/> is too short, or <paramref name="seiNal"/> is not one prefix SEI NAL unit in <paramref name="framing"/>.
        /// </exception>
        public static SpliceResult Splice(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing, ReadOnlySpan<byte> seiNal, Span<byte> destination)
        {
            int needed = accessUnit.Length + seiNal.Length;
            if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), needed, destination.Length);
            int seiHeaderOffset = CheckSeiNal(seiNal, codec, framing);

            if (TryFindInsertionPoint(accessUnit, codec, framing, out int offset, out NalHeader firstSlice, out BitstreamError error, out int errorOffset) != ReadStatus.Success)
            {
                accessUnit.CopyTo(destination);
                return new SpliceResult(accessUnit.Length, -1, error, errorOffset);
            }

            accessUnit.Slice(0, offset).CopyTo(destination);
            seiNal.CopyTo(destination.Slice(offset));
            accessUnit.Slice(offset).CopyTo(destination.Slice(offset + seiNal.Length));
            if (codec == VideoCodec.H265)
            {
                int at = offset + seiHeaderOffset + 1;
                destination[at] = (byte)((destination[at] & 0xF8) | (firstSlice.TemporalId + 1));
            }
            return new SpliceResult(needed, offset, BitstreamError.None, 0);
        }

        private static int CheckSeiNal(ReadOnlySpan<byte> seiNal, VideoCodec codec, NalFraming framing)
        {
            var reader = new NalUnitReader(seiNal, codec, framing);
            if (reader.Read(out NalUnit nal) != ReadStatus.Success || !nal.Header.IsPrefixSei || nal.FramedOffset != 0 ||
                reader.Read(out _) != ReadStatus.EndOfData)
                ThrowHelper.ThrowArgument(nameof(seiNal), $"Expected exactly one framed prefix SEI NAL unit ({framing}).");
            return nal.Offset;
        }

        private static ReadStatus FindAnnexB(ReadOnlySpan<byte> au, VideoCodec codec,
            out int offset, out NalHeader firstSlice, out BitstreamError error, out int errorOffset)
        {
            offset = -1;
            firstSlice = default;
            int startCode = AnnexB.IndexOfStartCode(au);
            for (int i = 0; i < (startCode < 0 ? au.Length : startCode); i++)
            {
                if (au[i] != 0) return Fail(BitstreamError.MissingStartCode, i, out error, out errorOffset);
            }
            while (startCode >= 0)
            {
                int start = startCode + AnnexB.ShortStartCodeLength;
                ReadOnlySpan<byte> rest = au.Slice(start);
                // An empty unit or one with a malformed header is passed over, as NalUnitReader and FFmpeg's parser do:
                // the start codes still frame what follows, and it stays in the access unit as it came.
                if (!IsEmptyNal(rest) && NalHeader.TryRead(codec, rest, out NalHeader header, out _) == ReadStatus.Success && header.StartsPictureData)
                {
                    offset = startCode > 0 && au[startCode - 1] == 0 ? startCode - 1 : startCode;
                    firstSlice = header;
                    error = BitstreamError.None;
                    errorOffset = 0;
                    return ReadStatus.Success;
                }
                int next = AnnexB.IndexOfStartCode(rest);
                startCode = next < 0 ? -1 : start + next;
            }
            return Fail(BitstreamError.NoVclNalUnit, au.Length, out error, out errorOffset);
        }

        // Bytes after a start code form an empty NAL unit when only zeros lie before the next start code or the end.
        private static bool IsEmptyNal(ReadOnlySpan<byte> rest)
        {
            int zeros = 0;
            while (zeros < rest.Length && rest[zeros] == 0) zeros++;
            return zeros == rest.Length || (zeros >= 2 && rest[zeros] == 1);
        }

        private static ReadStatus FindLengthPrefixed(ReadOnlySpan<byte> au, VideoCodec codec, NalFraming framing,
            out int offset, out NalHeader firstSlice, out BitstreamError error, out int errorOffset)
        {
            offset = -1;
            firstSlice = default;
            var reader = new NalUnitReader(au, codec, framing);
            ReadStatus status;
            while ((status = reader.Read(out NalUnit nal)) == ReadStatus.Success)
            {
                if (offset < 0 && nal.Header.StartsPictureData)
                {
                    offset = nal.FramedOffset;
                    firstSlice = nal.Header;
                }
            }
            if (status == ReadStatus.Malformed)
            {
                offset = -1;
                return Fail(reader.Error, reader.ErrorOffset, out error, out errorOffset);
            }
            if (offset < 0) return Fail(BitstreamError.NoVclNalUnit, au.Length, out error, out errorOffset);
            error = BitstreamError.None;
            errorOffset = 0;
            return ReadStatus.Success;
        }

        private static ReadStatus Fail(BitstreamError what, int where, out BitstreamError error, out int errorOffset)
        {
            error = what;
            errorOffset = where;
            return ReadStatus.Malformed;
        }
    }
}
