using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>One <c>sei_message()</c>: its type and its payload, a slice of the SEI RBSP it was read from.</summary>
    public readonly ref struct SeiMessage
    {
        /// <summary>Creates a message record.</summary>
        public SeiMessage(int payloadType, ReadOnlySpan<byte> payload, int offset)
        {
            PayloadType = payloadType;
            Payload = payload;
            Offset = offset;
        }

        /// <summary><c>payloadType</c> (see <see cref="SeiPayloadType"/>).</summary>
        public int PayloadType { get; }

        /// <summary>The <c>payloadSize</c> bytes of <c>sei_payload()</c>, unescaped.</summary>
        public ReadOnlySpan<byte> Payload { get; }

        /// <summary>Offset of the message's first <c>payloadType</c> byte in the SEI RBSP.</summary>
        public int Offset { get; }
    }
}
