using System;
using System.Buffers.Binary;

#if NET
namespace CatEvening.SeiReader.Security;

/// <summary>
/// Arithmetic modulo the P-256 group order n (SEC 2 §2.4.2) on 256-bit scalars held as four 64-bit limbs,
/// least significant first, in Montgomery form where the name says so (x·R mod n, R = 2^256). Montgomery
/// multiplication is the CIOS method (Koç, Acar, Kaliski, "Analyzing and Comparing Montgomery Multiplication
/// Algorithms", IEEE Micro 1996). Everything works on caller-provided spans: no allocation, and the caller can wipe
/// every intermediate (these are nonces and private-key products). No branch depends on a secret value (the
/// inversion's exponent, n − 2, is public).
/// Used by <see cref="NoncePool"/> for ECDSA signing with nonces computed ahead (FIPS 186-4 §6.4).
/// </summary>
internal static class P256Scalar
{
    /// <summary>Limbs of a scalar.</summary>
    internal const int Limbs = 4;

    /// <summary>n, least significant limb first.</summary>
    private static ReadOnlySpan<ulong> N => [0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000];

    /// <summary>−n⁻¹ mod 2^64: the Montgomery constant for n's lowest limb.</summary>
    internal const ulong NPrime = 0xccd1c8aaee00bc4f;

    /// <summary>R² mod n (R = 2^256): turns a scalar into Montgomery form by one multiplication.</summary>
    private static ReadOnlySpan<ulong> RSquared => [0x83244c95be79eea2, 0x4699799c49bd6fa6, 0x2845b2392b6bec59, 0x66e12d94f3d95620];

    /// <summary>Reads a 32-byte big-endian scalar into limbs. The value is not reduced.</summary>
    internal static void FromBigEndian(ReadOnlySpan<byte> bytes, Span<ulong> limbs)
    {
        for (var i = 0; i < Limbs; i++)
            limbs[i] = BinaryPrimitives.ReadUInt64BigEndian(bytes.Slice((Limbs - 1 - i) * 8, 8));
    }

    /// <summary>Writes limbs as a 32-byte big-endian scalar.</summary>
    internal static void ToBigEndian(ReadOnlySpan<ulong> limbs, Span<byte> bytes)
    {
        for (var i = 0; i < Limbs; i++)
            BinaryPrimitives.WriteUInt64BigEndian(bytes.Slice((Limbs - 1 - i) * 8, 8), limbs[i]);
    }

    /// <summary>True when the value is zero (in either form: 0 is 0·R).</summary>
    internal static bool IsZero(ReadOnlySpan<ulong> a) => (a[0] | a[1] | a[2] | a[3]) == 0;

    /// <summary>result = a mod n for any 256-bit a (one conditional subtraction: 2^256 &lt; 2n).</summary>
    internal static void Reduce(ReadOnlySpan<ulong> a, Span<ulong> result) => SubtractNIfNotBelow(a[0], a[1], a[2], a[3], 0, result);

    /// <summary>result = a·b·R⁻¹ mod n, for a &lt; n and b &lt; 2^256 (so a·b &lt; n·R and the result is fully reduced).
    /// <paramref name="result"/> may alias either input.</summary>
    internal static void MontgomeryMultiply(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> result)
    {
        var n = N;
        ulong t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
        for (var i = 0; i < Limbs; i++)
        {
            var bi = b[i];
            // t += a · b[i]
            var c = MultiplyAdd(a[0], bi, t0, 0, out t0);
            c = MultiplyAdd(a[1], bi, t1, c, out t1);
            c = MultiplyAdd(a[2], bi, t2, c, out t2);
            c = MultiplyAdd(a[3], bi, t3, c, out t3);
            t4 += c;
            var t5 = t4 < c ? 1UL : 0UL;
            // t = (t + m · n) / 2^64, with m chosen so the lowest limb becomes zero
            var m = unchecked(t0 * NPrime);
            c = MultiplyAdd(m, n[0], t0, 0, out _);
            c = MultiplyAdd(m, n[1], t1, c, out t0);
            c = MultiplyAdd(m, n[2], t2, c, out t1);
            c = MultiplyAdd(m, n[3], t3, c, out t2);
            t3 = t4 + c;
            t4 = t5 + (t3 < c ? 1UL : 0UL);
        }
        SubtractNIfNotBelow(t0, t1, t2, t3, t4, result);
    }

    /// <summary>result = a·R mod n (into Montgomery form), for any 256-bit a.</summary>
    internal static void ToMontgomery(ReadOnlySpan<ulong> a, Span<ulong> result)
    {
        Span<ulong> reduced = stackalloc ulong[Limbs];
        Reduce(a, reduced);
        MontgomeryMultiply(reduced, RSquared, result);
        reduced.Clear();
    }

    /// <summary>result = a⁻¹ in Montgomery form (a⁻¹·R mod n), for a in Montgomery form (a·R mod n), a ≠ 0:
    /// Fermat, a^(n−2), by square-and-multiply over the public exponent.</summary>
    internal static void InvertMontgomery(ReadOnlySpan<ulong> aMontgomery, Span<ulong> result)
    {
        Span<ulong> acc = stackalloc ulong[Limbs];
        // R mod n = 2^256 − n: Montgomery form of 1.
        SubtractFromZero(N, acc);
        var n = N;
        for (var limb = Limbs - 1; limb >= 0; limb--)
        {
            var e = limb == 0 ? n[0] - 2 : n[limb]; // n − 2: n's lowest limb is odd and ≥ 2, so no borrow
            for (var bit = 63; bit >= 0; bit--)
            {
                MontgomeryMultiply(acc, acc, acc);
                if (((e >> bit) & 1) != 0) MontgomeryMultiply(acc, aMontgomery, acc);
            }
        }
        acc.CopyTo(result);
        acc.Clear();
    }

    /// <summary>result = (a + b) mod n for a, b &lt; n.</summary>
    internal static void AddModN(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, Span<ulong> result)
    {
        var s0 = a[0] + b[0];
        var c = s0 < a[0] ? 1UL : 0UL;
        var s1 = AddWithCarry(a[1], b[1], ref c);
        var s2 = AddWithCarry(a[2], b[2], ref c);
        var s3 = AddWithCarry(a[3], b[3], ref c);
        SubtractNIfNotBelow(s0, s1, s2, s3, c, result);
    }

    private static ulong AddWithCarry(ulong a, ulong b, ref ulong carry)
    {
        var s = a + b;
        var c1 = s < a ? 1UL : 0UL;
        var r = s + carry;
        carry = c1 | (r < s ? 1UL : 0UL);
        return r;
    }

    // hi:lo = a·b + t + c (cannot overflow 128 bits: (2^64−1)² + 2(2^64−1) = 2^128 − 1).
    private static ulong MultiplyAdd(ulong a, ulong b, ulong t, ulong c, out ulong lo)
    {
        var hi = Math.BigMul(a, b, out var low);
        low += t;
        hi += low < t ? 1UL : 0UL;
        low += c;
        hi += low < c ? 1UL : 0UL;
        lo = low;
        return hi;
    }

    // result = t − n when the 320-bit t = (t4:t3:t2:t1:t0) ≥ n, else t; t < 2n. Selected by mask, not by branch.
    private static void SubtractNIfNotBelow(ulong t0, ulong t1, ulong t2, ulong t3, ulong t4, Span<ulong> result)
    {
        var n = N;
        ulong borrow = 0;
        var d0 = SubtractWithBorrow(t0, n[0], ref borrow);
        var d1 = SubtractWithBorrow(t1, n[1], ref borrow);
        var d2 = SubtractWithBorrow(t2, n[2], ref borrow);
        var d3 = SubtractWithBorrow(t3, n[3], ref borrow);
        // t ≥ n exactly when the 320-bit subtraction does not borrow: t4 − borrow ≥ 0.
        var keepT = unchecked(0UL - (borrow & ~t4 & 1UL)); // all ones when t < n
        result[0] = (t0 & keepT) | (d0 & ~keepT);
        result[1] = (t1 & keepT) | (d1 & ~keepT);
        result[2] = (t2 & keepT) | (d2 & ~keepT);
        result[3] = (t3 & keepT) | (d3 & ~keepT);
    }

    private static ulong SubtractWithBorrow(ulong a, ulong b, ref ulong borrow)
    {
        var d = a - b;
        var b1 = a < b ? 1UL : 0UL;
        var r = d - borrow;
        borrow = b1 | (d < borrow ? 1UL : 0UL);
        return r;
    }

    private static void SubtractFromZero(ReadOnlySpan<ulong> a, Span<ulong> result)
    {
        ulong borrow = 0;
        for (var i = 0; i < Limbs; i++) result[i] = SubtractWithBorrow(0, a[i], ref borrow);
    }
}
#endif
