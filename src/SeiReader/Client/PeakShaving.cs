using System;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Client;

/// <summary>
/// Spreads the requests that an interaction triggers: each viewer waits a deterministic offset inside the cue's
/// spread before calling the server, so that a million phones opening a poll on the same frame do not hit it in
/// the same millisecond. The offset depends only on the viewer id and the cue id, so the server can recompute any
/// viewer's offset (to reject early requests, or to plan capacity) and a viewer gets a different place in each cue.
/// <code>
/// h      = first 8 bytes, big-endian, of SHA-256( UTF-8(cue_id) || 0x00 || UTF-8(viewer_id) )
/// offset = floor( h × spread_us / 2^64 )          (exact 128-bit product; 0 ≤ offset &lt; spread_us)
/// </code>
/// SHA-256 makes h uniform over 64 bits for any set of ids, so offsets are uniform over the spread.
/// </summary>
public static class PeakShaving
{
    /// <summary>The viewer's offset in microseconds, in [0, <paramref name="spreadMicros"/>) (0 when the spread is 0).</summary>
    /// <exception cref="ArgumentException">An id is null or empty, or the spread is negative.</exception>
    public static long OffsetMicros(string viewerId, string cueId, long spreadMicros)
    {
        if (string.IsNullOrEmpty(viewerId)) throw new ArgumentException("must not be empty", nameof(viewerId));
        if (string.IsNullOrEmpty(cueId)) throw new ArgumentException("must not be empty", nameof(cueId));
        if (spreadMicros < 0) throw new ArgumentOutOfRangeException(nameof(spreadMicros), spreadMicros, "must be ≥ 0");
        if (spreadMicros == 0) return 0;
        var cueBytes = Encoding.UTF8.GetByteCount(cueId);
        var input = new byte[cueBytes + 1 + Encoding.UTF8.GetByteCount(viewerId)];
        Encoding.UTF8.GetBytes(cueId, 0, cueId.Length, input, 0);
        Encoding.UTF8.GetBytes(viewerId, 0, viewerId.Length, input, cueBytes + 1);
        byte[] digest;
        using (var sha = SHA256.Create()) digest = sha.ComputeHash(input);
        var h = BinaryPrimitives.ReadUInt64BigEndian(digest);
        return (long)MultiplyHigh(h, (ulong)spreadMicros);
    }

    /// <summary>The viewer's offset for <paramref name="cue"/> (its cue id and spread).</summary>
    public static long OffsetMicros(string viewerId, CueMessage cue)
    {
        if (cue is null) throw new ArgumentNullException(nameof(cue));
        return OffsetMicros(viewerId, cue.CueId, cue.SpreadMicros);
    }

    /// <summary>The high 64 bits of the 128-bit product (Math.BigMul is not in netstandard2.1).</summary>
    internal static ulong MultiplyHigh(ulong a, ulong b)
    {
        ulong aLo = (uint)a, aHi = a >> 32, bLo = (uint)b, bHi = b >> 32;
        var lolo = aLo * bLo;
        var hilo = aHi * bLo;
        var lohi = aLo * bHi;
        var hihi = aHi * bHi;
        var cross = (lolo >> 32) + (uint)hilo + lohi;
        return hihi + (hilo >> 32) + (cross >> 32);
    }
}
