using System.Formats.Asn1;
using System.Security.Cryptography;

namespace CatEvening.Tests.Shared;

/// <summary>One key file that no CatEvening key loader may accept, and the <c>KeyFormatError</c> name it must give.</summary>
public sealed record BrokenKey(string Name, string Pem, string Error)
{
    public override string ToString() => Name;
}

/// <summary>
/// Every kind of malformed or unsupported key file (issue 10, H9): a curve OID with a byte flipped, other curves,
/// other algorithms, RSA, truncated DER and PEM, garbage, empty files, wrong PEM labels, points off the curve,
/// out-of-range private scalars, a public key that does not match its private key.
/// </summary>
public static class BrokenKeys
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string P256 = "1.2.840.10045.3.1.7";

    /// <summary>Broken public key files (SubjectPublicKeyInfo PEM), each with a key id line.</summary>
    public static IEnumerable<BrokenKey> Public()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = ec.ExportSubjectPublicKeyInfo();
        var q = ec.ExportParameters(false).Q;
        byte[] point = [0x04, .. q.X!, .. q.Y!];
        foreach (var (name, der, error) in CommonDer(spki, "PUBLIC KEY"))
            yield return new BrokenKey("public: " + name, Pem("PUBLIC KEY", der), error);
        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
            yield return new BrokenKey("public: P-384 key", Pem("PUBLIC KEY", p384.ExportSubjectPublicKeyInfo()), "UnsupportedCurve");
        using (var rsa = RSA.Create(2048))
        {
            yield return new BrokenKey("public: RSA key", Pem("PUBLIC KEY", rsa.ExportSubjectPublicKeyInfo()), "UnsupportedAlgorithm");
            yield return new BrokenKey("public: RSA PUBLIC KEY label", Pem("RSA PUBLIC KEY", rsa.ExportRSAPublicKey()), "NoPemBlock");
        }
        yield return new BrokenKey("public: Ed25519 key", Pem("PUBLIC KEY", Spki("1.3.101.112", null, new byte[32])), "UnsupportedAlgorithm");
        yield return new BrokenKey("public: explicit curve parameters", Pem("PUBLIC KEY", Spki(EcPublicKey, w => { using (w.PushSequence()) w.WriteInteger(1); }, point)), "UnsupportedCurve");
        yield return new BrokenKey("public: no curve", Pem("PUBLIC KEY", Spki(EcPublicKey, null, point)), "UnsupportedCurve");
        var offCurve = (byte[])point.Clone();
        offCurve[^1] ^= 1;
        yield return new BrokenKey("public: point not on the curve", Pem("PUBLIC KEY", Spki(EcPublicKey, w => w.WriteObjectIdentifier(P256), offCurve)), "InvalidPublicKey");
        byte[] compressed = [(byte)(2 + (q.Y![^1] & 1)), .. q.X!];
        yield return new BrokenKey("public: compressed point", Pem("PUBLIC KEY", Spki(EcPublicKey, w => w.WriteObjectIdentifier(P256), compressed)), "InvalidPublicKey");
        yield return new BrokenKey("public: private key given", Pem("PRIVATE KEY", ec.ExportPkcs8PrivateKey()), "NoPemBlock");
    }

    /// <summary>Broken private key files (PKCS#8 or SEC 1 PEM), each with a key id line.</summary>
    public static IEnumerable<BrokenKey> Private()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var (name, der, error) in CommonDer(ec.ExportPkcs8PrivateKey(), "PRIVATE KEY"))
            yield return new BrokenKey("PKCS#8: " + name, Pem("PRIVATE KEY", der), error);
        foreach (var (name, der, error) in CommonDer(ec.ExportECPrivateKey(), "EC PRIVATE KEY"))
            yield return new BrokenKey("SEC 1: " + name, Pem("EC PRIVATE KEY", der), error);
        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
            yield return new BrokenKey("PKCS#8: P-384 key", Pem("PRIVATE KEY", p384.ExportPkcs8PrivateKey()), "UnsupportedCurve");
        using (var rsa = RSA.Create(2048))
        {
            yield return new BrokenKey("PKCS#8: RSA key", Pem("PRIVATE KEY", rsa.ExportPkcs8PrivateKey()), "UnsupportedAlgorithm");
            yield return new BrokenKey("RSA PRIVATE KEY label", Pem("RSA PRIVATE KEY", rsa.ExportRSAPrivateKey()), "NoPemBlock");
        }
        var encrypted = ec.ExportEncryptedPkcs8PrivateKey("pw"u8, new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000));
        yield return new BrokenKey("ENCRYPTED PRIVATE KEY", Pem("ENCRYPTED PRIVATE KEY", encrypted), "NoPemBlock");
        yield return new BrokenKey("public key given", Pem("PUBLIC KEY", ec.ExportSubjectPublicKeyInfo()), "NoPemBlock");
        var n = Convert.FromHexString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        yield return new BrokenKey("SEC 1: d = 0", Pem("EC PRIVATE KEY", Sec1(new byte[32], null)), "InvalidPrivateKey");
        yield return new BrokenKey("SEC 1: d = n", Pem("EC PRIVATE KEY", Sec1(n, null)), "InvalidPrivateKey");
        var p = ec.ExportParameters(true);
        var q = other.ExportParameters(false).Q;
        yield return new BrokenKey("SEC 1: public key of another key", Pem("EC PRIVATE KEY", Sec1(p.D!, [0x04, .. q.X!, .. q.Y!])), "InvalidPrivateKey");
        var offCurve = (byte[])[0x04, .. p.Q.X!, .. p.Q.Y!];
        offCurve[^1] ^= 1;
        yield return new BrokenKey("SEC 1: public key off the curve", Pem("EC PRIVATE KEY", Sec1(p.D!, offCurve)), "InvalidPublicKey");
    }

    // The cases every DER key shares: the H9 recipe (a byte flipped inside the P-256 OID), the algorithm OID
    // changed, truncations, trailing bytes, garbage, broken PEM around good DER.
    private static IEnumerable<(string, byte[], string)> CommonDer(byte[] der, string label)
    {
        var curve = IndexOf(der, [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
        foreach (var at in new[] { 3, 4, 7 })
        {
            var flipped = (byte[])der.Clone();
            flipped[curve + at] ^= 0x01;
            yield return ($"curve OID byte {at} flipped", flipped, "UnsupportedCurve");
        }
        var algorithm = IndexOf(der, [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
        if (algorithm >= 0)
        {
            var changed = (byte[])der.Clone();
            changed[algorithm + 6] = 0x02;
            yield return ("algorithm OID changed", changed, "UnsupportedAlgorithm");
        }
        foreach (var keep in new[] { 1, 2, 10, der.Length / 2, der.Length - 1 })
            yield return ($"DER truncated to {keep} bytes", der[..keep], "MalformedDer");
        yield return ("a byte after the DER", [.. der, 0], "MalformedDer");
        var random = new byte[der.Length];
        new Random(label.Length).NextBytes(random);
        random[0] = 0x30;
        yield return ("random DER", random, "MalformedDer");
        yield return ("the outer length too long", [der[0], 0x84, 0x7f, 0xff, 0xff, 0xff, .. der[2..]], "MalformedDer");
    }

    /// <summary>Key files that are broken as text, for either kind.</summary>
    public static IEnumerable<BrokenKey> Text(string label)
    {
        yield return new BrokenKey($"{label}: " + "empty file", "", "NoPemBlock");
        yield return new BrokenKey($"{label}: " + "garbage text", "this is not a key\n", "NoPemBlock");
        yield return new BrokenKey($"{label}: " + "binary garbage", "\u0001\u00ff\u0000zz", "NoPemBlock");
        yield return new BrokenKey($"{label}: " + "certificate label", Pem("CERTIFICATE", [0x30, 0x00]), "NoPemBlock");
        yield return new BrokenKey($"{label}: " + "no END line", $"CatEvening-Key-Id: 1\n-----BEGIN {label}-----\nMFkwEwYHKoZIzj0CAQYI\n", "MalformedPem");
        yield return new BrokenKey($"{label}: " + "not base64", $"CatEvening-Key-Id: 1\n-----BEGIN {label}-----\n!!!!\n-----END {label}-----\n", "MalformedPem");
        yield return new BrokenKey($"{label}: " + "empty block", $"CatEvening-Key-Id: 1\n-----BEGIN {label}-----\n-----END {label}-----\n", "MalformedPem");
        yield return new BrokenKey($"{label}: " + "key id out of range", $"CatEvening-Key-Id: 70000\n-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n", "MalformedPem");
    }

    /// <summary>A few of each family, for command-line tests where every case costs a process: the H9 recipe (curve
    /// OID byte flipped), an RSA key, truncated DER, garbage, an empty file and a wrong PEM label.</summary>
    public static IEnumerable<BrokenKey> Representative(bool privateKey)
    {
        var label = privateKey ? "PRIVATE KEY" : "PUBLIC KEY";
        var keys = (privateKey ? Private() : Public()).Concat(Text(label)).ToList();
        string[] picks = ["curve OID byte 4 flipped", "RSA key", "truncated to 10 bytes", "garbage text", "empty file", privateKey ? "public key given" : "private key given"];
        return picks.Select(p => keys.First(k => k.Name.Contains(p, StringComparison.Ordinal)));
    }

    public static string Pem(string label, byte[] der) => "CatEvening-Key-Id: 1\n" + new string(PemEncoding.Write(label, der)) + "\n";

    private static byte[] Spki(string algorithm, Action<AsnWriter>? parameters, byte[] key)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            using (w.PushSequence())
            {
                w.WriteObjectIdentifier(algorithm);
                parameters?.Invoke(w);
            }
            w.WriteBitString(key);
        }
        return w.Encode();
    }

    private static byte[] Sec1(byte[] d, byte[]? publicPoint)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteInteger(1);
            w.WriteOctetString(d);
            using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true))) w.WriteObjectIdentifier(P256);
            if (publicPoint is not null)
                using (w.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, true))) w.WriteBitString(publicPoint);
        }
        return w.Encode();
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
