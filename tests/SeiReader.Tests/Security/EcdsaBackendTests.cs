using System.Security.Cryptography;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Security;

/// <summary>
/// The two ECDSA P-256 backends behind <see cref="VerificationKey"/> (the platform's ECDsa and BouncyCastle, which
/// Mono and Unity use) give the same answers, and keys load without the platform's ECDsa. The same checks run on
/// Mono itself in tests/MonoChecker.
/// </summary>
public class EcdsaBackendTests
{
    private static readonly EcdsaBackend[] Backends = { EcdsaBackend.Platform, EcdsaBackend.BouncyCastle };

    [Test]
    public void Probe_OnDotNet_ChoosesThePlatformEcdsa()
    {
        using var signing = TestKeys.Key1();
        using var key = VerificationKey.FromPem(signing.PublicKey.ExportPem());
        Assert.Multiple(() =>
        {
            Assert.That(EcdsaP256.DefaultBackend, Is.EqualTo(EcdsaBackend.Platform));
            Assert.That(key.Backend, Is.EqualTo(EcdsaBackend.Platform));
        });
    }

    [TestCaseSource(nameof(Backends))]
    public void Verify_RandomMessagesSignedByOpenSslBackedEcdsa_BothBackendsAgree(EcdsaBackend backend)
    {
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = VerificationKey.FromSubjectPublicKeyInfo(1, signer.ExportSubjectPublicKeyInfo(), backend);
        var random = new Random(1363);
        for (var i = 0; i < 40; i++)
        {
            var data = new byte[random.Next(0, 400)];
            random.NextBytes(data);
            var signature = signer.SignData(data, HashAlgorithmName.SHA256);
            var flipped = (byte[])signature.Clone();
            flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
            var otherData = (byte[])data.Clone();
            if (otherData.Length > 0) otherData[random.Next(otherData.Length)] ^= 0x80;
            Assert.Multiple(() =>
            {
                Assert.That(key.Verify(data, signature), Is.True, $"message {i}");
                Assert.That(key.Verify(data, flipped), Is.False, $"message {i}, flipped signature bit");
                if (data.Length > 0) Assert.That(key.Verify(otherData, signature), Is.False, $"message {i}, flipped data bit");
                Assert.That(key.Verify(data, signature.AsSpan(0, 63)), Is.False, $"message {i}, 63-byte signature");
            });
        }
    }

    [TestCaseSource(nameof(Backends))]
    public void Verify_SignatureWithRZeroOrSAtTheGroupOrder_IsFalse(EcdsaBackend backend)
    {
        using var signing = TestKeys.Key1();
        using var chosen = VerificationKey.FromSubjectPublicKeyInfo(1, signing.PublicKey.SubjectPublicKeyInfo.Span, backend);
        var zero = new byte[64];
        var order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        var atOrder = order.Concat(order).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(chosen.Verify("x"u8, zero), Is.False);
            Assert.That(chosen.Verify("x"u8, atOrder), Is.False);
        });
    }

    [TestCaseSource(nameof(Backends))]
    public void ProbeVector_VerifiesOnBothBackends(EcdsaBackend backend)
    {
        using var verifier = EcdsaP256.CreateVerifier(ProbeVector.X, ProbeVector.Y, backend);
        Assert.Multiple(() =>
        {
            Assert.That(verifier.Backend, Is.EqualTo(backend));
            Assert.That(verifier.Verify(ProbeVector.Data, ProbeVector.Signature), Is.True);
            Assert.That(verifier.Verify(ProbeVector.Data, ProbeVector.WrongSignature), Is.False);
        });
    }

    [TestCaseSource(nameof(Backends))]
    public void FromSubjectPublicKeyInfo_PointOffTheCurve_ThrowsFormatException(EcdsaBackend backend)
    {
        using var signing = TestKeys.Key1();
        var spki = signing.PublicKey.SubjectPublicKeyInfo.ToArray();
        spki[^1] ^= 1;
        Assert.That(() => VerificationKey.FromSubjectPublicKeyInfo(1, spki, backend),
            Throws.InstanceOf<FormatException>().With.Message.Contains("not on P-256"));
    }

    [Test]
    public void SubjectPublicKeyInfo_OurBytesEqualDotNetsExport()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var expected = ecdsa.ExportSubjectPublicKeyInfo();
        var (x, y) = P256PublicKeyInfo.Read(expected);
        var q = ecdsa.ExportParameters(false).Q;
        Assert.Multiple(() =>
        {
            Assert.That(x, Is.EqualTo(q.X));
            Assert.That(y, Is.EqualTo(q.Y));
            Assert.That(P256PublicKeyInfo.Write(x, y), Is.EqualTo(expected));
        });
    }

    [Test]
    public void SubjectPublicKeyInfo_CompressedPoint_IsRefusedNamingTheOffset()
    {
        // OpenSSL's `ec -conv_form compressed` output: 59 bytes, point 02|03 X.
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var full = ecdsa.ExportSubjectPublicKeyInfo();
        var compressed = new byte[59];
        full.AsSpan(0, 26).CopyTo(compressed);
        compressed[1] = 0x39;
        compressed[24] = 0x22;
        compressed[26] = 0x02;
        full.AsSpan(27, 32).CopyTo(compressed.AsSpan(27));
        Assert.That(() => P256PublicKeyInfo.Read(compressed),
            Throws.InstanceOf<FormatException>().With.Message.Contains("offset 26").And.Message.Contains("uncompressed"));
    }

    [Test]
    public void SubjectPublicKeyInfo_EveryTruncation_ThrowsFormatException()
    {
        using var signing = TestKeys.Key1();
        var spki = signing.PublicKey.SubjectPublicKeyInfo.ToArray();
        for (var n = 0; n < spki.Length; n++)
        {
            var cut = spki.AsSpan(0, n).ToArray();
            Assert.That(() => P256PublicKeyInfo.Read(cut), Throws.InstanceOf<FormatException>(), $"{n} bytes");
        }
    }

    [Test]
    public void SubjectPublicKeyInfo_RsaKey_IsRefusedAsNotEc()
    {
        using var rsa = RSA.Create(2048);
        Assert.That(() => VerificationKey.FromSubjectPublicKeyInfo(1, rsa.ExportSubjectPublicKeyInfo()),
            Throws.InstanceOf<FormatException>().With.Message.Contains("1.2.840.113549.1.1.1"));
    }
}
