using System;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;

namespace CatEvening.SeiReader.Security;

/// <summary>
/// P-256 verification with BouncyCastle.Cryptography, fully managed: the same algorithm as its
/// <c>SHA-256withPLAIN-ECDSA</c> signer (SHA-256, then ECDSA over r‖s split in two 32-byte big-endian integers),
/// built from its parts so that no algorithm-name lookup (and nothing an IL2CPP linker could strip) is involved.
/// </summary>
internal sealed class BouncyCastleEcdsaP256 : IEcdsaP256Verifier
{
    // CustomNamedCurves, not ECNamedCurveTable: the latter gives a generic prime-field curve, the former BouncyCastle's
    // P-256-specific field arithmetic (SecP256R1Curve), several times faster.
    private static readonly Lazy<ECDomainParameters> Domain = new(() => new ECDomainParameters(CustomNamedCurves.GetByName("P-256")));

    private readonly ECPublicKeyParameters _key;

    private BouncyCastleEcdsaP256(ECPublicKeyParameters key) => _key = key;

    public EcdsaBackend Backend => EcdsaBackend.BouncyCastle;

    /// <exception cref="FormatException">The point is not on P-256.</exception>
    internal static BouncyCastleEcdsaP256 Create(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y)
    {
        var domain = Domain.Value;
        var px = new BigInteger(1, x.ToArray());
        var py = new BigInteger(1, y.ToArray());
        Org.BouncyCastle.Math.EC.ECPoint point;
        try
        {
            point = domain.Curve.CreatePoint(px, py);
        }
        catch (ArgumentException e)
        {
            throw new FormatException("the public point is not on P-256: " + e.Message, e);
        }
        if (!point.IsValid()) throw new FormatException("the public point is not on P-256");
        return new BouncyCastleEcdsaP256(new ECPublicKeyParameters(point, domain));
    }

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != EcdsaP256.SignatureLength) return false;
        var digest = new Sha256Digest();
        var hash = new byte[digest.GetDigestSize()];
        var dataArray = data.ToArray();
        digest.BlockUpdate(dataArray, 0, dataArray.Length);
        digest.DoFinal(hash, 0);
        var half = EcdsaP256.CoordinateLength;
        var r = new BigInteger(1, signature.Slice(0, half).ToArray());
        var s = new BigInteger(1, signature.Slice(half, half).ToArray());
        // A signer per call: ECDsaSigner keeps its key between Init and VerifySignature, so sharing one needs a lock.
        var signer = new ECDsaSigner();
        signer.Init(false, _key);
        return signer.VerifySignature(hash, r, s);
    }

    public void Dispose()
    {
    }
}
