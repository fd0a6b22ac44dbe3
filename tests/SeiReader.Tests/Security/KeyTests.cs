using System.Diagnostics;
using System.Security.Cryptography;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
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
        // The message says how to mend the file (a fresh tester's remark: "pass the key id" named no option of the CLI).
        Assert.That(() => SigningKey.FromPem(bare), Throws.InstanceOf<FormatException>().With.Message.Contains("CatEvening-Key-Id")
            .And.Message.Contains("sei-inject keygen writes that line").And.Message.Contains("add one, e.g. 'CatEvening-Key-Id: 1'"));
        using var key = SigningKey.FromPem(bare, 3);
        Assert.That(key.KeyId, Is.EqualTo(3));
    }

    // An openssl key (no key id line) of another curve: the curve is the fault told, not the missing key id line, in PKCS#8
    // and in SEC 1 (whose 48-byte P-384 scalar was called "a private key of 48 bytes; P-256 has 32").
    [Test]
    public void FromPem_OtherCurveWithoutKeyIdLine_TellsTheCurveFirst()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var pem = new string(PemEncoding.Write("PRIVATE KEY", p384.ExportPkcs8PrivateKey()));
        var sec1 = new string(PemEncoding.Write("EC PRIVATE KEY", p384.ExportECPrivateKey()));
        Assert.That(() => SigningKey.FromPem(sec1), Throws.InstanceOf<KeyFormatException>()
            .With.Property(nameof(KeyFormatException.Error)).EqualTo(KeyFormatError.UnsupportedCurve));
        var pubPem = new string(PemEncoding.Write("PUBLIC KEY", p384.ExportSubjectPublicKeyInfo()));
        Assert.Multiple(() =>
        {
            Assert.That(() => SigningKey.FromPem(pem), Throws.InstanceOf<KeyFormatException>().With.Message.Contains("P-256").And.Message.Not.Contains("Key-Id"));
            Assert.That(() => VerificationKey.FromPem(pubPem), Throws.InstanceOf<KeyFormatException>().With.Message.Contains("P-256").And.Message.Not.Contains("Key-Id"));
        });
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

    private static IEnumerable<BrokenKey> BrokenPublicKeys() => BrokenKeys.Public().Concat(BrokenKeys.Text("PUBLIC KEY"));

    private static IEnumerable<BrokenKey> BrokenPrivateKeys() =>
        BrokenKeys.Private().Concat(BrokenKeys.Text("PRIVATE KEY")).Concat(BrokenKeys.Text("EC PRIVATE KEY").Skip(4));

    [TestCaseSource(nameof(BrokenPublicKeys))]
    public void VerificationKeyFromPem_BrokenOrUnsupportedKey_ThrowsKeyFormatExceptionWithItsError(BrokenKey broken)
    {
        var e = Assert.Throws<KeyFormatException>(() => VerificationKey.FromPem(broken.Pem).Dispose())!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Error.ToString(), Is.EqualTo(broken.Error), e.Message);
            Assert.That(e.Message, Is.Not.Empty);
        });
        Assert.That(() => new KeyRing().AddPem(broken.Pem), Throws.TypeOf<KeyFormatException>());
    }

    [TestCaseSource(nameof(BrokenPrivateKeys))]
    public void SigningKeyFromPem_BrokenOrUnsupportedKey_ThrowsKeyFormatExceptionWithItsError(BrokenKey broken)
    {
        var e = Assert.Throws<KeyFormatException>(() => SigningKey.FromPem(broken.Pem).Dispose())!;
        Assert.That(e.Error.ToString(), Is.EqualTo(broken.Error), e.Message);
    }

    [Test]
    public void FromPem_CurveOidFlippedAsInH9_NamesTheCurveAndItsOffset()
    {
        using var key = SigningKey.Generate(1);
        var der = key.PublicKey.SubjectPublicKeyInfo.ToArray();
        var at = der.AsSpan().IndexOf(new byte[] { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 });
        der[at + 4] ^= 1;
        var e = Assert.Throws<KeyFormatException>(() => VerificationKey.FromSubjectPublicKeyInfo(1, der))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Error, Is.EqualTo(KeyFormatError.UnsupportedCurve));
            Assert.That(e.Offset, Is.EqualTo(at));
            Assert.That(e.Message, Does.Contain("1.2.840.10044.3.1.7").And.Contain("P-256"));
        });
    }

    [Test]
    public void FromSubjectPublicKeyInfo_RandomBytes_OnlyEverThrowsKeyFormatException()
    {
        using var key = SigningKey.Generate(1);
        var good = key.PublicKey.SubjectPublicKeyInfo.ToArray();
        var random = new Random(10);
        for (var i = 0; i < 20_000; i++)
        {
            var der = (byte[])good.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--) der[random.Next(der.Length)] ^= (byte)(1 << random.Next(8));
            if (random.Next(4) == 0) der = der[..random.Next(der.Length)];
            try
            {
                VerificationKey.FromSubjectPublicKeyInfo(1, der).Dispose();
            }
            catch (KeyFormatException)
            {
            }
        }
    }

    [Test]
    public void FromPem_Sec1WithoutPublicKey_IsAcceptedAndDerivesIt()
    {
        var sec1 = RunOpenSsl("ecparam -name prime256v1 -genkey -noout");
        var path = Path.Combine(Path.GetTempPath(), "catevening-sec1-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, sec1);
        try
        {
            var bare = RunOpenSsl($"ec -in {path} -no_public");
            using var full = SigningKey.FromPem(sec1, 5);
            using var derived = SigningKey.FromPem(bare, 5);
            Assert.That(derived.PublicKey.SubjectPublicKeyInfo.ToArray(), Is.EqualTo(full.PublicKey.SubjectPublicKeyInfo.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void FromPem_Sec1EcPrivateKeyFromOpenSsl_IsAccepted()
    {
        var sec1 = RunOpenSsl("ecparam -name prime256v1 -genkey -noout");
        using var key = SigningKey.FromPem(sec1, 5);
        Assert.That(key.ExportPem(), Does.Contain("BEGIN PRIVATE KEY"));
    }

    // `openssl ecparam -genkey` without -noout writes an EC PARAMETERS block before the key: not a second key.
    [Test]
    public void FromPem_EcParametersBlockBeforeTheKey_IsAccepted()
    {
        var withParameters = RunOpenSsl("ecparam -name prime256v1 -genkey");
        Assert.That(withParameters, Does.Contain("BEGIN EC PARAMETERS").And.Contain("BEGIN EC PRIVATE KEY"));
        using var key = SigningKey.FromPem(withParameters, 5);
        Assert.That(key.KeyId, Is.EqualTo(5));
    }

    // A fresh tester: a file with two keys used the first without a word (its second key's messages never verified).
    [Test]
    public void FromPem_TwoKeysInOneFile_IsRefused_NamingBothOffsets()
    {
        using var one = SigningKey.Generate(1);
        using var two = SigningKey.Generate(2);
        var publics = one.PublicKey.ExportPem() + two.PublicKey.ExportPem();
        var privates = one.ExportPem() + RunOpenSsl("ecparam -name prime256v1 -genkey -noout");
        var second = publics.IndexOf("-----BEGIN", publics.IndexOf("-----END", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Multiple(() =>
        {
            Assert.That(() => VerificationKey.FromPem(publics), Throws.InstanceOf<KeyFormatException>()
                .With.Message.Contains($"two keys in one file (PEM blocks at offsets {publics.IndexOf("-----BEGIN", StringComparison.Ordinal)} and {second})"));
            Assert.That(() => SigningKey.FromPem(privates), Throws.InstanceOf<KeyFormatException>().With.Message.Contains("two keys in one file"));
        });
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
