using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Walks every user_data_unregistered payload (SEI payloadType 5) of an access unit, in either framing and in
    /// every SEI NAL unit (H.264 type 6; H.265 prefix 39 and suffix 40), without allocating.
    /// </summary>
    /// <remarks>
    /// The walk does only the work its results need, so that a caller may stop at any payload (a reader whose checks
    /// of the access unit are closed) having paid for the bytes up to it and no more: an SEI NAL unit is read message by
    /// message in place; its end (Annex B: the next start code) is searched only as far as the messages read need,
    /// and emulation prevention bytes are removed only from the payloads returned, never from a whole NAL unit.
    /// Payloads are slices of the access unit, or of <c>scratch</c> when their bytes hold emulation prevention bytes;
    /// each is unescaped into the part of <c>scratch</c> at its own offset, so every payload stays valid until the
    /// caller reuses <c>scratch</c>.
    /// Errors: a malformed SEI NAL unit or message gives <see cref="ReadStatus.Malformed"/> once; the next
    /// <see cref="Read"/> goes on with the following SEI NAL unit (a message too short for its UUID is skipped alone).
    /// A malformed NAL unit framing stops the walk: every later call returns <see cref="ReadStatus.Malformed"/>.
    /// The results are those of <see cref="NalUnitReader"/>, <see cref="Rbsp.TryUnescape"/> and
    /// <see cref="SeiMessageReader"/> over the whole NAL unit, payload for payload and error for error.
    /// </remarks>
    public ref struct UserDataUnregisteredReader
    {
        private const byte TrailingBitsByte = 0x80;
        private const byte EmulationPreventionByte = 3;
        private const int FirstScanLength = 64;
        private const int MaxScanLength = 1 << 20;

        private readonly ReadOnlySpan<byte> _accessUnit;
        private readonly Span<byte> _scratch;
        private readonly bool _annexB;
        private NalUnitReader _nals;

        // The SEI NAL unit being walked. Its escaped bytes (EBSP) are read in place from _position; _zeros counts the zero
        // bytes just before _position, which tells an emulation prevention byte (00 00 03) apart from data.
        private bool _inSei;
        private bool _endSearched; // Annex B: found by this walk, so the NAL unit reader must be moved past it afterwards
        private int _nalOffset;
        private int _contentStart;
        private int _position;
        private int _zeros;
        private int _contentEnd;   // end of the unit's bytes (Annex B: its trailing zero bytes excluded); -1 until known
        private int _startCode;    // Annex B: offset of the 00 00 01 after the unit, or the access unit's length
        private int _known;        // Annex B, while _contentEnd is unknown: every byte before this is inside the unit
        private int _searched;     // Annex B, while _contentEnd is unknown: no start code ends before this
        private int _scanLength;
        private int _nonZeroAt;    // escaped offset of an RBSP byte other than zero at or after _position, or -1
        private bool _framingBroken;

        /// <summary>Creates a walk over one access unit.</summary>
        /// <param name="accessUnit">A whole access unit (a demuxed packet).</param>
        /// <param name="codec">Its codec.</param>
        /// <param name="framing">Its framing.</param>
        /// <param name="scratch">Room to unescape payloads into: at least <paramref name="accessUnit"/>.Length bytes.</param>
        /// <exception cref="ArgumentException"><paramref name="scratch"/> is shorter than <paramref name="accessUnit"/>.</exception>
        public UserDataUnregisteredReader(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing, Span<byte> scratch)
        {
            if (scratch.Length < accessUnit.Length)
                ThrowHelper.ThrowDestinationTooShort(nameof(scratch), accessUnit.Length, scratch.Length);
            _accessUnit = accessUnit;
            _scratch = scratch;
            _annexB = framing.IsAnnexB;
            _nals = new NalUnitReader(accessUnit, codec, framing);
            _inSei = false;
            _endSearched = false;
            _nalOffset = 0;
            _contentStart = 0;
            _position = 0;
            _zeros = 0;
            _contentEnd = -1;
            _startCode = 0;
            _known = 0;
            _searched = 0;
            _scanLength = FirstScanLength;
            _nonZeroAt = -1;
            _framingBroken = false;
            Error = BitstreamError.None;
            ErrorOffset = 0;
        }

        /// <summary>What was wrong, after <see cref="ReadStatus.Malformed"/>.</summary>
        public BitstreamError Error { get; private set; }

        /// <summary>Offset in the access unit of the fault, after <see cref="ReadStatus.Malformed"/>.</summary>
        public int ErrorOffset { get; private set; }

        /// <summary>
        /// False once the NAL unit framing itself is broken: the walk cannot find the next NAL unit and every later
        /// <see cref="Read"/> returns <see cref="ReadStatus.Malformed"/>. True after a malformed SEI NAL unit or
        /// message, or a NAL unit whose header is unreadable (<see cref="NalUnit.HeaderError"/>), which the next
        /// <see cref="Read"/> skips.
        /// </summary>
        public readonly bool CanContinue => !_framingBroken;

        /// <summary>The last error as one sentence naming the offset.</summary>
        public readonly string DescribeError() => BitstreamException.Describe(Error, ErrorOffset);

        /// <summary>Reads the next user_data_unregistered payload.</summary>
        /// <returns><see cref="ReadStatus.Success"/>, <see cref="ReadStatus.EndOfData"/> or <see cref="ReadStatus.Malformed"/>.</returns>
        public ReadStatus Read(out UserDataUnregistered message)
        {
            message = default;
            if (_framingBroken) return ReadStatus.Malformed;
            while (true)
            {
                if (_inSei)
                {
                    ReadStatus status = ReadMessage(out int type, out ReadOnlySpan<byte> payload, out int offset);
                    if (status == ReadStatus.Success)
                    {
                        if (type != SeiPayloadType.UserDataUnregistered) continue;
                        if (UserDataUnregistered.TryCreate(payload, _nalOffset, out message)) return ReadStatus.Success;
                        return Fail(BitstreamError.UserDataTooShort, offset);
                    }
                    EndSei();
                    if (status == ReadStatus.Malformed) return ReadStatus.Malformed;
                    continue;
                }

                if (_annexB)
                {
                    // An SEI NAL unit is walked from its header on; any other unit is skipped by the full reader below.
                    ReadStatus peek = _nals.PeekAnnexBHeader(out int start, out NalHeader header);
                    if (peek == ReadStatus.EndOfData) return ReadStatus.EndOfData;
                    if (peek == ReadStatus.Success && header.IsSei)
                    {
                        BeginSei(start, start + header.Length, contentEnd: -1);
                        continue;
                    }
                }
                ReadStatus nalStatus = _nals.Read(out NalUnit nal);
                if (nalStatus == ReadStatus.EndOfData) return ReadStatus.EndOfData;
                if (nalStatus != ReadStatus.Success)
                {
                    _framingBroken = true;
                    Error = _nals.Error;
                    ErrorOffset = _nals.ErrorOffset;
                    return ReadStatus.Malformed;
                }
                if (nal.HeaderError != BitstreamError.None)
                {
                    // Its header is unreadable (an encoder's broken unit; it could have been an SEI): counted as malformed,
                    // and the walk goes on with the next unit, which the framing still finds.
                    Error = nal.HeaderError;
                    ErrorOffset = nal.Offset;
                    return ReadStatus.Malformed;
                }
                if (!nal.Header.IsSei) continue;
                BeginSei(nal.Offset, nal.Offset + nal.Header.Length, nal.Offset + nal.Length);
            }
        }

        private void BeginSei(int nalOffset, int contentStart, int contentEnd)
        {
            _inSei = true;
            _endSearched = contentEnd < 0;
            _nalOffset = nalOffset;
            _contentStart = contentStart;
            _position = contentStart;
            _zeros = 0;
            _contentEnd = contentEnd;
            _known = contentStart;
            _searched = contentStart;
            _scanLength = FirstScanLength;
            _nonZeroAt = -1;
        }

        private void EndSei()
        {
            _inSei = false;
            if (!_endSearched) return;
            while (_contentEnd < 0) SearchEnd();
            _nals.SkipAnnexBNal(_startCode);
        }

        // H.264 7.3.2.3.1 / H.265 7.3.5 sei_message(), read from the escaped bytes at _position. The end of the messages
        // is where SeiMessageReader puts it: the trailing bits byte 80 followed by zero bytes only, or zero bytes only.
        private ReadStatus ReadMessage(out int type, out ReadOnlySpan<byte> payload, out int offset)
        {
            type = 0;
            payload = default;
            offset = _position;
            if (!TryPeek(out byte first)) return ReadStatus.EndOfData;
            offset = _position;
            if (first == 0 && RestIsZero()) return ReadStatus.EndOfData;
            if (first == TrailingBitsByte)
            {
                int position = _position, zeros = _zeros, nonZeroAt = _nonZeroAt;
                Advance(first);
                bool end = RestIsZero();
                _position = position;
                _zeros = zeros;
                _nonZeroAt = nonZeroAt;
                if (end) return ReadStatus.EndOfData;
            }

            if (!TryReadCodedValue(out long payloadType)) return Fail(BitstreamError.TruncatedSeiPayloadType, offset);
            if (!TryReadCodedValue(out long size)) return Fail(BitstreamError.TruncatedSeiPayloadSize, offset);
            // Every RBSP byte takes at least one escaped byte: a size beyond the bytes left cannot fit.
            if (size > _accessUnit.Length - _position) return Fail(BitstreamError.SeiPayloadPastEnd, offset);
            type = (int)Math.Min(payloadType, int.MaxValue);
            if (!TryReadPayload((int)size, copy: type == SeiPayloadType.UserDataUnregistered, out payload))
                return Fail(BitstreamError.SeiPayloadPastEnd, offset);
            return ReadStatus.Success;
        }

        private bool TryReadCodedValue(out long value)
        {
            value = 0;
            while (TryPeek(out byte b))
            {
                Advance(b);
                value += b;
                if (b != 0xFF) return true;
            }
            return false;
        }

        // The next `size` RBSP bytes: a slice of the access unit when they hold no emulation prevention byte, else
        // unescaped into scratch at their own offset (an unescaped payload is never longer than its escaped bytes, so
        // payloads never overlap there).
        private bool TryReadPayload(int size, bool copy, out ReadOnlySpan<byte> payload)
        {
            payload = default;
            if (size == 0)
            {
                payload = _accessUnit.Slice(_position, 0);
                return true;
            }
            if (!TryPeek(out _)) return false;
            int start = _position;
            if (start + size <= _accessUnit.Length && IsContent(start + size - 1))
            {
                int behind = Math.Min(_zeros, 2);
                ReadOnlySpan<byte> escaped = _accessUnit.Slice(start - behind, size + behind);
                if (!Rbsp.HasEmulationPrevention(escaped))
                {
                    payload = _accessUnit.Slice(start, size);
                    _position = start + size;
                    int trailing = 0;
                    while (trailing < size && payload[size - 1 - trailing] == 0) trailing++;
                    _zeros = trailing == size ? _zeros + size : trailing;
                    return true;
                }
            }
            int written = start;
            for (int i = 0; i < size; i++)
            {
                if (!TryPeek(out byte b)) return false;
                Advance(b);
                if (copy) _scratch[written++] = b;
            }
            if (copy) payload = _scratch.Slice(start, size);
            return true;
        }

        // The RBSP byte at _position, an emulation prevention byte before it skipped; false at the end of the unit.
        private bool TryPeek(out byte value)
        {
            value = 0;
            if (!IsContent(_position)) return false;
            byte b = _accessUnit[_position];
            if (b == EmulationPreventionByte && _zeros >= 2)
            {
                _position++;
                _zeros = 0;
                if (!IsContent(_position)) return false;
                b = _accessUnit[_position];
            }
            value = b;
            return true;
        }

        private void Advance(byte value)
        {
            _position++;
            _zeros = value == 0 ? _zeros + 1 : 0;
        }

        // True when every RBSP byte from _position to the end of the unit is zero (more_rbsp_data() is false). The first
        // other byte found is remembered, so a run of zero bytes is looked at once however many messages start in it.
        private bool RestIsZero()
        {
            if (_nonZeroAt >= _position) return false;
            int q = _position;
            int zeros = _zeros;
            while (IsContent(q))
            {
                byte b = _accessUnit[q];
                if (b == EmulationPreventionByte && zeros >= 2)
                {
                    zeros = 0;
                }
                else if (b != 0)
                {
                    _nonZeroAt = q;
                    return false;
                }
                else
                {
                    zeros++;
                }
                q++;
            }
            return true;
        }

        // Whether escaped offset q lies inside the unit. Annex B units end at the next start code, less the zero bytes
        // before it (NalUnitReader's rule); that end is searched in growing steps, only as far as asked.
        private bool IsContent(int q)
        {
            while (true)
            {
                if (_contentEnd >= 0) return q < _contentEnd;
                if (q < _known) return true;
                SearchEnd();
            }
        }

        private void SearchEnd()
        {
            int from = _searched;
            int to = (int)Math.Min(_accessUnit.Length, (long)from + _scanLength);
            _scanLength = Math.Min(MaxScanLength, _scanLength * 2);
            // A start code may straddle the previous step's end: look two bytes back.
            int searchFrom = Math.Max(_contentStart, from - 2);
            int found = AnnexB.IndexOfStartCode(_accessUnit.Slice(searchFrom, to - searchFrom));
            if (found >= 0 || to == _accessUnit.Length)
            {
                int startCode = found >= 0 ? searchFrom + found : _accessUnit.Length;
                int end = startCode;
                while (end > _contentStart && _accessUnit[end - 1] == 0) end--;
                _startCode = startCode;
                _contentEnd = end;
                return;
            }
            // No start code up to `to`: every byte before the last non-zero one seen is inside the unit.
            int last = to - 1;
            while (last >= from && _accessUnit[last] == 0) last--;
            if (last >= from) _known = last + 1;
            _searched = to;
        }

        private ReadStatus Fail(BitstreamError error, int offset)
        {
            Error = error;
            ErrorOffset = offset;
            return ReadStatus.Malformed;
        }
    }
}
