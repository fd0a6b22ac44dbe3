using System;
using System.Security.Cryptography;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// A public ECDSA P-256 key with its CatEvening key id (the 2-byte id in the envelope). Loaded from and saved to
/// PEM (SubjectPublicKeyInfo, <c>-----BEGIN PUBLIC KEY-----</c>). Thread-safe.
/// </summary>
public sealed class VerificationKey : IDisposable
{
    private readonly ECDsa _ecdsa;
    private readonly object _gate = new();

    private VerificationKey(ushort keyId, ECDsa ecdsa)
    {
        KeyId = keyId;
        _ecdsa = ecdsa;
        SubjectPublicKeyInfo = ecdsa.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The key id carried in bytes 17-18 of every payload signed with the matching private key.</summary>
    public ushort KeyId { get; }

    /// <summary>The DER SubjectPublicKeyInfo of the key (91 bytes for P-256).</summary>
    public ReadOnlyMemory<byte> SubjectPublicKeyInfo { get; }

    /// <summary>Loads a public key from PEM (<c>PUBLIC KEY</c>, SPKI).</summary>
    /// <param name="pem">PEM text; a <c>CatEvening-Key-Id: N</c> line before the block gives the key id.</param>
    /// <param name="keyId">The key id; overrides the one in the PEM; required when the PEM has none.</param>
    /// <exception cref="KeyFormatException">Not a P-256 public key PEM, or no key id; <see cref="KeyFormatException.Error"/>
    /// says what is wrong. No other exception comes out for bad key content.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="pem"/> is null.</exception>
    public static VerificationKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, _, idInPem) = Pem.Read(pem, "PUBLIC KEY");
        return FromSubjectPublicKeyInfo(Pem.RequireKeyId(keyId, idInPem), der);
    }

    /// <summary>Loads a public key from DER SubjectPublicKeyInfo (91 bytes for P-256).</summary>
    /// <exception cref="KeyFormatException">Not a P-256 public key: malformed DER, another algorithm or curve, a
    /// compressed point or one that is not on the curve.</exception>
    public static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der)
    {
        var key = P256KeyDer.ReadSubjectPublicKeyInfo(der);
        var parameters = new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = key.X, Y = key.Y } };
        return new VerificationKey(keyId, KeyChecks.Import(parameters, "public"));
    }

    internal static VerificationKey FromEcdsa(ushort keyId, ECDsa privateKey)
    {
        var pub = ECDsa.Create(privateKey.ExportParameters(includePrivateParameters: false));
        return new VerificationKey(keyId, pub);
    }

    /// <summary>The key as PEM: a <c>CatEvening-Key-Id</c> line, then the SPKI block.</summary>
    public string ExportPem() => Pem.Write("PUBLIC KEY", SubjectPublicKeyInfo.Span, KeyId);

    /// <summary>Checks an IEEE P1363 signature (64 bytes, r ‖ s) of SHA-256(<paramref name="data"/>). A signature
    /// with s above n / 2 is refused without verifying (see <see cref="RejectionReason.NonCanonicalSignature"/>).</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != KeyChecks.SignatureLength || !P256.IsLowS(signature.Slice(P256.ScalarLength))) return false;
        lock (_gate) return _ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
    }

    /// <inheritdoc />
    public void Dispose() => _ecdsa.Dispose();
}

internal static class KeyChecks
{
    internal const int SignatureLength = 64;

    /// <summary>Hands checked key material to the platform. The checks before make a failure here unexpected, but a
    /// platform is free to refuse (a public key that does not belong to the private one, say): that is still a key
    /// format error, never a <see cref="CryptographicException"/> for the caller.</summary>
    internal static ECDsa Import(ECParameters parameters, string what)
    {
        try
        {
            return ECDsa.Create(parameters);
        }
        catch (CryptographicException e)
        {
            var error = parameters.D is null ? KeyFormatError.InvalidPublicKey : KeyFormatError.InvalidPrivateKey;
            throw new KeyFormatException(error, -1, $"the platform refused the {what} P-256 key: {e.Message}", e);
        }
    }
}
