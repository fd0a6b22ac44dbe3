using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// One user_data_unregistered SEI payload (H.264 D.1.7 / H.265 D.2.7):
    /// <code>
    /// user_data_unregistered( payloadSize ) {
    ///   uuid_iso_iec_11578              u(128)
    ///   for( i = 16; i &lt; payloadSize; i++ ) user_data_payload_byte   b(8)
    /// }
    /// </code>
    /// Every span is a slice of the access unit or of the caller's scratch buffer, never a copy.
    /// </summary>
    public readonly ref struct UserDataUnregistered
    {
        /// <summary>Bytes of <c>uuid_iso_iec_11578</c>.</summary>
        public const int UuidLength = 16;

        private UserDataUnregistered(ReadOnlySpan<byte> payload, int nalOffset)
        {
            Payload = payload;
            NalOffset = nalOffset;
        }

        /// <summary>The whole SEI payload: the 16-byte UUID followed by the user data.</summary>
        public ReadOnlySpan<byte> Payload { get; }

        /// <summary>The 16 bytes of <c>uuid_iso_iec_11578</c>, in stream order.</summary>
        public ReadOnlySpan<byte> Uuid => Payload.Slice(0, UuidLength);

        /// <summary>The <c>user_data_payload_byte</c>s after the UUID (may be empty).</summary>
        public ReadOnlySpan<byte> UserData => Payload.Slice(UuidLength);

        /// <summary>Offset in the access unit of the SEI NAL unit (its header) that carried this payload.</summary>
        public int NalOffset { get; }

        /// <summary>Views an SEI payload of type 5 as a user_data_unregistered message.</summary>
        /// <returns>False when <paramref name="payload"/> is shorter than the 16-byte UUID.</returns>
        public static bool TryCreate(ReadOnlySpan<byte> payload, int nalOffset, out UserDataUnregistered message)
        {
            if (payload.Length < UuidLength)
            {
                message = default;
                return false;
            }
            message = new UserDataUnregistered(payload, nalOffset);
            return true;
        }
    }
}
