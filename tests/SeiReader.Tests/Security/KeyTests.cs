using System.Diagnostics;
using System.Security.Cryptography;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Security;

public class KeyTests
{
    [Test]
    public void Generate_ThenPemRoundTrip_KeepsKeyAndKeyId()
    {
        using var key = SigningKey.Generate(42);
        var privatePem = key.ExportPem();
        var publicPem = key.PublicKey.ExportPem();
        Assert.Multiple(() =>
        {
            Assert.That(privatePem, Does.StartWith("CatEvening-Key-Id: 42\n-----BEGIN PRIVATE KEY-----\n"));
            Assert.That(publicPem, Does.StartWith("CatEvening-Key-Id: 42\n-----BEGIN PUBLIC KEY-----\n"));
        });
        using var loaded = SigningKey.FromPem(privatePem);
        using var pub = VerificationKey.FromPem(publicPem);
        var data = "hello"u8.ToArray();
        var sig = new byte[64];
        loaded.Sign(data, sig);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.KeyId, Is.EqualTo(42));
            Assert.That(pub.KeyId, Is.EqualTo(42));
            Assert.That(pub.Verify(data, sig), Is.True);
            Assert.That(key.PublicKey.Verify(data, sig), Is.True);
            Assert.That(pub.SubjectPublicKeyInfo.ToArray(), Is.EqualTo(key.PublicKey.SubjectPublicKeyInfo.ToArray()));
        });
    }

    [Test]
    public void FromPem_ExplicitKeyId_OverridesThePemLine()
    {
        using var key = SigningKey.FromPem(TestKeys.Key1PrivatePem, keyId: 9);
        Assert.That(key.KeyId, Is.EqualTo(9));
    }

    [Test]
    public void FromPem_NoKeyIdAnywhere_ThrowsFormatException()
    {
        var bare = TestKeys.Key1PrivatePem.Substring(TestKeys.Key1PrivatePem.IndexOf("-----BEGIN", StringComparison.Ordinal));
        Assert.That(() => SigningKey.FromPem(bare), Throws.InstanceOf<FormatException>().With.Message.Contains("CatEvening-Key-Id"));
        using var key = SigningKey.FromPem(bare, 3);
        Assert.That(key.KeyId, Is.EqualTo(3));
    }

    [Test]
    public void FromPem_OtherCurve_IsRefused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var pem = "CatEvening-Key-Id: 1\n" + new string(PemEncoding.Write("PRIVATE KEY", p384.ExportPkcs8PrivateKey()));
        Assert.That(() => SigningKey.FromPem(pem), Throws.InstanceOf<FormatException>().With.Message.Contains("P-256"));
        var pubPem = new string(PemEncoding.Write("PUBLIC KEY", p384.ExportSubjectPublicKeyInfo()));
        Assert.That(() => VerificationKey.FromPem(pubPem, 1), Throws.InstanceOf<FormatException>().With.Message.Contains("P-256"));
    }

    [TestCase("not a pem")]
    [TestCase("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n")]
    [TestCase("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")]
    [TestCase("-----BEGIN PUBLIC KEY-----\nAAAA\n")]
    [TestCase("CatEvening-Key-Id: 70000\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")]
    public void FromPem_Garbage_ThrowsFormatException(string pem) =>
        Assert.That(() => VerificationKey.FromPem(pem, pem.Contains("Key-Id") ? null : (ushort)1), Throws.InstanceOf<FormatException>());

    [Test]
    public void FromPem_Sec1EcPrivateKeyFromOpenSsl_IsAccepted()
    {
        var sec1 = RunOpenSsl("ecparam -name prime256v1 -genkey -noout");
        using var key = SigningKey.FromPem(sec1, 5);
        Assert.That(key.ExportPem(), Does.Contain("BEGIN PRIVATE KEY"));
    }

    [Test]
    public void Sign_OpenSslVerifiesTheSignatureWithOurPublicPem()
    {
        using var key = TestKeys.Key1();
        var dir = Directory.CreateTempSubdirectory("catevening-openssl");
        try
        {
            var data = "CatEvening signs this"u8.ToArray();
            var sig = new byte[64];
            key.Sign(data, sig);
            File.WriteAllBytes(Path.Combine(dir.FullName, "data"), data);
            File.WriteAllBytes(Path.Combine(dir.FullName, "sig.der"), P1363ToDer(sig));
            File.WriteAllText(Path.Combine(dir.FullName, "pub.pem"), key.PublicKey.ExportPem());
            var output = RunOpenSsl($"dgst -sha256 -verify {dir.FullName}/pub.pem -signature {dir.FullName}/sig.der {dir.FullName}/data");
            Assert.That(output.Trim(), Is.EqualTo("Verified OK"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void KeyRing_AddRemoveAndDuplicates()
    {
        using var k1 = TestKeys.Key1();
        using var k2 = TestKeys.Key2();
        var ring = new KeyRing(k1.PublicKey);
        var v0 = ring.Version;
        ring.AddPem(k2.PublicKey.ExportPem());
        Assert.Multiple(() =>
        {
            Assert.That(ring.KeyIds, Is.EquivalentTo(new ushort[] { 1, 2 }));
            Assert.That(ring.Version, Is.GreaterThan(v0));
            Assert.That(() => ring.Add(k1.PublicKey), Throws.ArgumentException);
            Assert.That(ring.Remove(1), Is.True);
            Assert.That(ring.Remove(1), Is.False);
            Assert.That(ring.TryGet(1, out _), Is.False);
            Assert.That(ring.TryGet(2, out var got) && got.KeyId == 2, Is.True);
        });
    }

    private static byte[] P1363ToDer(byte[] sig)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(Minimal(sig.AsSpan(0, 32)));
            writer.WriteIntegerUnsigned(Minimal(sig.AsSpan(32, 32)));
        }
        return writer.Encode();
    }

    private static ReadOnlySpan<byte> Minimal(ReadOnlySpan<byte> v)
    {
        while (v.Length > 1 && v[0] == 0) v = v.Slice(1);
        return v;
    }

    private static string RunOpenSsl(string args)
    {
        var psi = new ProcessStartInfo("openssl", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, $"openssl {args}: {stderr}");
        return stdout;
    }
}
