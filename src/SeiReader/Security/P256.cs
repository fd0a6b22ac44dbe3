using System;
using System.Numerics;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// The NIST P-256 facts this library checks itself, the same whichever verifier backend runs (SEC 2 §2.4.2,
/// FIPS 186-4 D.1.2.3): the curve y² = x³ − 3x + b over GF(p), the group order n, and the low-s rule.
/// </summary>
internal static class P256
{
    /// <summary>Bytes of a field element or scalar.</summary>
    internal const int ScalarLength = 32;

    /// <summary>The group order n, big-endian.</summary>
    internal static ReadOnlySpan<byte> Order => new byte[]
    {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    };

    /// <summary>⌊n / 2⌋, big-endian: the largest s a canonical (low-s) signature may have.</summary>
    internal static ReadOnlySpan<byte> HalfOrder => new byte[]
    {
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
    };

    private static readonly BigInteger P = Parse("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    private static readonly BigInteger B = Parse("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
    private static readonly BigInteger N = Parse("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

    /// <summary>True when the 32-byte big-endian <paramref name="s"/> is at most ⌊n / 2⌋. ECDSA accepts s and n − s
    /// alike for the same message (malleability); CatEvening signers write the low one and readers refuse the other.</summary>
    internal static bool IsLowS(ReadOnlySpan<byte> s) => s.Length == ScalarLength && s.SequenceCompareTo(HalfOrder) <= 0;

    /// <summary>Replaces s (the second half of a 64-byte P1363 signature) by n − s when s is above ⌊n / 2⌋.</summary>
    internal static void NormalizeToLowS(Span<byte> signature)
    {
        var s = signature.Slice(ScalarLength, ScalarLength);
        if (IsLowS(s)) return;
        var borrow = 0;
        for (var i = ScalarLength - 1; i >= 0; i--)
        {
            var d = Order[i] - s[i] - borrow;
            borrow = d < 0 ? 1 : 0;
            s[i] = (byte)d;
        }
    }

    /// <summary>True when (x, y), 32 bytes big-endian each, is a point of P-256 (not the point at infinity).</summary>
    internal static bool IsOnCurve(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        if (x.Length != ScalarLength || y.Length != ScalarLength) return false;
        var bx = FromBigEndian(x);
        var by = FromBigEndian(y);
        if (bx >= P || by >= P) return false;
        var left = by * by % P;
        var right = ((bx * bx % P * bx - 3 * bx + B) % P + P) % P;
        return left == right;
    }

    /// <summary>True when the big-endian scalar <paramref name="d"/> is in [1, n − 1].</summary>
    internal static bool IsValidPrivateScalar(ReadOnlySpan<byte> d)
    {
        var v = FromBigEndian(d);
        return v > BigInteger.Zero && v < N;
    }

    private static BigInteger FromBigEndian(ReadOnlySpan<byte> bytes)
    {
        // new BigInteger(byte[]) exists on every target (netstandard2.0 included): little-endian, sign byte last.
        var le = new byte[bytes.Length + 1];
        for (var i = 0; i < bytes.Length; i++) le[i] = bytes[bytes.Length - 1 - i];
        return new BigInteger(le);
    }

    private static BigInteger Parse(string hex)
    {
        var bytes = new byte[hex.Length / 2];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
        return FromBigEndian(bytes);
    }
}
