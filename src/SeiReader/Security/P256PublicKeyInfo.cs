using System;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// The DER SubjectPublicKeyInfo of a P-256 key, read (by <see cref="P256KeyDer"/>) and written by hand so that
/// loading a key never needs the runtime's ECDsa (Mono has none). RFC 5280 4.1.2.7 with RFC 5480 2:
/// <code>
/// SubjectPublicKeyInfo ::= SEQUENCE {                 30 59
///   algorithm AlgorithmIdentifier ::= SEQUENCE {      30 13
///     algorithm  OID id-ecPublicKey 1.2.840.10045.2.1   06 07 2A 86 48 CE 3D 02 01
///     parameters OID secp256r1 1.2.840.10045.3.1.7      06 08 2A 86 48 CE 3D 03 01 07 }
///   subjectPublicKey BIT STRING                       03 42 00 (no unused bits)
///     ECPoint, uncompressed (SEC 1 2.3.3)             04 X(32) Y(32) }
/// </code>
/// 91 bytes. Only the uncompressed point form is accepted: it is what OpenSSL and .NET write.
/// </summary>
internal static class P256PublicKeyInfo
{
    internal const int Length = 91;

    private const byte Sequence = 0x30;
    private const byte ObjectIdentifier = 0x06;
    private const byte BitString = 0x03;
    private const byte Uncompressed = 0x04;

    /// <summary>Reads the public point of a P-256 SubjectPublicKeyInfo that fills <paramref name="der"/> exactly
    /// (<see cref="P256KeyDer.ReadSubjectPublicKeyInfo"/>: the one DER reader of this library; the point is checked
    /// to be on the curve).</summary>
    /// <exception cref="KeyFormatException">Not a P-256 SubjectPublicKeyInfo; the message names the offset.</exception>
    internal static (byte[] X, byte[] Y) Read(ReadOnlySpan<byte> der)
    {
        var key = P256KeyDer.ReadSubjectPublicKeyInfo(der);
        return (key.X, key.Y);
    }

    /// <summary>The 91-byte SubjectPublicKeyInfo of the point (<paramref name="x"/>, <paramref name="y"/>).</summary>
    internal static byte[] Write(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var der = new byte[Length];
        byte[] header =
        {
            Sequence, 0x59, Sequence, 0x13, ObjectIdentifier, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
            ObjectIdentifier, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, BitString, 0x42, 0x00, Uncompressed,
        };
        header.CopyTo(der, 0);
        x.CopyTo(der.AsSpan(header.Length));
        y.CopyTo(der.AsSpan(header.Length + EcdsaP256.CoordinateLength));
        return der;
    }
}
