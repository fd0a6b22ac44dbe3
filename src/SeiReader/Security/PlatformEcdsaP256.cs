using System;
using System.Security.Cryptography;

namespace CatEvening.SeiReader.Security;

/// <summary>P-256 verification with the runtime's <see cref="ECDsa"/> (P1363 is its native signature format).</summary>
internal sealed class PlatformEcdsaP256 : IEcdsaP256Verifier
{
    private readonly ECDsa _ecdsa;
    private readonly object _gate = new();

    private PlatformEcdsaP256(ECDsa ecdsa) => _ecdsa = ecdsa;

    public EcdsaBackend Backend => EcdsaBackend.Platform;

    /// <exception cref="FormatException">The point is not on P-256.</exception>
    /// <exception cref="NotImplementedException">The runtime has no ECDsa (Mono).</exception>
    internal static PlatformEcdsaP256 Create(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = x.ToArray(), Y = y.ToArray() },
        };
        try
        {
            return new PlatformEcdsaP256(ECDsa.Create(parameters));
        }
        catch (CryptographicException e)
        {
            throw new FormatException("the public point is not on P-256: " + e.Message, e);
        }
    }

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != EcdsaP256.SignatureLength) return false;
#if NET
        lock (_gate) return _ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256);
#else
        var dataArray = data.ToArray();
        var signatureArray = signature.ToArray();
        lock (_gate) return _ecdsa.VerifyData(dataArray, 0, dataArray.Length, signatureArray, HashAlgorithmName.SHA256);
#endif
    }

    public void Dispose() => _ecdsa.Dispose();
}
