using System;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// A public ECDSA P-256 key with its CatEvening key id (the 2-byte id in the envelope). Loaded from and saved to
/// PEM (SubjectPublicKeyInfo, <c>-----BEGIN PUBLIC KEY-----</c>). The key is parsed without the runtime's ECDsa,
/// and signatures are checked by the runtime's ECDsa where it has one, by BouncyCastle where not (Mono, Unity):
/// see <see cref="Backend"/>. Thread-safe.
/// </summary>
public sealed class VerificationKey : IDisposable
{
    private readonly IEcdsaP256Verifier _verifier;

    private VerificationKey(ushort keyId, byte[] subjectPublicKeyInfo, IEcdsaP256Verifier verifier)
    {
        KeyId = keyId;
        SubjectPublicKeyInfo = subjectPublicKeyInfo;
        _verifier = verifier;
    }

    /// <summary>The key id carried in bytes 17-18 of every payload signed with the matching private key.</summary>
    public ushort KeyId { get; }

    /// <summary>The DER SubjectPublicKeyInfo of the key (91 bytes for P-256).</summary>
    public ReadOnlyMemory<byte> SubjectPublicKeyInfo { get; }

    /// <summary>Which implementation checks this key's signatures: <see cref="EcdsaBackend.Platform"/> where the
    /// runtime's ECDsa works (probed once per process), else <see cref="EcdsaBackend.BouncyCastle"/>.</summary>
    public EcdsaBackend Backend => _verifier.Backend;

    /// <summary>Loads a public key from PEM (<c>PUBLIC KEY</c>, SPKI).</summary>
    /// <param name="pem">PEM text; a <c>CatEvening-Key-Id: N</c> line before the block gives the key id.</param>
    /// <param name="keyId">The key id; overrides the one in the PEM; required when the PEM has none.</param>
    /// <exception cref="FormatException">Not a P-256 public key PEM, or no key id.</exception>
    public static VerificationKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, _, idInPem) = Pem.Read(pem, "PUBLIC KEY");
        var id = keyId ?? idInPem ?? throw new FormatException($"the PEM has no '{Pem.KeyIdPrefix}' line: pass the key id");
        return FromSubjectPublicKeyInfo(id, der);
    }

    /// <summary>Loads a public key from DER SubjectPublicKeyInfo (91 bytes, uncompressed point).</summary>
    /// <exception cref="FormatException">Not a P-256 public key; the message names the offset.</exception>
    public static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der) => FromSubjectPublicKeyInfo(keyId, der, null);

    /// <summary>As the public overload, with a chosen backend (tests and benchmarks compare the two).</summary>
    internal static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der, EcdsaBackend? backend)
    {
        var (x, y) = P256PublicKeyInfo.Read(der);
        return new VerificationKey(keyId, P256PublicKeyInfo.Write(x, y), EcdsaP256.CreateVerifier(x, y, backend));
    }

    internal static VerificationKey FromPoint(ushort keyId, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) =>
        new(keyId, P256PublicKeyInfo.Write(x, y), EcdsaP256.CreateVerifier(x, y));

    /// <summary>The key as PEM: a <c>CatEvening-Key-Id</c> line, then the SPKI block.</summary>
    public string ExportPem() => Pem.Write("PUBLIC KEY", SubjectPublicKeyInfo.Span, KeyId);

    /// <summary>Checks an IEEE P1363 signature (64 bytes) of SHA-256(<paramref name="data"/>).</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => _verifier.Verify(data, signature);

    /// <inheritdoc />
    public void Dispose() => _verifier.Dispose();
}

internal static class KeyChecks
{
    internal const int SignatureLength = EcdsaP256.SignatureLength;
#if NET
    private const string P256Oid = "1.2.840.10045.3.1.7";

    internal static void RequireP256(System.Security.Cryptography.ECDsa ecdsa)
    {
        var p = ecdsa.ExportParameters(includePrivateParameters: false);
        var oid = p.Curve.Oid?.Value;
        var named = p.Curve.Oid?.FriendlyName;
        var isP256 = oid == P256Oid || named is "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1";
        if (!isP256 || ecdsa.KeySize != 256)
            throw new FormatException($"the key is on curve {oid ?? named ?? "(explicit)"}, {ecdsa.KeySize} bits: CatEvening uses P-256");
    }
#endif
}
