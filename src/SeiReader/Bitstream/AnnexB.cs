using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Span primitives of the Annex B byte stream (H.264 Annex B, H.265 Annex B):
    /// <code>
    /// byte_stream_nal_unit( ):  leading_zero_8bits* | zero_byte? | start_code_prefix_one_3bytes (00 00 01)
    ///                           | nal_unit( ) | trailing_zero_8bits*
    /// </code>
    /// </summary>
    public static class AnnexB
    {
        /// <summary>Length of <c>start_code_prefix_one_3bytes</c>.</summary>
        public const int ShortStartCodeLength = 3;

        /// <summary>Length of <c>zero_byte</c> + <c>start_code_prefix_one_3bytes</c>, the form the writers use.</summary>
        public const int LongStartCodeLength = 4;

        private static ReadOnlySpan<byte> StartCodePrefix => new byte[] { 0, 0, 1 };

        private static ReadOnlySpan<byte> LongStartCode => new byte[] { 0, 0, 0, 1 };

        /// <summary>
        /// Finds the next <c>00 00 01</c> in <paramref name="data"/> (vectorized on .NET 8 and later).
        /// </summary>
        /// <returns>The offset of the first <c>00</c> of the 3-byte prefix, or -1.</returns>
        public static int IndexOfStartCode(ReadOnlySpan<byte> data) => data.IndexOf(StartCodePrefix);

        /// <summary>True when <paramref name="data"/> begins with a start code after optional zero bytes.</summary>
        public static bool StartsWithStartCode(ReadOnlySpan<byte> data)
        {
            int zeros = 0;
            while (zeros < data.Length && data[zeros] == 0) zeros++;
            return zeros >= 2 && zeros < data.Length && data[zeros] == 1;
        }

        /// <summary>Writes <c>00 00 00 01</c> and returns 4.</summary>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 4 bytes.</exception>
        public static int WriteStartCode(Span<byte> destination)
        {
            if (destination.Length < LongStartCodeLength)
                ThrowHelper.ThrowDestinationTooShort(nameof(destination), LongStartCodeLength, destination.Length);
            LongStartCode.CopyTo(destination);
            return LongStartCodeLength;
        }
    }
}
