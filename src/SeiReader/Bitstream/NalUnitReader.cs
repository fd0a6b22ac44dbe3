using System;
using System.Buffers.Binary;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Walks the NAL units of a buffer in either framing, without copying or allocating. Each
    /// <see cref="Read"/> yields the next <see cref="NalUnit"/> (offsets into the buffer plus the parsed header).
    /// Never throws on bad bytes. A unit whose header is malformed (or that is empty) while the framing around it is
    /// sound is returned with <see cref="NalUnit.HeaderError"/> set, and the walk goes on past it, as FFmpeg's parser
    /// skips such a unit; broken framing (bytes before the first start code, a length prefix past the end) is a
    /// <see cref="ReadStatus.Malformed"/> result that leaves <see cref="Error"/> and <see cref="ErrorOffset"/> set, and
    /// every later call returns the same result.
    /// </summary>
    /// <remarks>
    /// Annex B: 3- and 4-byte start codes, leading and trailing zero bytes (not part of any NAL unit). A NAL unit
    /// ends at the next start code, or at the end of the buffer when <c>isFinalBlock</c> is true (a demuxed packet
    /// is always complete). Length-prefixed: every length is checked against the bytes left before it is used.
    /// </remarks>
    public ref struct NalUnitReader
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly VideoCodec _codec;
        private readonly int _lengthSize;
        private readonly bool _isFinalBlock;
        private int _next;
        private int _nextFramed;
        private bool _started;
        private bool _done;

        /// <summary>Creates a reader over <paramref name="data"/>.</summary>
        /// <param name="data">NAL units in <paramref name="framing"/>.</param>
        /// <param name="codec">Codec whose NAL unit header syntax applies.</param>
        /// <param name="framing">Annex B or length-prefixed.</param>
        /// <param name="isFinalBlock">
        /// True when no bytes follow <paramref name="data"/> (a whole packet or file); false for a chunk of a longer
        /// stream, where the last NAL unit is reported as <see cref="ReadStatus.NeedMoreData"/> instead.
        /// </param>
        public NalUnitReader(ReadOnlySpan<byte> data, VideoCodec codec, NalFraming framing, bool isFinalBlock = true)
        {
            _data = data;
            _codec = codec;
            _lengthSize = framing.LengthSize;
            _isFinalBlock = isFinalBlock;
            _next = 0;
            _nextFramed = 0;
            _started = false;
            _done = false;
            Error = BitstreamError.None;
            ErrorOffset = 0;
            BytesNeeded = 0;
        }

        /// <summary>
        /// Offset in the buffer where the first NAL unit not yet returned begins (its start code or length prefix):
        /// after <see cref="ReadStatus.NeedMoreData"/>, resume from here with more bytes.
        /// </summary>
        public readonly int BytesConsumed => _done ? _data.Length : _nextFramed;

        /// <summary>
        /// After <see cref="ReadStatus.NeedMoreData"/>: the least number of bytes to add (exact for length prefixes;
        /// 1 for Annex B, whose NAL units end only at the next start code).
        /// </summary>
        public int BytesNeeded { get; private set; }

        /// <summary>
        /// After <see cref="ReadStatus.NeedMoreData"/> on Annex B: offset of the header of the NAL unit whose end is not
        /// known yet, or -1. Its header may already tell where an access unit ends.
        /// </summary>
        internal readonly int PendingNalOffset => _started && !_done && _lengthSize == 0 ? _next : -1;

        /// <summary>What was wrong, after <see cref="ReadStatus.Malformed"/>.</summary>
        public BitstreamError Error { get; private set; }

        /// <summary>Offset in the buffer of the fault, after <see cref="ReadStatus.Malformed"/>.</summary>
        public int ErrorOffset { get; private set; }

        /// <summary>Reads the next NAL unit.</summary>
        /// <returns>
        /// <see cref="ReadStatus.Success"/> with <paramref name="nal"/> set; <see cref="ReadStatus.EndOfData"/>;
        /// <see cref="ReadStatus.NeedMoreData"/> (only when not the final block); <see cref="ReadStatus.Malformed"/>.
        /// </returns>
        public ReadStatus Read(out NalUnit nal)
        {
            nal = default;
            if (Error != BitstreamError.None) return ReadStatus.Malformed;
            if (_done) return ReadStatus.EndOfData;
            return _lengthSize == 0 ? ReadAnnexB(out nal) : ReadLengthPrefixed(out nal);
        }

        /// <summary>The error, if any, as one sentence naming the offset.</summary>
        public readonly string DescribeError() => BitstreamException.Describe(Error, ErrorOffset);

        /// <summary>
        /// Annex B, whole buffers only: the header of the next NAL unit, read without looking for the unit's end (a
        /// scan of its bytes), for a walk that reads the unit itself and then calls <see cref="SkipAnnexBNal"/>.
        /// </summary>
        /// <param name="start">Offset of the NAL unit header.</param>
        /// <param name="header">The parsed header.</param>
        /// <returns>
        /// <see cref="ReadStatus.Success"/>; <see cref="ReadStatus.EndOfData"/> or <see cref="ReadStatus.Malformed"/> as
        /// <see cref="Read"/> would return them; <see cref="ReadStatus.NeedMoreData"/> when the header cannot be judged
        /// without the unit's end (a zero byte inside it, or too few bytes): call <see cref="Read"/> instead, which
        /// reads the same unit.
        /// </returns>
        internal ReadStatus PeekAnnexBHeader(out int start, out NalHeader header)
        {
            start = 0;
            header = default;
            if (Error != BitstreamError.None) return ReadStatus.Malformed;
            if (_done) return ReadStatus.EndOfData;
            if (!_isFinalBlock || _lengthSize != 0) return ReadStatus.NeedMoreData;
            ReadStatus started = StartAnnexB();
            if (started != ReadStatus.Success) return started;
            start = _next;
            int headerLength = NalHeader.GetLength(_codec);
            if (_data.Length - start < headerLength) return ReadStatus.NeedMoreData;
            ReadOnlySpan<byte> bytes = _data.Slice(start, headerLength);
            // A header byte of zero could be the start of trailing zeros or of the next start code: only the full walk can tell.
            for (int i = 0; i < bytes.Length; i++)
                if (bytes[i] == 0) return ReadStatus.NeedMoreData;
            return NalHeader.TryRead(_codec, bytes, out header, out _) == ReadStatus.Success ? ReadStatus.Success : ReadStatus.NeedMoreData;
        }

        /// <summary>
        /// After <see cref="PeekAnnexBHeader"/>: moves past that NAL unit, whose end the caller found: <paramref name="startCode"/>
        /// is the offset of the <c>00 00 01</c> that follows it (the first one after its header), or the buffer's length.
        /// The reader is then where <see cref="Read"/> would have left it.
        /// </summary>
        internal void SkipAnnexBNal(int startCode)
        {
            if (startCode >= _data.Length)
            {
                _done = true;
                return;
            }
            // A zero byte just before 00 00 01 is the zero_byte of a 4-byte start code: it frames the next NAL unit.
            _nextFramed = _data[startCode - 1] == 0 ? startCode - 1 : startCode;
            _next = startCode + AnnexB.ShortStartCodeLength;
        }

        private ReadStatus StartAnnexB()
        {
            if (_started) return ReadStatus.Success;
            int first = AnnexB.IndexOfStartCode(_data);
            int garbage = IndexOfNonZero(first < 0 ? _data : _data.Slice(0, first));
            if (garbage >= 0) return Fail(BitstreamError.MissingStartCode, garbage);
            if (first < 0)
            {
                if (!_isFinalBlock) return NeedMore(1);
                _done = true;
                return ReadStatus.EndOfData;
            }
            _started = true;
            _next = first + AnnexB.ShortStartCodeLength;
            return ReadStatus.Success;
        }

        private ReadStatus ReadAnnexB(out NalUnit nal)
        {
            nal = default;
            ReadStatus started = StartAnnexB();
            if (started != ReadStatus.Success) return started;

            int start = _next;
            int found = AnnexB.IndexOfStartCode(_data.Slice(start));
            int end;
            if (found < 0)
            {
                if (!_isFinalBlock) return NeedMore(1);
                end = _data.Length;
            }
            else
            {
                end = start + found;
            }

            int nalEnd = end;
            while (nalEnd > start && _data[nalEnd - 1] == 0) nalEnd--;
            // An empty unit or a malformed header: the start codes still frame the next unit, which is read as usual.
            nal = NalHeader.TryRead(_codec, _data.Slice(start, nalEnd - start), out NalHeader header, out BitstreamError error) == ReadStatus.Success
                ? new NalUnit(_nextFramed, start, nalEnd - start, header)
                : new NalUnit(_nextFramed, start, nalEnd - start, NalHeader.Unreadable(_codec), error);
            if (found < 0)
            {
                _done = true;
            }
            else
            {
                // A zero byte just before 00 00 01 is the zero_byte of a 4-byte start code: it frames the next NAL unit.
                _nextFramed = end > nalEnd ? end - 1 : end;
                _next = end + AnnexB.ShortStartCodeLength;
            }
            return ReadStatus.Success;
        }

        private ReadStatus ReadLengthPrefixed(out NalUnit nal)
        {
            nal = default;
            int pos = _next;
            int left = _data.Length - pos;
            if (left == 0)
            {
                _done = true;
                return ReadStatus.EndOfData;
            }
            if (left < _lengthSize)
                return _isFinalBlock ? Fail(BitstreamError.TruncatedLengthPrefix, pos) : NeedMore(_lengthSize - left);

            ReadOnlySpan<byte> prefix = _data.Slice(pos, _lengthSize);
            long length = _lengthSize switch
            {
                1 => prefix[0],
                2 => BinaryPrimitives.ReadUInt16BigEndian(prefix),
                _ => BinaryPrimitives.ReadUInt32BigEndian(prefix),
            };
            long available = left - _lengthSize;
            if (length > available)
                return _isFinalBlock ? Fail(BitstreamError.LengthPastEnd, pos) : NeedMore((int)Math.Min(int.MaxValue, length - available));

            int start = pos + _lengthSize;
            int n = (int)length;
            // An empty unit (length 0) or a malformed header: the length still frames the next unit.
            nal = NalHeader.TryRead(_codec, _data.Slice(start, n), out NalHeader header, out BitstreamError error) == ReadStatus.Success
                ? new NalUnit(pos, start, n, header)
                : new NalUnit(pos, start, n, NalHeader.Unreadable(_codec), error);
            _next = start + n;
            _nextFramed = _next;
            return ReadStatus.Success;
        }

        private ReadStatus Fail(BitstreamError error, int offset)
        {
            Error = error;
            ErrorOffset = offset;
            return ReadStatus.Malformed;
        }

        private ReadStatus NeedMore(int bytes)
        {
            BytesNeeded = bytes;
            return ReadStatus.NeedMoreData;
        }

        private static int IndexOfNonZero(ReadOnlySpan<byte> data)
        {
            for (int i = 0; i < data.Length; i++)
                if (data[i] != 0) return i;
            return -1;
        }
    }
}
