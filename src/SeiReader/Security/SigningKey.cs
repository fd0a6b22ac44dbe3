using System;
using System.Security.Cryptography;

#if NET
namespace CatEvening.SeiReader.Security;

/// <summary>
/// A private ECDSA P-256 key with its CatEvening key id. Generated fresh or loaded from PEM (PKCS#8
/// <c>PRIVATE KEY</c>; SEC 1 <c>EC PRIVATE KEY</c> as written by <c>openssl ecparam -genkey</c> is accepted too) and
/// saved as PKCS#8 PEM. Thread-safe.
/// Signing uses the runtime's ECDsa and is in the net10.0 build only: the injector signs, clients (which may run the
/// netstandard2.0 build on Mono or Unity, without ECDsa) only verify.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa _ecdsa;
    private readonly object _gate = new();

    private SigningKey(ushort keyId, ECDsa ecdsa)
    {
        KeyId = keyId;
        _ecdsa = ecdsa;
        var q = ecdsa.ExportParameters(includePrivateParameters: false).Q;
        PublicKey = VerificationKey.FromPoint(keyId, q.X, q.Y);
    }

    /// <summary>The key id written into bytes 17-18 of every payload this key signs.</summary>
    public ushort KeyId { get; }

    /// <summary>The matching public key (same key id).</summary>
    public VerificationKey PublicKey { get; }

    /// <summary>Generates a new P-256 key pair.</summary>
    public static SigningKey Generate(ushort keyId) => new(keyId, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Loads a private key from PEM.</summary>
    /// <param name="pem">PEM text; a <c>CatEvening-Key-Id: N</c> line before the block gives the key id.</param>
    /// <param name="keyId">The key id; overrides the one in the PEM; required when the PEM has none.</param>
    /// <exception cref="FormatException">Not a P-256 private key PEM, or no key id.</exception>
    public static SigningKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, label, idInPem) = Pem.Read(pem, "PRIVATE KEY", "EC PRIVATE KEY");
        var id = keyId ?? idInPem ?? throw new FormatException($"the PEM has no '{Pem.KeyIdPrefix}' line: pass the key id");
        var ecdsa = ECDsa.Create();
        try
        {
            int read;
            if (label == "PRIVATE KEY") ecdsa.ImportPkcs8PrivateKey(der, out read);
            else ecdsa.ImportECPrivateKey(der, out read);
            if (read != der.Length) throw new FormatException($"{der.Length - read} bytes after the {label}");
            KeyChecks.RequireP256(ecdsa);
            return new SigningKey(id, ecdsa);
        }
        catch (CryptographicException e)
        {
            ecdsa.Dispose();
            throw new FormatException($"not an EC {label}: {e.Message}", e);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    /// <summary>The private key as PEM: a <c>CatEvening-Key-Id</c> line, then the PKCS#8 block (unencrypted: protect the file).</summary>
    public string ExportPem()
    {
        byte[] der;
        lock (_gate) der = _ecdsa.ExportPkcs8PrivateKey();
        try
        {
            return Pem.Write("PRIVATE KEY", der, KeyId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Signs SHA-256(<paramref name="data"/>) into <paramref name="signature"/> (64 bytes, IEEE P1363).</summary>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is shorter than 64 bytes.</exception>
    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature)
    {
        if (signature.Length < KeyChecks.SignatureLength) throw new ArgumentException("needs 64 bytes", nameof(signature));
        bool ok;
        int written;
        lock (_gate) ok = _ecdsa.TrySignData(data, signature, HashAlgorithmName.SHA256, out written);
        if (!ok || written != KeyChecks.SignatureLength)
            throw new CryptographicException($"ECDSA produced {written} signature bytes, expected {KeyChecks.SignatureLength} (IEEE P1363)");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ecdsa.Dispose();
        PublicKey.Dispose();
    }
}
#endif
