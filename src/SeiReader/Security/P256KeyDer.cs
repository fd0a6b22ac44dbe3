using System;
using System.Globalization;
using System.Text;

namespace CatEvening.SeiReader.Security;

/// <summary>A P-256 public key as parsed from DER: the uncompressed point, checked to be on the curve.</summary>
internal readonly struct P256PublicKey
{
    internal P256PublicKey(byte[] x, byte[] y)
    {
        X = x;
        Y = y;
    }

    /// <summary>The affine X coordinate, 32 bytes big-endian.</summary>
    internal byte[] X { get; }

    /// <summary>The affine Y coordinate, 32 bytes big-endian.</summary>
    internal byte[] Y { get; }
}

/// <summary>A P-256 private key as parsed from DER: the scalar d in [1, n − 1] and, when the file holds it, the public point.</summary>
internal readonly struct P256PrivateKey
{
    internal P256PrivateKey(byte[] d, P256PublicKey? publicKey)
    {
        D = d;
        PublicKey = publicKey;
    }

    /// <summary>The private scalar, 32 bytes big-endian.</summary>
    internal byte[] D { get; }

    /// <summary>The public point written beside it, or null (SEC 1 keys may omit it).</summary>
    internal P256PublicKey? PublicKey { get; }
}

/// <summary>
/// Reads P-256 keys from DER by hand, so that every malformed or unsupported key fails here with one
/// <see cref="KeyFormatException"/> before any platform crypto sees it (platforms throw
/// <c>PlatformNotSupportedException</c> for unknown curves, <c>CryptographicException</c> for broken DER), and so
/// that a second verifier backend can take the same (curve, Q, d). Structures (DER, X.690):
/// <code>
/// SubjectPublicKeyInfo ::= SEQUENCE {                       RFC 5280 4.1.2.7, RFC 5480 2
///     algorithm  SEQUENCE { id-ecPublicKey OID, namedCurve OID },
///     subjectPublicKey BIT STRING  -- 00 | 04 ‖ X(32) ‖ Y(32)
/// }
/// PrivateKeyInfo ::= SEQUENCE {                             RFC 5208 5, RFC 5958 2
///     version INTEGER (0 | 1), privateKeyAlgorithm SEQUENCE { id-ecPublicKey, namedCurve OPTIONAL },
///     privateKey OCTET STRING  -- holds an ECPrivateKey
///     attributes [0] OPTIONAL, publicKey [1] OPTIONAL
/// }
/// ECPrivateKey ::= SEQUENCE {                               RFC 5915 3, SEC 1 C.4
///     version INTEGER (1), privateKey OCTET STRING (d, 32 bytes),
///     parameters [0] namedCurve OPTIONAL, publicKey [1] BIT STRING OPTIONAL
/// }
/// </code>
/// </summary>
internal static class P256KeyDer
{
    private const byte Integer = 0x02, BitString = 0x03, OctetString = 0x04, Oid = 0x06, Sequence = 0x30;
    private const byte Context0 = 0xa0, Context1 = 0xa1;
    private const int UncompressedPointLength = 65;

    /// <summary>id-ecPublicKey, 1.2.840.10045.2.1.</summary>
    private static ReadOnlySpan<byte> EcPublicKeyOid => new byte[] { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };

    /// <summary>prime256v1 / secp256r1 / NIST P-256, 1.2.840.10045.3.1.7.</summary>
    private static ReadOnlySpan<byte> P256Oid => new byte[] { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

    /// <summary>Reads a DER SubjectPublicKeyInfo holding a P-256 key.</summary>
    /// <exception cref="KeyFormatException">Anything else.</exception>
    internal static P256PublicKey ReadSubjectPublicKeyInfo(ReadOnlySpan<byte> der)
    {
        var outer = new DerReader(der, 0, der.Length);
        var spki = outer.ReadNested(Sequence, "SubjectPublicKeyInfo");
        outer.End("the SubjectPublicKeyInfo");
        var algorithm = spki.ReadNested(Sequence, "AlgorithmIdentifier");
        var curveAt = ReadEcAlgorithm(ref algorithm, der, out var hasCurve);
        if (!hasCurve) throw new KeyFormatException(KeyFormatError.UnsupportedCurve, curveAt, "the EC key names no curve: CatEvening uses P-256 (1.2.840.10045.3.1.7)");
        var key = ReadPoint(der, ref spki, "subjectPublicKey");
        spki.End("the subjectPublicKey");
        return key;
    }

    /// <summary>Reads a DER PKCS#8 PrivateKeyInfo holding a P-256 key.</summary>
    /// <exception cref="KeyFormatException">Anything else.</exception>
    internal static P256PrivateKey ReadPkcs8(ReadOnlySpan<byte> der)
    {
        var outer = new DerReader(der, 0, der.Length);
        var info = outer.ReadNested(Sequence, "PrivateKeyInfo");
        outer.End("the PrivateKeyInfo");
        var (versionAt, versionLength) = info.Read(Integer, "version");
        if (versionLength != 1 || der[versionAt] > 1)
            throw new KeyFormatException(KeyFormatError.InvalidPrivateKey, versionAt, $"PrivateKeyInfo version at offset {versionAt} is not 0 or 1");
        var algorithm = info.ReadNested(Sequence, "privateKeyAlgorithm");
        ReadEcAlgorithm(ref algorithm, der, out var hasCurve);
        var (keyAt, keyLength) = info.Read(OctetString, "privateKey");
        var key = ReadEcPrivateKey(der, keyAt, keyAt + keyLength, curveKnown: hasCurve);
        if (info.HasMore && info.PeekTag() == Context0) info.Read(Context0, "attributes");
        if (info.HasMore && info.PeekTag() == Context1) info.Read(Context1, "publicKey");
        info.End("the PrivateKeyInfo fields");
        return key;
    }

    /// <summary>Reads a DER SEC 1 ECPrivateKey (PEM <c>EC PRIVATE KEY</c>) holding a P-256 key.</summary>
    /// <exception cref="KeyFormatException">Anything else.</exception>
    internal static P256PrivateKey ReadEcPrivateKey(ReadOnlySpan<byte> der) => ReadEcPrivateKey(der, 0, der.Length, curveKnown: false);

    private static P256PrivateKey ReadEcPrivateKey(ReadOnlySpan<byte> der, int start, int end, bool curveKnown)
    {
        var outer = new DerReader(der, start, end);
        var ec = outer.ReadNested(Sequence, "ECPrivateKey");
        outer.End("the ECPrivateKey");
        var (versionAt, versionLength) = ec.Read(Integer, "ECPrivateKey version");
        if (versionLength != 1 || der[versionAt] != 1)
            throw new KeyFormatException(KeyFormatError.InvalidPrivateKey, versionAt, $"ECPrivateKey version at offset {versionAt} is not 1");
        var (dAt, dLength) = ec.Read(OctetString, "privateKey");
        // The curve named after the key is checked first: a P-384 key is "another curve", not "a 48-byte P-256 key".
        if (ec.HasMore && ec.PeekTag() == Context0)
        {
            var parameters = ec.ReadNested(Context0, "parameters");
            CheckCurve(der, ref parameters);
            parameters.End("the curve parameters");
            curveKnown = true;
        }
        if (!curveKnown) throw new KeyFormatException(KeyFormatError.UnsupportedCurve, start, "the EC private key names no curve: CatEvening uses P-256 (1.2.840.10045.3.1.7)");
        if (dLength is < 1 or > P256.ScalarLength)
            throw new KeyFormatException(KeyFormatError.InvalidPrivateKey, dAt, $"the private key at offset {dAt} has {dLength} bytes; P-256 has 32");
        var d = new byte[P256.ScalarLength];
        der.Slice(dAt, dLength).CopyTo(d.AsSpan(P256.ScalarLength - dLength));
        if (!P256.IsValidPrivateScalar(d))
            throw new KeyFormatException(KeyFormatError.InvalidPrivateKey, dAt, $"the private key at offset {dAt} is not in [1, n - 1] of P-256");
        P256PublicKey? publicKey = null;
        if (ec.HasMore && ec.PeekTag() == Context1)
        {
            var wrapped = ec.ReadNested(Context1, "publicKey");
            publicKey = ReadPoint(der, ref wrapped, "publicKey");
            wrapped.End("the publicKey");
        }
        ec.End("the ECPrivateKey fields");
        return new P256PrivateKey(d, publicKey);
    }

    // AlgorithmIdentifier { id-ecPublicKey, parameters }: returns the offset of the parameters (or of the end).
    private static int ReadEcAlgorithm(ref DerReader algorithm, ReadOnlySpan<byte> der, out bool hasCurve)
    {
        var (oidAt, oidLength) = algorithm.Read(Oid, "algorithm");
        var oid = der.Slice(oidAt, oidLength);
        if (!oid.SequenceEqual(EcPublicKeyOid))
            throw new KeyFormatException(KeyFormatError.UnsupportedAlgorithm, oidAt,
                $"the key algorithm is {Describe(oid)} (offset {oidAt}), not an EC key (1.2.840.10045.2.1): CatEvening uses ECDSA P-256");
        var at = algorithm.Position;
        hasCurve = algorithm.HasMore;
        if (hasCurve) CheckCurve(der, ref algorithm);
        algorithm.End("the AlgorithmIdentifier");
        return at;
    }

    private static void CheckCurve(ReadOnlySpan<byte> der, ref DerReader reader)
    {
        var at = reader.Position;
        if (!reader.HasMore || reader.PeekTag() != Oid)
            throw new KeyFormatException(KeyFormatError.UnsupportedCurve, at, $"the curve at offset {at} is not a named curve (explicit or implicit parameters): CatEvening uses P-256");
        var (curveAt, curveLength) = reader.Read(Oid, "namedCurve");
        var curve = der.Slice(curveAt, curveLength);
        if (!curve.SequenceEqual(P256Oid))
            throw new KeyFormatException(KeyFormatError.UnsupportedCurve, curveAt, $"the key is on curve {Describe(curve)} (offset {curveAt}): CatEvening uses P-256 (1.2.840.10045.3.1.7)");
    }

    private static P256PublicKey ReadPoint(ReadOnlySpan<byte> der, ref DerReader reader, string what)
    {
        var (at, length) = reader.Read(BitString, what);
        if (length == 0 || der[at] != 0)
            throw new KeyFormatException(KeyFormatError.MalformedDer, at, $"{what} at offset {at} is not a whole number of bytes");
        var point = der.Slice(at + 1, length - 1);
        if (point.Length == 0 || point[0] != 0x04 || point.Length != UncompressedPointLength)
            throw new KeyFormatException(KeyFormatError.InvalidPublicKey, at + 1,
                $"{what} at offset {at + 1} is not an uncompressed P-256 point (04 ‖ X ‖ Y, 65 bytes; got {point.Length} bytes{(point.Length > 0 ? $" starting {point[0]:x2}" : "")})");
        var x = point.Slice(1, P256.ScalarLength).ToArray();
        var y = point.Slice(1 + P256.ScalarLength, P256.ScalarLength).ToArray();
        if (!P256.IsOnCurve(x, y))
            throw new KeyFormatException(KeyFormatError.InvalidPublicKey, at + 1, $"{what} at offset {at + 1} is not on P-256 (not a point of the curve)");
        return new P256PublicKey(x, y);
    }

    // Dotted form of an OID for messages (X.690 8.19); "(malformed OID)" when it cannot be decoded.
    private static string Describe(ReadOnlySpan<byte> oid)
    {
        if (oid.Length == 0 || oid.Length > 64 || (oid[oid.Length - 1] & 0x80) != 0) return "(malformed OID)";
        var sb = new StringBuilder();
        long value = 0;
        var first = true;
        foreach (var b in oid)
        {
            value = (value << 7) | (uint)(b & 0x7f);
            if (value > int.MaxValue) return "(malformed OID)";
            if ((b & 0x80) != 0) continue;
            if (first)
            {
                var arc = value < 80 ? value / 40 : 2;
                sb.Append(arc.ToString(CultureInfo.InvariantCulture)).Append('.').Append((value - 40 * arc).ToString(CultureInfo.InvariantCulture));
                first = false;
            }
            else sb.Append('.').Append(value.ToString(CultureInfo.InvariantCulture));
            value = 0;
        }
        return sb.ToString();
    }

    /// <summary>A DER reader over [start, end) of a buffer; every offset it reports is into the whole buffer.</summary>
    private ref struct DerReader
    {
        private readonly ReadOnlySpan<byte> _der;
        private readonly int _end;
        private int _position;

        internal DerReader(ReadOnlySpan<byte> der, int start, int end)
        {
            _der = der;
            _position = start;
            _end = end;
        }

        internal readonly bool HasMore => _position < _end;

        internal readonly int Position => _position;

        internal readonly byte PeekTag() => _der[_position];

        /// <summary>Reads one element with <paramref name="tag"/>; returns where its content starts and its length.</summary>
        internal (int Start, int Length) Read(byte tag, string what)
        {
            var at = _position;
            if (at >= _end) throw Malformed(at, $"the DER ends at offset {at}, before {what}");
            if (_der[at] != tag) throw Malformed(at, $"{what} at offset {at}: tag {_der[at]:x2}, expected {tag:x2}");
            if (at + 1 >= _end) throw Malformed(at, $"{what} at offset {at} has no length");
            int first = _der[at + 1];
            long length;
            var header = 2;
            if (first < 0x80) length = first;
            else
            {
                var count = first & 0x7f;
                // 0x80 is BER's indefinite length, not DER; more than 3 length bytes is far beyond any key.
                if (count is 0 or > 3) throw Malformed(at + 1, $"{what} at offset {at}: length byte {first:x2} is not allowed here");
                if (at + 2 + count > _end) throw Malformed(at + 1, $"{what} at offset {at}: the length runs past the end");
                length = 0;
                for (var i = 0; i < count; i++) length = (length << 8) | _der[at + 2 + i];
                header += count;
            }
            var start = at + header;
            if (length > _end - start) throw Malformed(at, $"{what} at offset {at} declares {length} bytes; {_end - start} are left");
            _position = start + (int)length;
            return (start, (int)length);
        }

        internal DerReader ReadNested(byte tag, string what)
        {
            var (start, length) = Read(tag, what);
            return new DerReader(_der, start, start + length);
        }

        internal readonly void End(string what)
        {
            if (_position != _end) throw Malformed(_position, $"{_end - _position} unexpected bytes at offset {_position}, after {what}");
        }

        private static KeyFormatException Malformed(int offset, string message) => new(KeyFormatError.MalformedDer, offset, "malformed DER: " + message);
    }
}
