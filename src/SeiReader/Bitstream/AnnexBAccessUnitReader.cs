using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Splits a raw Annex B elementary stream (an <c>.h264</c>/<c>.h265</c> file or a chunk of one) into access
    /// units with <see cref="AccessUnitBoundaryDetector"/>. Each access unit is a slice of the input running from
    /// its first NAL unit's start code to the next access unit's. Never throws on bad bytes.
    /// </summary>
    public ref struct AnnexBAccessUnitReader
    {
        private readonly ReadOnlySpan<byte> _data;
        private readonly VideoCodec _codec;
        private NalUnitReader _nals;
        private AccessUnitBoundaryDetector _detector;
        private int _accessUnitStart;
        private bool _hasPending;
        private bool _done;
        private bool _stalled;

        /// <summary>Creates a reader over <paramref name="data"/>, which begins at an access unit.</summary>
        /// <param name="data">Annex B bytes.</param>
        /// <param name="codec">Their codec.</param>
        /// <param name="isFinalBlock">True when nothing follows <paramref name="data"/>, so that the last access unit ends at its end.</param>
        public AnnexBAccessUnitReader(ReadOnlySpan<byte> data, VideoCodec codec, bool isFinalBlock = true)
        {
            _data = data;
            _codec = codec;
            _nals = new NalUnitReader(data, codec, NalFraming.AnnexB, isFinalBlock);
            _detector = new AccessUnitBoundaryDetector(codec);
            _accessUnitStart = 0;
            _hasPending = false;
            _done = false;
            _stalled = false;
            Error = BitstreamError.None;
            ErrorOffset = 0;
        }

        /// <summary>Offset where the first access unit not yet returned begins; resume there after <see cref="ReadStatus.NeedMoreData"/>.</summary>
        public readonly int BytesConsumed => _done ? _data.Length : _accessUnitStart;

        /// <summary>What was wrong, after <see cref="ReadStatus.Malformed"/>.</summary>
        public BitstreamError Error { get; private set; }

        /// <summary>Offset of the fault, after <see cref="ReadStatus.Malformed"/>.</summary>
        public int ErrorOffset { get; private set; }

        /// <summary>Reads the next access unit.</summary>
        /// <param name="accessUnit">The access unit, start codes included, a slice of the input.</param>
        /// <returns>
        /// <see cref="ReadStatus.Success"/>, <see cref="ReadStatus.EndOfData"/>, <see cref="ReadStatus.NeedMoreData"/>
        /// (the end of the last access unit is not known yet), or <see cref="ReadStatus.Malformed"/>.
        /// </returns>
        public ReadStatus Read(out ReadOnlySpan<byte> accessUnit)
        {
            accessUnit = default;
            if (Error != BitstreamError.None) return ReadStatus.Malformed;
            if (_done) return ReadStatus.EndOfData;
            if (_stalled) return ReadStatus.NeedMoreData;
            int nalsInUnit = _hasPending ? 1 : 0;
            while (true)
            {
                ReadStatus status = _nals.Read(out NalUnit nal);
                if (status == ReadStatus.Success)
                {
                    if (_detector.StartsNewAccessUnit(nal.Header, nal.GetBytes(_data)) && nalsInUnit > 0)
                    {
                        accessUnit = _data.Slice(_accessUnitStart, nal.FramedOffset - _accessUnitStart);
                        _accessUnitStart = nal.FramedOffset;
                        _hasPending = true;
                        return ReadStatus.Success;
                    }
                    nalsInUnit++;
                    continue;
                }
                if (status == ReadStatus.EndOfData)
                {
                    _done = true;
                    if (nalsInUnit == 0) return ReadStatus.EndOfData;
                    accessUnit = _data.Slice(_accessUnitStart);
                    return ReadStatus.Success;
                }
                if (status == ReadStatus.Malformed)
                {
                    Error = _nals.Error;
                    ErrorOffset = _nals.ErrorOffset;
                }
                else if (nalsInUnit > 0 && PendingStartsNewAccessUnit())
                {
                    int end = _nals.BytesConsumed;
                    accessUnit = _data.Slice(_accessUnitStart, end - _accessUnitStart);
                    _accessUnitStart = end;
                    _stalled = true;
                    return ReadStatus.Success;
                }
                return status;
            }
        }

        // The NAL unit cut off by the end of the chunk: its first bytes may already show that it opens the next
        // access unit, which ends the current one. The detector is copied so that a retry sees it unchanged.
        private readonly bool PendingStartsNewAccessUnit()
        {
            int offset = _nals.PendingNalOffset;
            if (offset < 0) return false;
            ReadOnlySpan<byte> head = _data.Slice(offset);
            int headerLength = NalHeader.GetLength(_codec);
            if (head.Length <= headerLength) return false;
            if (NalHeader.TryRead(_codec, head, out NalHeader header, out _) != ReadStatus.Success) return false;
            AccessUnitBoundaryDetector detector = _detector;
            return detector.StartsNewAccessUnit(header, head.Slice(0, headerLength + 1));
        }
    }
}
