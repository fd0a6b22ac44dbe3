using System;
using System.Security.Cryptography;

#if NET
namespace CatEvening.SeiReader.Security;

/// <summary>
/// Where a <see cref="SigningKey"/>'s nonce pool (<see cref="SigningKey.PrecomputeNonces(int, NonceSource?)"/>) gets
/// its ECDSA P-256 nonces: a secret k, uniformly random in [1, n − 1] (FIPS 186-4 §6.3, §B.5), and the affine x of the
/// point k·G (SEC 1 §4.1.3 step 1), each 32 bytes big-endian. The pool calls <see cref="Generate"/> from its one filler
/// thread only, so a source need not be thread-safe; the pool disposes the source it was given when it is disposed.
/// <para><see cref="CreateRuntime"/> is the portable source (the runtime's key generation, about 80 µs a nonce on
/// Linux with OpenSSL 3: most of it the key object's creation and export around one fixed-base multiplication); a host
/// that may load native code can give a cheaper one (the injector's OpenSSL source, ~12 µs).</para>
/// </summary>
public abstract class NonceSource : IDisposable
{
    /// <summary>Length of k and of the point's x, in bytes.</summary>
    public const int ScalarLength = P256.ScalarLength;

    /// <summary>The portable source: one ephemeral key pair of the runtime's ECDsa per nonce (k = its private scalar,
    /// x = its public point's x).</summary>
    public static NonceSource CreateRuntime() => new RuntimeNonceSource();

    /// <summary>Writes a fresh nonce k into <paramref name="k"/> and the x of k·G into <paramref name="pointX"/> (32 bytes
    /// big-endian each). Never returns the same k twice.</summary>
    /// <exception cref="CryptographicException">No nonce could be made (the pool then stops filling and signatures take
    /// the usual way).</exception>
    public abstract void Generate(Span<byte> k, Span<byte> pointX);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the source holds (native handles, secret scratch).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    private sealed class RuntimeNonceSource : NonceSource
    {
        // CryptographicException: the runtime failed, or gave a scalar or coordinate that is not 32 bytes.
        public override void Generate(Span<byte> k, Span<byte> pointX)
        {
            using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var parameters = ephemeral.ExportParameters(includePrivateParameters: true);
            try
            {
                if (parameters.D is not { Length: ScalarLength } d || parameters.Q.X is not { Length: ScalarLength } x)
                    throw new CryptographicException("the runtime's P-256 key pair has a scalar or coordinate that is not 32 bytes");
                d.CopyTo(k);
                x.CopyTo(pointX);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(parameters.D);
            }
        }
    }
}
#endif
