using System;
using System.Buffers.Binary;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>Which H.265 SEI NAL unit type to write.</summary>
    public enum SeiNalKind
    {
        /// <summary>Prefix SEI: H.264 type 6, H.265 type 39. Goes before the first coded slice.</summary>
        Prefix,

        /// <summary>H.265 suffix SEI (type 40). Goes after the coded slices; not defined in H.264.</summary>
        Suffix,
    }

    /// <summary>
    /// Writes one complete, framed SEI NAL unit holding one or more <c>sei_message()</c>s, with emulation prevention
    /// and <c>rbsp_trailing_bits()</c>, into a caller span:
    /// <code>
    /// framing (00 00 00 01, or a 1/2/4-byte big-endian length) | NAL header (H.264: 06; H.265: 4E 01 / 50 01)
    /// | escaped( sei_message( ) ... ) | 80
    /// </code>
    /// Call <see cref="WriteMessage"/> once per message, then <see cref="Complete"/>. A writer made by
    /// <see cref="CreateMeasuring"/> writes nothing and counts the exact bytes the same calls would write.
    /// </summary>
    public ref struct SeiNalWriter
    {
        private const byte TrailingBitsByte = 0x80;
        private readonly Span<byte> _destination;
        private readonly NalFraming _framing;
        private readonly bool _measuring;
        private int _position;
        private int _zeros;
        private int _messages;
        private bool _completed;

        /// <summary>Starts an SEI NAL unit in <paramref name="destination"/>: writes the framing placeholder and the NAL header.</summary>
        /// <param name="destination">Where the NAL unit goes; measure first with <see cref="CreateMeasuring"/> for the exact size.</param>
        /// <param name="codec">H.264 or H.265.</param>
        /// <param name="framing">Annex B (4-byte start code) or length-prefixed.</param>
        /// <param name="kind">Prefix or (H.265 only) suffix SEI.</param>
        /// <param name="temporalId">H.265 TemporalId (0..6), which must equal that of the access unit; ignored for H.264.</param>
        /// <exception cref="ArgumentException">
        /// <paramref name="destination"/> is too short for the framing and header, or suffix SEI was asked of H.264.
        /// </exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="temporalId"/> is outside 0..6.</exception>
        public SeiNalWriter(Span<byte> destination, VideoCodec codec, NalFraming framing, SeiNalKind kind = SeiNalKind.Prefix, int temporalId = 0)
            : this(destination, codec, framing, kind, temporalId, measuring: false)
        {
        }

        private SeiNalWriter(Span<byte> destination, VideoCodec codec, NalFraming framing, SeiNalKind kind, int temporalId, bool measuring)
        {
            if (codec == VideoCodec.H264 && kind == SeiNalKind.Suffix)
                ThrowHelper.ThrowArgument(nameof(kind), "H.264 has no suffix SEI NAL unit.");
            if (temporalId < 0 || temporalId > 6)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(temporalId), "TemporalId is 0..6.");
            _destination = destination;
            _framing = framing;
            _measuring = measuring;
            _zeros = 0;
            _messages = 0;
            _completed = false;
            int header = framing.PrefixSize + NalHeader.GetLength(codec);
            if (!measuring)
            {
                if (destination.Length < header) ThrowHelper.ThrowDestinationTooShort(nameof(destination), header, destination.Length);
                if (framing.IsAnnexB) AnnexB.WriteStartCode(destination);
                NalHeader.WriteSeiHeader(codec, kind == SeiNalKind.Suffix, temporalId, destination.Slice(framing.PrefixSize));
            }
            _position = header;
        }

        /// <summary>A writer that writes nothing and counts: after the same calls, <see cref="Complete"/> returns the exact size.</summary>
        public static SeiNalWriter CreateMeasuring(VideoCodec codec, NalFraming framing, SeiNalKind kind = SeiNalKind.Prefix) =>
            new SeiNalWriter(default, codec, framing, kind, 0, measuring: true);

        /// <summary>Bytes written so far (counted so far, when measuring).</summary>
        public readonly int BytesWritten => _position;

        /// <summary>
        /// The exact size of an SEI NAL unit holding one message of <paramref name="payloadType"/> with
        /// <paramref name="payload"/>, framing included.
        /// </summary>
        public static int GetLength(VideoCodec codec, NalFraming framing, int payloadType, ReadOnlySpan<byte> payload)
        {
            var writer = CreateMeasuring(codec, framing);
            writer.WriteMessage(payloadType, payload);
            return writer.Complete();
        }

        /// <summary>
        /// Writes a whole SEI NAL unit holding one message into <paramref name="destination"/> and returns its size.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="GetLength"/>.</exception>
        public static int Write(VideoCodec codec, NalFraming framing, int payloadType, ReadOnlySpan<byte> payload, Span<byte> destination)
        {
            var writer = new SeiNalWriter(destination, codec, framing);
            writer.WriteMessage(payloadType, payload);
            return writer.Complete();
        }

        /// <summary>Appends one <c>sei_message()</c>: the 0xFF-coded payloadType and payloadSize, then the payload, escaped.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="payloadType"/> is negative.</exception>
        /// <exception cref="ArgumentException">The destination is too short.</exception>
        /// <exception cref="InvalidOperationException"><see cref="Complete"/> was already called.</exception>
        public void WriteMessage(int payloadType, ReadOnlySpan<byte> payload)
        {
            BeginMessage(payloadType, payload.Length);
            PutEscaped(payload);
        }

        /// <summary>
        /// Appends one user_data_unregistered message (payloadType 5) whose payload is <paramref name="uuid"/>
        /// followed by <paramref name="userData"/>, without joining them first.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="uuid"/> is not 16 bytes, or the destination is too short.</exception>
        public void WriteUserDataUnregistered(ReadOnlySpan<byte> uuid, ReadOnlySpan<byte> userData)
        {
            if (uuid.Length != UserDataUnregistered.UuidLength)
                ThrowHelper.ThrowArgument(nameof(uuid), "uuid_iso_iec_11578 is 16 bytes.");
            BeginMessage(SeiPayloadType.UserDataUnregistered, UserDataUnregistered.UuidLength + userData.Length);
            PutEscaped(uuid);
            PutEscaped(userData);
        }

        /// <summary>
        /// Writes <c>rbsp_trailing_bits()</c> (<c>80</c>) and, for length-prefixed framing, the length; returns the
        /// size of the whole framed NAL unit.
        /// </summary>
        /// <exception cref="InvalidOperationException">No message was written, or <see cref="Complete"/> was already called.</exception>
        /// <exception cref="ArgumentException">The destination is too short, or the NAL unit is too long for the length prefix size.</exception>
        public int Complete()
        {
            EnsureOpen();
            if (_messages == 0) throw new InvalidOperationException("An SEI NAL unit holds at least one sei_message().");
            PutRaw(TrailingBitsByte);
            _completed = true;
            long nalLength = _position - _framing.PrefixSize;
            if (!_framing.IsAnnexB)
            {
                if (nalLength > _framing.MaxNalLength)
                    ThrowHelper.ThrowArgument("framing", $"An SEI NAL unit of {nalLength} bytes does not fit a {_framing.LengthSize}-byte length prefix.");
                if (!_measuring)
                {
                    Span<byte> prefix = _destination.Slice(0, _framing.LengthSize);
                    switch (_framing.LengthSize)
                    {
                        case 1: prefix[0] = (byte)nalLength; break;
                        case 2: BinaryPrimitives.WriteUInt16BigEndian(prefix, (ushort)nalLength); break;
                        default: BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)nalLength); break;
                    }
                }
            }
            return _position;
        }

        private void BeginMessage(int payloadType, int payloadSize)
        {
            EnsureOpen();
            if (payloadType < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(payloadType), "SEI payloadType is not negative.");
            PutCodedValue(payloadType);
            PutCodedValue(payloadSize);
            _messages++;
        }

        private void PutCodedValue(int value)
        {
            for (int n = value; n >= 255; n -= 255) PutEscaped(0xFF);
            PutEscaped((byte)(value % 255));
        }

        private void PutEscaped(byte value)
        {
            if (_zeros >= 2 && value <= 3)
            {
                PutRaw(3);
                _zeros = 0;
            }
            PutRaw(value);
            _zeros = value == 0 ? _zeros + 1 : 0;
        }

        private void PutEscaped(ReadOnlySpan<byte> bytes)
        {
            if (_measuring)
            {
                _position += bytes.Length + Rbsp.CountEscapes(bytes, ref _zeros, final: false);
                return;
            }
            int written = Rbsp.EscapeInto(bytes, _destination.Slice(_position), ref _zeros);
            if (written < 0)
                ThrowHelper.ThrowDestinationTooShort("destination", _position + Rbsp.GetEscapedLength(bytes), _destination.Length);
            _position += written;
        }

        private void PutRaw(byte value)
        {
            if (!_measuring)
            {
                if (_position >= _destination.Length) ThrowHelper.ThrowDestinationTooShort("destination", _position + 1, _destination.Length);
                _destination[_position] = value;
            }
            _position++;
        }

        private readonly void EnsureOpen()
        {
            if (_completed) throw new InvalidOperationException("The SEI NAL unit is already complete.");
        }
    }
}
