using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Reads every <c>sei_message()</c> of one SEI RBSP (H.264 7.3.2.3 / H.265 7.3.2.4 <c>sei_rbsp()</c>):
    /// <code>
    /// sei_rbsp( ) { do sei_message( ) while( more_rbsp_data( ) ); rbsp_trailing_bits( ) }
    /// </code>
    /// Messages are byte-aligned, so <c>rbsp_trailing_bits()</c> is the byte <c>80</c>; the reader stops at it.
    /// It also stops, without complaint, at the end of an RBSP that lacks trailing bits.
    /// Never throws on bad bytes.
    /// </summary>
    public ref struct SeiMessageReader
    {
        private const byte TrailingBitsByte = 0x80;
        private readonly ReadOnlySpan<byte> _rbsp;
        private readonly int _lastNonZero;
        private int _position;

        /// <summary>Creates a reader over an SEI RBSP: the NAL unit payload after its header, without emulation prevention bytes.</summary>
        public SeiMessageReader(ReadOnlySpan<byte> rbsp)
        {
            _rbsp = rbsp;
            int last = rbsp.Length - 1;
            while (last >= 0 && rbsp[last] == 0) last--;
            _lastNonZero = last;
            _position = 0;
            Error = BitstreamError.None;
            ErrorOffset = 0;
        }

        /// <summary>Offset in the RBSP of the next message.</summary>
        public readonly int BytesConsumed => _position;

        /// <summary>What was wrong, after <see cref="ReadStatus.Malformed"/>.</summary>
        public BitstreamError Error { get; private set; }

        /// <summary>Offset in the RBSP of the fault, after <see cref="ReadStatus.Malformed"/>.</summary>
        public int ErrorOffset { get; private set; }

        /// <summary>Reads the next message.</summary>
        /// <returns>
        /// <see cref="ReadStatus.Success"/>, <see cref="ReadStatus.EndOfData"/> at the trailing bits, or
        /// <see cref="ReadStatus.Malformed"/> (and the same on every later call).
        /// </returns>
        public ReadStatus Read(out SeiMessage message)
        {
            message = default;
            if (Error != BitstreamError.None) return ReadStatus.Malformed;
            int pos = _position;
            if (pos > _lastNonZero || (pos == _lastNonZero && _rbsp[pos] == TrailingBitsByte))
                return ReadStatus.EndOfData;
            ReadStatus status = SeiPrimitives.TryReadMessageHeader(_rbsp.Slice(pos), out int type, out int size, out int header, out BitstreamError error);
            if (status != ReadStatus.Success)
            {
                Error = error;
                ErrorOffset = pos;
                return status;
            }
            message = new SeiMessage(type, _rbsp.Slice(pos + header, size), pos);
            _position = pos + header + size;
            return ReadStatus.Success;
        }
    }
}
