using System.Numerics;
using System.Security.Cryptography;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Security;

/// <summary>Issue 10, H9 (ECDSA malleability): signers write s ≤ n/2, readers refuse s &gt; n/2.</summary>
public class LowSTests
{
    private static readonly BigInteger N = BigInteger.Parse("0ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", System.Globalization.NumberStyles.HexNumber);

    private static BigInteger S(byte[] payload) => new(payload.AsSpan(payload.Length - 32), isUnsigned: true, isBigEndian: true);

    /// <summary>The same payload with s replaced by n − s: a second valid ECDSA signature of the same bytes.</summary>
    internal static byte[] Flip(byte[] payload)
    {
        var flipped = (byte[])payload.Clone();
        var s = N - S(payload);
        var bytes = s.ToByteArray(isUnsigned: true, isBigEndian: true);
        flipped.AsSpan(flipped.Length - 32).Clear();
        bytes.CopyTo(flipped.AsSpan(flipped.Length - bytes.Length));
        return flipped;
    }

    [Test]
    public void Sign_ManyMessages_AlwaysWritesLowS()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        for (var i = 0; i < 300; i++)
            Assert.That(S(signer.Sign(TestKeys.Heartbeat(seq: i))), Is.LessThanOrEqualTo(N / 2), $"signature {i}");
    }

    [Test]
    public void Verify_SReplacedByNMinusS_IsNonCanonicalSignature_ThoughPlainEcdsaAcceptsIt()
    {
        using var key = TestKeys.Key1();
        var payload = new MessageSigner(key).Sign(TestKeys.Cue(seq: 5));
        var high = Flip(payload);
        using var plain = ECDsa.Create();
        plain.ImportSubjectPublicKeyInfo(key.PublicKey.SubjectPublicKeyInfo.Span, out _);
        var signed = high[..^64];
        var signature = high[^64..];
        Assert.That(plain.VerifyData(signed, signature, HashAlgorithmName.SHA256), Is.True, "plain ECDSA is malleable");

        var verifier = new MessageVerifier(new KeyRing(key.PublicKey));
        var r = verifier.Verify(high, TestKeys.Now);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(VerificationStatus.Rejected));
            Assert.That(r.Reason, Is.EqualTo(RejectionReason.NonCanonicalSignature));
            Assert.That((int)r.Reason, Is.EqualTo(10));
            Assert.That(r.Detail, Does.Contain($"offset {high.Length - 32}").And.Contain("high s"));
            Assert.That(r.Message, Is.Null);
            Assert.That(verifier.Verify(high, TestKeys.Now).FromCache, Is.True, "reported once per distinct bytes");
            Assert.That(verifier.Verify(payload, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted), "the low-s original");
            Assert.That(key.PublicKey.Verify(signed, signature), Is.False, "VerificationKey refuses high s too");
        });
    }

    [Test]
    public void Verify_HighSOfAnAcceptedMessage_IsRefusedNotARepeat()
    {
        using var key = TestKeys.Key1();
        var payload = new MessageSigner(key).Sign(TestKeys.Cue(seq: 5));
        var verifier = new MessageVerifier(new KeyRing(key.PublicKey));
        Assert.That(verifier.Verify(payload, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        Assert.That(verifier.Verify(Flip(payload), TestKeys.Now).Reason, Is.EqualTo(RejectionReason.NonCanonicalSignature));
    }
}
