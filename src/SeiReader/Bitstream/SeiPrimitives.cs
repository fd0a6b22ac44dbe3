using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Span primitives of the SEI message header (H.264 7.3.2.3.1 / H.265 7.3.5 <c>sei_message()</c>):
    /// <code>
    /// payloadType = 0
    /// do { last_payload_type_byte u(8); payloadType += last_payload_type_byte } while (last_payload_type_byte == 0xFF)
    /// payloadSize = 0
    /// do { last_payload_size_byte u(8); payloadSize += last_payload_size_byte } while (last_payload_size_byte == 0xFF)
    /// sei_payload( payloadType, payloadSize )
    /// </code>
    /// So 254 is <c>FE</c>, 255 is <c>FF 00</c>, 256 is <c>FF 01</c>, 510 is <c>FF FF 00</c>.
    /// </summary>
    public static class SeiPrimitives
    {
        private const byte Continue = 0xFF;

        /// <summary>Reads one 0xFF-coded value (<c>payloadType</c> or <c>payloadSize</c>) at the start of <paramref name="rbsp"/>.</summary>
        /// <returns>False when <paramref name="rbsp"/> ends inside the value.</returns>
        public static bool TryReadCodedValue(ReadOnlySpan<byte> rbsp, out long value, out int bytesConsumed)
        {
            value = 0;
            for (int i = 0; i < rbsp.Length; i++)
            {
                byte b = rbsp[i];
                value += b;
                if (b != Continue)
                {
                    bytesConsumed = i + 1;
                    return true;
                }
            }
            bytesConsumed = 0;
            return false;
        }

        /// <summary>
        /// Reads the <c>payloadType</c> and <c>payloadSize</c> of the <c>sei_message()</c> at the start of
        /// <paramref name="rbsp"/> and checks the payload fits in the bytes left.
        /// </summary>
        /// <param name="rbsp">Unescaped SEI RBSP from the message's first byte on.</param>
        /// <param name="payloadType">The message's payloadType.</param>
        /// <param name="payloadSize">The message's payloadSize, at most the bytes left after the header.</param>
        /// <param name="headerLength">Bytes of payloadType and payloadSize coding.</param>
        /// <param name="error">
        /// <see cref="BitstreamError.TruncatedSeiPayloadType"/>, <see cref="BitstreamError.TruncatedSeiPayloadSize"/>
        /// or <see cref="BitstreamError.SeiPayloadPastEnd"/> when the result is <see cref="ReadStatus.Malformed"/>.
        /// </param>
        public static ReadStatus TryReadMessageHeader(ReadOnlySpan<byte> rbsp, out int payloadType, out int payloadSize, out int headerLength, out BitstreamError error)
        {
            payloadType = 0;
            payloadSize = 0;
            headerLength = 0;
            if (!TryReadCodedValue(rbsp, out long type, out int typeLength))
            {
                error = BitstreamError.TruncatedSeiPayloadType;
                return ReadStatus.Malformed;
            }
            if (!TryReadCodedValue(rbsp.Slice(typeLength), out long size, out int sizeLength))
            {
                error = BitstreamError.TruncatedSeiPayloadSize;
                return ReadStatus.Malformed;
            }
            int header = typeLength + sizeLength;
            if (size > rbsp.Length - header)
            {
                error = BitstreamError.SeiPayloadPastEnd;
                return ReadStatus.Malformed;
            }
            // type <= 255 * rbsp.Length fits in an int only for short inputs: clamp the hostile case.
            payloadType = (int)Math.Min(type, int.MaxValue);
            payloadSize = (int)size;
            headerLength = header;
            error = BitstreamError.None;
            return ReadStatus.Success;
        }

        /// <summary>Bytes the 0xFF coding of <paramref name="value"/> takes: <c>value / 255 + 1</c>.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
        public static int GetCodedValueLength(int value)
        {
            if (value < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(value), "SEI payloadType and payloadSize are not negative.");
            return value / 255 + 1;
        }

        /// <summary>Writes the 0xFF coding of <paramref name="value"/>: <c>while (n &gt;= 255) { FF; n -= 255 } n</c>.</summary>
        /// <returns>Bytes written, <see cref="GetCodedValueLength"/>.</returns>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
        public static int WriteCodedValue(int value, Span<byte> destination)
        {
            int length = GetCodedValueLength(value);
            if (destination.Length < length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), length, destination.Length);
            int i = 0;
            for (int n = value; n >= 255; n -= 255) destination[i++] = Continue;
            destination[i] = (byte)(value % 255);
            return length;
        }
    }
}
