using System;

namespace CatEvening.SeiReader.Bitstream
{
    /// <summary>
    /// Emulation prevention (H.264 7.4.1 / H.265 7.4.2): inside a NAL unit, the encoder inserts
    /// <c>emulation_prevention_three_byte</c> (<c>03</c>) after every <c>00 00</c> that is followed by a byte
    /// &lt;= <c>03</c>, so that no start code can appear inside a NAL unit. The NAL unit payload with those bytes
    /// is the EBSP; without them, the RBSP.
    /// </summary>
    public static class Rbsp
    {
        private static ReadOnlySpan<byte> EmulationPattern => new byte[] { 0, 0, 3 };

        /// <summary>
        /// The RBSP of <paramref name="ebsp"/>. When it holds no <c>00 00 03</c> this is <paramref name="ebsp"/> itself
        /// (no copy); otherwise the bytes are unescaped into <paramref name="scratch"/> and the result is a slice of it.
        /// </summary>
        /// <param name="ebsp">Escaped bytes (a NAL unit payload, or a whole NAL unit: its header has no <c>00 00</c>).</param>
        /// <param name="scratch">Room for the unescaped bytes; <paramref name="ebsp"/>.Length always suffices.</param>
        /// <param name="rbsp">The unescaped bytes, a slice of <paramref name="ebsp"/> or of <paramref name="scratch"/>.</param>
        /// <returns>False only when bytes had to be removed and <paramref name="scratch"/> is too short.</returns>
        public static bool TryUnescape(ReadOnlySpan<byte> ebsp, Span<byte> scratch, out ReadOnlySpan<byte> rbsp)
        {
            int first = ebsp.IndexOf(EmulationPattern);
            if (first < 0)
            {
                rbsp = ebsp;
                return true;
            }
            int written = UnescapeFrom(ebsp, first, scratch);
            if (written < 0)
            {
                rbsp = default;
                return false;
            }
            rbsp = scratch.Slice(0, written);
            return true;
        }

        /// <summary>
        /// Copies <paramref name="ebsp"/> into <paramref name="destination"/> without its emulation prevention bytes.
        /// </summary>
        /// <returns>Bytes written.</returns>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is too short for the unescaped bytes.</exception>
        public static int Unescape(ReadOnlySpan<byte> ebsp, Span<byte> destination)
        {
            int first = ebsp.IndexOf(EmulationPattern);
            if (first < 0)
            {
                if (destination.Length < ebsp.Length)
                    ThrowHelper.ThrowDestinationTooShort(nameof(destination), ebsp.Length, destination.Length);
                ebsp.CopyTo(destination);
                return ebsp.Length;
            }
            int written = UnescapeFrom(ebsp, first, destination);
            if (written < 0) ThrowHelper.ThrowDestinationTooShort(nameof(destination), ebsp.Length, destination.Length);
            return written;
        }

        /// <summary>True when <paramref name="ebsp"/> holds at least one emulation prevention byte to remove.</summary>
        public static bool HasEmulationPrevention(ReadOnlySpan<byte> ebsp) => ebsp.IndexOf(EmulationPattern) >= 0;

        /// <summary>
        /// The offset in <paramref name="ebsp"/> of the byte at <paramref name="rbspOffset"/> of its unescaped form
        /// (for error reports that name the position in the original bytes).
        /// </summary>
        public static int ToEscapedOffset(ReadOnlySpan<byte> ebsp, int rbspOffset)
        {
            int read = 0;
            int removed = 0;
            while (true)
            {
                int hit = ebsp.Slice(read).IndexOf(EmulationPattern);
                // The 03 of this hit sits at rbsp offset (read - removed) + hit + 2.
                if (hit < 0 || read - removed + hit + 2 > rbspOffset) return rbspOffset + removed;
                read += hit + 3;
                removed++;
            }
        }

        // The 03 of each 00 00 03 is dropped; the zero count restarts after it, so 00 00 03 00 00 03 drops both.
        private static int UnescapeFrom(ReadOnlySpan<byte> ebsp, int first, Span<byte> destination)
        {
            int read = 0;
            int written = 0;
            int hit = first;
            while (hit >= 0)
            {
                int keep = hit + 2;
                if (written + keep > destination.Length) return -1;
                ebsp.Slice(read, keep).CopyTo(destination.Slice(written));
                written += keep;
                read += keep + 1;
                hit = ebsp.Slice(read).IndexOf(EmulationPattern);
            }
            int tail = ebsp.Length - read;
            if (written + tail > destination.Length) return -1;
            ebsp.Slice(read).CopyTo(destination.Slice(written));
            return written + tail;
        }

        /// <summary>
        /// Length of <paramref name="rbsp"/> once escaped by <see cref="Escape"/>: one more byte for every
        /// <c>00 00</c> followed by a byte &lt;= <c>03</c>, and for a final <c>00 00</c> (H.264 7.4.1: an RBSP ending in
        /// <c>cabac_zero_word</c> gets a final <c>03</c>).
        /// </summary>
        public static int GetEscapedLength(ReadOnlySpan<byte> rbsp)
        {
            int zeros = 0;
            return rbsp.Length + CountEscapes(rbsp, ref zeros, final: true);
        }

        /// <summary>
        /// Copies <paramref name="rbsp"/> into <paramref name="destination"/>, inserting an emulation prevention byte
        /// <c>03</c> after each <c>00 00</c> that is followed by a byte &lt;= <c>03</c> or ends the data.
        /// </summary>
        /// <returns>Bytes written, equal to <see cref="GetEscapedLength"/>.</returns>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="GetEscapedLength"/>.</exception>
        public static int Escape(ReadOnlySpan<byte> rbsp, Span<byte> destination)
        {
            int zeros = 0;
            int written = EscapeInto(rbsp, destination, ref zeros);
            if (written < 0 || (zeros >= 2 && written >= destination.Length))
                ThrowHelper.ThrowDestinationTooShort(nameof(destination), GetEscapedLength(rbsp), destination.Length);
            if (zeros >= 2) destination[written++] = 3;
            return written;
        }

        /// <summary>
        /// Escapes <paramref name="rbsp"/> into <paramref name="destination"/> as the continuation of earlier bytes that
        /// ended in <paramref name="zeros"/> zero bytes (0, 1 or 2+); updates <paramref name="zeros"/>. Returns -1
        /// when <paramref name="destination"/> is too short.
        /// </summary>
        internal static int EscapeInto(ReadOnlySpan<byte> rbsp, Span<byte> destination, ref int zeros)
        {
            int written = 0;
            for (int i = 0; i < rbsp.Length; i++)
            {
                byte b = rbsp[i];
                if (zeros >= 2 && b <= 3)
                {
                    if (written >= destination.Length) return -1;
                    destination[written++] = 3;
                    zeros = 0;
                }
                if (written >= destination.Length) return -1;
                destination[written++] = b;
                zeros = b == 0 ? zeros + 1 : 0;
            }
            return written;
        }

        /// <summary>Counts the bytes <see cref="EscapeInto"/> would insert; with <paramref name="final"/>, counts the final <c>03</c> too.</summary>
        internal static int CountEscapes(ReadOnlySpan<byte> rbsp, ref int zeros, bool final)
        {
            int count = 0;
            for (int i = 0; i < rbsp.Length; i++)
            {
                byte b = rbsp[i];
                if (zeros >= 2 && b <= 3)
                {
                    count++;
                    zeros = 0;
                }
                zeros = b == 0 ? zeros + 1 : 0;
            }
            if (final && zeros >= 2) count++;
            return count;
        }
    }
}
