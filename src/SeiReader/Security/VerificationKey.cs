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
    /// <exception cref="KeyFormatException">Not a P-256 public key PEM, or no key id; <see cref="KeyFormatException.Error"/>
    /// says what is wrong. No other exception comes out for bad key content.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="pem"/> is null.</exception>
    public static VerificationKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, _, idInPem) = Pem.Read(pem, "PUBLIC KEY");
        // The key's own faults (another curve or algorithm, bad DER) are told before a missing key id.
        P256KeyDer.ReadSubjectPublicKeyInfo(der);
        return FromSubjectPublicKeyInfo(Pem.RequireKeyId(keyId, idInPem), der);
    }

    /// <summary>Loads a public key from DER SubjectPublicKeyInfo (91 bytes, uncompressed point).</summary>
    /// <exception cref="KeyFormatException">Not a P-256 public key: malformed DER, another algorithm or curve, a
    /// compressed point or one that is not on the curve; the message names the offset.</exception>
    public static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der) => FromSubjectPublicKeyInfo(keyId, der, null);

    /// <summary>As the public overload, with a chosen backend (tests and benchmarks compare the two).</summary>
    internal static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der, EcdsaBackend? backend)
    {
        var key = P256KeyDer.ReadSubjectPublicKeyInfo(der);
        return new VerificationKey(keyId, P256PublicKeyInfo.Write(key.X, key.Y), EcdsaP256.CreateVerifier(key.X, key.Y, backend));
    }

    internal static VerificationKey FromPoint(ushort keyId, ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) =>
        new(keyId, P256PublicKeyInfo.Write(x, y), EcdsaP256.CreateVerifier(x, y));

    /// <summary>The key as PEM: a <c>CatEvening-Key-Id</c> line, then the SPKI block.</summary>
    public string ExportPem() => Pem.Write("PUBLIC KEY", SubjectPublicKeyInfo.Span, KeyId);

    /// <summary>Checks an IEEE P1363 signature (64 bytes, r ‖ s) of SHA-256(<paramref name="data"/>). A signature
    /// with s above n / 2 is refused without verifying, whichever backend runs (see
    /// <see cref="RejectionReason.NonCanonicalSignature"/>).</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == KeyChecks.SignatureLength && P256.IsLowS(signature.Slice(P256.ScalarLength)) && _verifier.Verify(data, signature);

    /// <inheritdoc />
    public void Dispose() => _verifier.Dispose();
}

internal static class KeyChecks
{
    internal const int SignatureLength = EcdsaP256.SignatureLength;
#if NET

    /// <summary>Hands checked key material to the platform. The checks before make a failure here unexpected, but a
    /// platform is free to refuse: that is still a key format error, never a
    /// <see cref="System.Security.Cryptography.CryptographicException"/> for the caller.</summary>
    internal static System.Security.Cryptography.ECDsa Import(System.Security.Cryptography.ECParameters parameters, string what)
    {
        try
        {
            return System.Security.Cryptography.ECDsa.Create(parameters);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            var error = parameters.D is null ? KeyFormatError.InvalidPublicKey : KeyFormatError.InvalidPrivateKey;
            throw new KeyFormatException(error, -1, $"the platform refused the {what} P-256 key: {e.Message}", e);
        }
    }
#endif
}
