using System;

namespace CatEvening.SeiReader.Client;

/// <summary>
/// Wrap-safe timestamp arithmetic. Timestamps of <c>bits</c> bits live in [0, 2^bits) and wrap: MPEG-TS PTS are
/// 33 bits at 90 kHz (wrap every 26.5 h), RTMP/FLV timestamps 32 bits in milliseconds (every 49.7 days). A
/// difference is taken modulo 2^bits and read as signed, so it is right as long as the true distance is below
/// 2^(bits-1). <c>bits</c> = 64 means no wrapping (plain signed arithmetic, e.g. MP4 or already-unwrapped PTS).
/// </summary>
public static class WrappingTimestamps
{
    /// <summary>Bits of an MPEG-TS PTS/DTS.</summary>
    public const int MpegTsBits = 33;

    /// <summary>Bits of an RTMP/FLV timestamp.</summary>
    public const int FlvBits = 32;

    /// <summary>No wrapping.</summary>
    public const int NoWrap = 64;

    /// <summary><paramref name="a"/> - <paramref name="b"/>, wrap-safe: in [-2^(bits-1), 2^(bits-1)).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 1-62 or 64.</exception>
    public static long Difference(long a, long b, int bits)
    {
        CheckBits(bits);
        if (bits == NoWrap) return a - b;
        var shift = 64 - bits;
        return ((a - b) << shift) >> shift;
    }

    /// <summary><paramref name="timestamp"/> + <paramref name="delta"/>, brought back into [0, 2^bits).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 1-62 or 64.</exception>
    public static long Add(long timestamp, long delta, int bits)
    {
        CheckBits(bits);
        if (bits == NoWrap) return timestamp + delta;
        return (timestamp + delta) & ((1L << bits) - 1);
    }

    /// <summary>Brings any value into [0, 2^bits) (e.g. a 64-bit PTS from a demuxer that already unwrapped it).</summary>
    public static long Wrap(long timestamp, int bits) => Add(timestamp, 0, bits);

    /// <summary>Negative when <paramref name="a"/> is before <paramref name="b"/>, 0 when equal, positive after; wrap-safe.</summary>
    public static int Compare(long a, long b, int bits) => Math.Sign(Difference(a, b, bits));

    private static void CheckBits(int bits)
    {
        if (bits is < 1 or > 62 && bits != NoWrap) throw new ArgumentOutOfRangeException(nameof(bits), bits, "must be 1-62 or 64");
    }
}
