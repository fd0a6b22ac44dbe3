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
    /// <exception cref="FormatException">Not a P-256 public key PEM, or no key id.</exception>
    public static VerificationKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, _, idInPem) = Pem.Read(pem, "PUBLIC KEY");
        var id = keyId ?? idInPem ?? throw new FormatException($"the PEM has no '{Pem.KeyIdPrefix}' line: pass the key id");
        return FromSubjectPublicKeyInfo(id, der);
    }

    /// <summary>Loads a public key from DER SubjectPublicKeyInfo.</summary>
    /// <exception cref="FormatException">Not a P-256 public key.</exception>
    public static VerificationKey FromSubjectPublicKeyInfo(ushort keyId, ReadOnlySpan<byte> der)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(der, out var read);
            if (read != der.Length) throw new FormatException($"{der.Length - read} bytes after the SubjectPublicKeyInfo");
            KeyChecks.RequireP256(ecdsa);
            return new VerificationKey(keyId, ecdsa);
        }
        catch (CryptographicException e)
        {
            ecdsa.Dispose();
            throw new FormatException("not an EC public key: " + e.Message, e);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    internal static VerificationKey FromEcdsa(ushort keyId, ECDsa privateKey)
    {
        var pub = ECDsa.Create(privateKey.ExportParameters(includePrivateParameters: false));
        return new VerificationKey(keyId, pub);
    }

    /// <summary>The key as PEM: a <c>CatEvening-Key-Id</c> line, then the SPKI block.</summary>
    public string ExportPem() => Pem.Write("PUBLIC KEY", SubjectPublicKeyInfo.Span, KeyId);

    /// <summary>Checks an IEEE P1363 signature (64 bytes) of SHA-256(<paramref name="data"/>).</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != KeyChecks.SignatureLength) return false;
        lock (_gate) return _ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
    }

    /// <inheritdoc />
    public void Dispose() => _ecdsa.Dispose();
}

internal static class KeyChecks
{
    internal const int SignatureLength = 64;
    private const string P256Oid = "1.2.840.10045.3.1.7";

    internal static void RequireP256(ECDsa ecdsa)
    {
        var p = ecdsa.ExportParameters(includePrivateParameters: false);
        var oid = p.Curve.Oid?.Value;
        var named = p.Curve.Oid?.FriendlyName;
        var isP256 = oid == P256Oid || named is "nistP256" or "ECDSA_P256" or "secp256r1" or "prime256v1";
        if (!isP256 || ecdsa.KeySize != 256)
            throw new FormatException($"the key is on curve {oid ?? named ?? "(explicit)"}, {ecdsa.KeySize} bits: CatEvening uses P-256");
    }
}
