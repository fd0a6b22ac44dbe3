using System;
using System.Security.Cryptography;
using System.Threading;

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
    private NoncePool? _nonces;

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
    /// <exception cref="KeyFormatException">Not a P-256 private key PEM (PKCS#8 <c>PRIVATE KEY</c> or SEC 1
    /// <c>EC PRIVATE KEY</c>), or no key id; <see cref="KeyFormatException.Error"/> says what is wrong. No other
    /// exception comes out for bad key content.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="pem"/> is null.</exception>
    public static SigningKey FromPem(string pem, ushort? keyId = null)
    {
        var (der, label, idInPem) = Pem.Read(pem, "PRIVATE KEY", "EC PRIVATE KEY");
        try
        {
            // The key's own faults (another curve or algorithm, bad DER) are told before a missing key id.
            var key = label == "PRIVATE KEY" ? P256KeyDer.ReadPkcs8(der) : P256KeyDer.ReadEcPrivateKey(der);
            var parameters = new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = key.D };
            if (key.PublicKey is { } q) parameters.Q = new ECPoint { X = q.X, Y = q.Y };
            var ecdsa = KeyChecks.Import(parameters, "private");
            try
            {
                if (key.PublicKey is not null) RequireMatchingPublicKey(ecdsa);
                return new SigningKey(Pem.RequireKeyId(keyId, idInPem), ecdsa);
            }
            catch
            {
                ecdsa.Dispose();
                throw;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key.D);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    // A file whose public key is not d·G would sign with d while publishing a key nothing it signs verifies with:
    // sign once with d and verify with the Q written beside it.
    private static void RequireMatchingPublicKey(ECDsa ecdsa)
    {
        var probe = new byte[] { 0x43, 0x61, 0x74, 0x45, 0x76, 0x65, 0x6e, 0x69, 0x6e, 0x67 };
        var signature = ecdsa.SignData(probe, HashAlgorithmName.SHA256);
        if (!ecdsa.VerifyData(probe, signature, HashAlgorithmName.SHA256))
            throw new KeyFormatException(KeyFormatError.InvalidPrivateKey, -1, "the public key in the file does not belong to its private key");
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

    /// <summary>Starts the nonce pool with the runtime's nonces: <see cref="PrecomputeNonces(int, NonceSource?)"/> with no
    /// source.</summary>
    /// <param name="capacity">Nonces kept ready (at least 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 2.</exception>
    public void PrecomputeNonces(int capacity = 32) => PrecomputeNonces(capacity, null);

    /// <summary>
    /// Starts computing ECDSA nonces ahead on a background thread and keeps <paramref name="capacity"/> of them ready,
    /// so that <see cref="Sign"/> costs a SHA-256 and a few 256-bit multiplications (a few µs, even on a thread that
    /// just woke) instead of a P-256 scalar multiplication (23 µs hot, 95-175 µs after a sleep: benchmarks/RESULTS.md).
    /// Signatures are the same ECDSA signatures (FIPS 186-4 §6.4), each with its own random nonce; when the pool is
    /// empty <see cref="Sign"/> signs the usual way. For a process that signs on a latency-critical thread (the
    /// injector's pipeline); calling it again has no effect. <see cref="Dispose"/> stops the thread and wipes the nonces.
    /// </summary>
    /// <param name="capacity">Nonces kept ready (at least 2); refilled in a batch when half are used.</param>
    /// <param name="source">Where the nonces and their points come from (null: <see cref="NonceSource.CreateRuntime"/>).
    /// The key owns it from here on and disposes it with the pool, also when a pool was already running.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 2.</exception>
    public void PrecomputeNonces(int capacity, NonceSource? source)
    {
        // The source is ours from here on: a pool that starts owns it; on any other way out (bad capacity, a pool already
        // running, a disposed key) it is freed here.
        var handedOver = false;
        try
        {
            if (capacity < 2) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "at least 2");
            lock (_gate)
            {
                if (_nonces is not null) return;
                var d = _ecdsa.ExportParameters(includePrivateParameters: true).D!;
                try
                {
                    _nonces = new NoncePool(d, capacity, source);
                    handedOver = true;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(d);
                }
            }
        }
        finally
        {
            if (!handedOver) source?.Dispose();
        }
    }

    /// <summary>The nonce pool started by <see cref="PrecomputeNonces(int, NonceSource?)"/>, or null.</summary>
    internal NoncePool? Nonces => Volatile.Read(ref _nonces);

    /// <summary>Signs SHA-256(<paramref name="data"/>) into <paramref name="signature"/> (64 bytes, IEEE P1363), always with
    /// s ≤ n / 2 (low s). With <see cref="PrecomputeNonces(int, NonceSource?)"/> started, from a precomputed nonce while one is ready.</summary>
    /// <exception cref="ArgumentException"><paramref name="signature"/> is shorter than 64 bytes.</exception>
    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature)
    {
        if (signature.Length < KeyChecks.SignatureLength) throw new ArgumentException("needs 64 bytes", nameof(signature));
        if (Volatile.Read(ref _nonces) is { } nonces)
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(data, hash);
            if (nonces.TrySign(hash, signature))
            {
                P256.NormalizeToLowS(signature);
                return;
            }
        }
        bool ok;
        int written;
        lock (_gate) ok = _ecdsa.TrySignData(data, signature, HashAlgorithmName.SHA256, out written);
        if (!ok || written != KeyChecks.SignatureLength)
            throw new CryptographicException($"ECDSA produced {written} signature bytes, expected {KeyChecks.SignatureLength} (IEEE P1363)");
        // Readers refuse high s (docs/sei-format.md, "Signature"): (r, n - s) verifies like (r, s), so only one may be valid.
        P256.NormalizeToLowS(signature);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _nonces?.Dispose();
        _ecdsa.Dispose();
        PublicKey.Dispose();
    }
}
#endif
