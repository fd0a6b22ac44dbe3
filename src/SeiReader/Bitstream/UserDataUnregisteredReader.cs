using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Walks every user_data_unregistered payload (SEI payloadType 5) of an access unit, in either framing and in
    /// every SEI NAL unit (H.264 type 6; H.265 prefix 39 and suffix 40), without allocating.
    /// </summary>
    /// <remarks>
    /// Payloads are slices of the access unit, or of <c>scratch</c> when their SEI NAL unit holds emulation
    /// prevention bytes; each SEI NAL unit is unescaped into the part of <c>scratch</c> at its own offset, so every
    /// payload stays valid until the caller reuses <c>scratch</c>.
    /// Errors: a malformed SEI NAL unit or message gives <see cref="ReadStatus.Malformed"/> once; the next
    /// <see cref="Read"/> goes on with the following SEI NAL unit (a message too short for its UUID is skipped alone).
    /// A malformed NAL unit framing stops the walk: every later call returns <see cref="ReadStatus.Malformed"/>.
    /// </remarks>
    public ref struct UserDataUnregisteredReader
    {
        private readonly ReadOnlySpan<byte> _accessUnit;
        private readonly Span<byte> _scratch;
        private NalUnitReader _nals;
        private SeiMessageReader _messages;
        private ReadOnlySpan<byte> _ebsp;
        private int _ebspOffset;
        private int _nalOffset;
        private bool _inSei;
        private bool _framingBroken;

        /// <summary>Creates a walk over one access unit.</summary>
        /// <param name="accessUnit">A whole access unit (a demuxed packet).</param>
        /// <param name="codec">Its codec.</param>
        /// <param name="framing">Its framing.</param>
        /// <param name="scratch">Room to unescape SEI NAL units into: at least <paramref name="accessUnit"/>.Length bytes.</param>
        /// <exception cref="ArgumentException"><paramref name="scratch"/> is shorter than <paramref name="accessUnit"/>.</exception>
        public UserDataUnregisteredReader(ReadOnlySpan<byte> accessUnit, VideoCodec codec, NalFraming framing, Span<byte> scratch)
        {
            if (scratch.Length < accessUnit.Length)
                ThrowHelper.ThrowDestinationTooShort(nameof(scratch), accessUnit.Length, scratch.Length);
            _accessUnit = accessUnit;
            _scratch = scratch;
            _nals = new NalUnitReader(accessUnit, codec, framing);
            _messages = default;
            _ebsp = default;
            _ebspOffset = 0;
            _nalOffset = 0;
            _inSei = false;
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
        /// message, which the next <see cref="Read"/> skips.
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
                    ReadStatus status = _messages.Read(out SeiMessage sei);
                    if (status == ReadStatus.Success)
                    {
                        if (sei.PayloadType != SeiPayloadType.UserDataUnregistered) continue;
                        if (UserDataUnregistered.TryCreate(sei.Payload, _nalOffset, out message)) return ReadStatus.Success;
                        return Fail(BitstreamError.UserDataTooShort, MapOffset(sei.Offset));
                    }
                    _inSei = false;
                    if (status == ReadStatus.Malformed) return Fail(_messages.Error, MapOffset(_messages.ErrorOffset));
                    continue;
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
                if (!nal.Header.IsSei) continue;

                _nalOffset = nal.Offset;
                _ebspOffset = nal.Offset + nal.Header.Length;
                _ebsp = _accessUnit.Slice(_ebspOffset, nal.Length - nal.Header.Length);
                Rbsp.TryUnescape(_ebsp, _scratch.Slice(_ebspOffset, _ebsp.Length), out ReadOnlySpan<byte> rbsp);
                _messages = new SeiMessageReader(rbsp);
                _inSei = true;
            }
        }

        private ReadStatus Fail(BitstreamError error, int offset)
        {
            Error = error;
            ErrorOffset = offset;
            return ReadStatus.Malformed;
        }

        // An RBSP offset maps to the escaped bytes by adding the emulation prevention bytes removed before it.
        private readonly int MapOffset(int rbspOffset) => _ebspOffset + Rbsp.ToEscapedOffset(_ebsp, rbspOffset);
    }
}
