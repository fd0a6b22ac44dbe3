using System;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// The DER SubjectPublicKeyInfo of a P-256 key, read and written by hand so that loading a key never needs the
/// runtime's ECDsa (Mono has none). RFC 5280 4.1.2.7 with RFC 5480 2:
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

    private static readonly byte[] EcPublicKeyOid = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01 };
    private static readonly byte[] P256Oid = { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 };

    private const byte Sequence = 0x30;
    private const byte ObjectIdentifier = 0x06;
    private const byte BitString = 0x03;
    private const byte Uncompressed = 0x04;

    /// <summary>Reads the public point of a P-256 SubjectPublicKeyInfo that fills <paramref name="der"/> exactly.</summary>
    /// <exception cref="FormatException">Not a P-256 SubjectPublicKeyInfo; the message names the offset.</exception>
    internal static (byte[] X, byte[] Y) Read(ReadOnlySpan<byte> der)
    {
        var pos = 0;
        var outer = ReadHeader(der, ref pos, Sequence, "SubjectPublicKeyInfo SEQUENCE");
        if (pos + outer != der.Length)
            throw new FormatException($"the SubjectPublicKeyInfo at offset 0 declares {outer} content bytes but {der.Length - pos} follow its header");
        var algorithm = ReadHeader(der, ref pos, Sequence, "AlgorithmIdentifier SEQUENCE");
        var algorithmEnd = pos + algorithm;
        var oidAt = pos;
        var oid = ReadContent(der, ref pos, ObjectIdentifier, "algorithm OID");
        if (!oid.SequenceEqual(EcPublicKeyOid))
            throw new FormatException($"not an EC public key: algorithm OID {FormatOid(oid)} at offset {oidAt}, expected 1.2.840.10045.2.1 (id-ecPublicKey)");
        var curveAt = pos;
        if (curveAt < der.Length && der[curveAt] != ObjectIdentifier)
            throw new FormatException($"the EC parameters at offset {curveAt} are not a named curve (tag 0x{der[curveAt]:X2}): CatEvening uses P-256");
        var curve = ReadContent(der, ref pos, ObjectIdentifier, "curve OID");
        if (!curve.SequenceEqual(P256Oid))
            throw new FormatException($"the key is on curve {FormatOid(curve)} (offset {curveAt}): CatEvening uses P-256 (1.2.840.10045.3.1.7)");
        if (pos != algorithmEnd) throw new FormatException($"{algorithmEnd - pos} unexpected bytes in the AlgorithmIdentifier at offset {pos}");
        var keyAt = pos;
        var key = ReadContent(der, ref pos, BitString, "subjectPublicKey BIT STRING");
        if (key.Length == 0 || key[0] != 0) throw new FormatException($"the BIT STRING at offset {keyAt} has unused bits");
        var point = key.Slice(1);
        if (point.Length == 0 || point[0] != Uncompressed)
            throw new FormatException($"the public point at offset {keyAt + 3} is not in uncompressed form (first byte {(point.Length == 0 ? "missing" : "0x" + point[0].ToString("X2", System.Globalization.CultureInfo.InvariantCulture))}, expected 0x04)");
        if (point.Length != 1 + 2 * EcdsaP256.CoordinateLength)
            throw new FormatException($"the public point at offset {keyAt + 3} has {point.Length} bytes, a P-256 point has 65");
        return (point.Slice(1, EcdsaP256.CoordinateLength).ToArray(), point.Slice(1 + EcdsaP256.CoordinateLength).ToArray());
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

    private static ReadOnlySpan<byte> ReadContent(ReadOnlySpan<byte> der, ref int pos, byte tag, string what)
    {
        var length = ReadHeader(der, ref pos, tag, what);
        var content = der.Slice(pos, length);
        pos += length;
        return content;
    }

    /// <summary>Reads a tag and a definite length (short form, or long form of one or two bytes: enough for 91 bytes);
    /// checks the length against what remains before returning it.</summary>
    private static int ReadHeader(ReadOnlySpan<byte> der, ref int pos, byte tag, string what)
    {
        var at = pos;
        if (der.Length - pos < 2) throw new FormatException($"the {what} at offset {at} is cut short ({der.Length} bytes in all)");
        if (der[pos] != tag) throw new FormatException($"expected the {what} (tag 0x{tag:X2}) at offset {at}, found tag 0x{der[pos]:X2}");
        int length = der[pos + 1];
        pos += 2;
        if (length >= 0x80)
        {
            var count = length & 0x7F;
            if (count is 0 or > 2 || der.Length - pos < count)
                throw new FormatException($"the {what} at offset {at} has an unsupported or cut-short length");
            length = 0;
            for (var i = 0; i < count; i++) length = (length << 8) | der[pos++];
        }
        if (length > der.Length - pos)
            throw new FormatException($"the {what} at offset {at} declares {length} bytes but only {der.Length - pos} remain");
        return length;
    }

    private static string FormatOid(ReadOnlySpan<byte> oid)
    {
        if (oid.Length == 0) return "(empty)";
        var sb = new System.Text.StringBuilder();
        sb.Append(oid[0] / 40).Append('.').Append(oid[0] % 40);
        long value = 0;
        for (var i = 1; i < oid.Length; i++)
        {
            value = (value << 7) | (uint)(oid[i] & 0x7F);
            if ((oid[i] & 0x80) != 0 && value < (1L << 48)) continue;
            sb.Append('.').Append(value);
            value = 0;
        }
        return sb.ToString();
    }
}
