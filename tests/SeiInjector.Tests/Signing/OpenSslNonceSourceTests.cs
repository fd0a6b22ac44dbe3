using System.Numerics;
using System.Security.Cryptography;
using CatEvening.SeiInjector.Signing;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Signing;

/// <summary>
/// Issue 9 (CPU per live stream): the injector's ECDSA nonces from libcrypto directly (<see cref="OpenSslNonceSource"/>).
/// The runtime is the oracle: for every k the source gives, the runtime's own P-256 key with that private scalar must
/// have the point x the source gave; signatures made from the pool must verify with the runtime and the reader.
/// </summary>
public class OpenSslNonceSourceTests
{
    private static readonly BigInteger N = new(Convert.FromHexString("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"), isUnsigned: true, isBigEndian: true);

    private static OpenSslNonceSource Create()
    {
        var source = OpenSslNonceSource.TryCreate(out var why);
        // CI and the README's machines are Linux with OpenSSL 3 (the runtime's own crypto library): it must load there.
        if (source is null && OperatingSystem.IsLinux()) Assert.Fail($"no OpenSSL nonce source on Linux: {why}");
        if (source is null) Assert.Ignore($"no OpenSSL nonce source here: {why}");
        return source!;
    }

    [Test]
    public void EveryNonce_IsInRange_Fresh_AndItsPointIsTheRuntimes()
    {
        using var source = Create();
        var k = new byte[32];
        var x = new byte[32];
        var seen = new HashSet<string>();
        for (var i = 0; i < 64; i++)
        {
            source.Generate(k, x);
            var value = new BigInteger(k, isUnsigned: true, isBigEndian: true);
            Assert.That(value > 0 && value < N, Is.True, $"nonce {i} in [1, n − 1]");
            Assert.That(seen.Add(Convert.ToHexString(k)), Is.True, $"nonce {i} is new");
            using var runtime = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = (byte[])k.Clone() });
            Assert.That(x, Is.EqualTo(runtime.ExportParameters(includePrivateParameters: false).Q.X), $"x of k·G, nonce {i}");
        }
    }

    [Test]
    public void SigningKey_WithOpenSslNonces_SignsWhatTheRuntimeAndTheReaderVerify()
    {
        using var key = SigningKey.Generate(7);
        key.PrecomputeNonces(8, Create());
        var pool = key.Nonces!;
        Assert.That(SpinWait.SpinUntil(() => pool.Ready == 8, TimeSpan.FromSeconds(60)), Is.True, "the pool filled");
        using var runtime = ECDsa.Create();
        runtime.ImportFromPem(key.ExportPem().Split('\n', 2)[1]);
        var data = new byte[150];
        var signature = new byte[64];
        var rs = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            data[0] = (byte)i;
            key.Sign(data, signature);
            Assert.That(runtime.VerifyData(data, signature, HashAlgorithmName.SHA256), Is.True, $"signature {i}, runtime");
            Assert.That(key.PublicKey.Verify(data, signature), Is.True, $"signature {i}, reader");
            Assert.That(rs.Add(Convert.ToHexString(signature, 0, 32)), Is.True, $"r of signature {i} is new");
        }
        Assert.That(pool.Failed, Is.False);
        Assert.That(pool.Taken, Is.GreaterThan(0), "the pool served signatures");
    }

    // The start-up check: a libcrypto whose k·G disagrees with the runtime's (a broken or foreign build) is not used, and
    // says why; the caller then keeps the runtime's key generation. The oracle is swapped for one that disagrees.
    [Test]
    public void FirstNonce_WhosePointDisagreesWithTheRuntimes_IsRefused_WithTheReason()
    {
        Create().Dispose();
        byte[]? seenK = null;
        var wrong = OpenSslNonceSource.TryCreate(k => { seenK = (byte[])k.Clone(); var x = RuntimeX(k); x![^1] ^= 1; return x; }, out var wrongWhy);
        var none = OpenSslNonceSource.TryCreate(_ => null, out var noneWhy);
        using var right = OpenSslNonceSource.TryCreate(RuntimeX, out var rightWhy);
        Assert.Multiple(() =>
        {
            Assert.That(wrong, Is.Null);
            Assert.That(wrongWhy, Does.Contain("differs from the runtime's"));
            Assert.That(none, Is.Null);
            Assert.That(noneWhy, Does.Contain("differs from the runtime's"));
            Assert.That(right, Is.Not.Null, rightWhy);
            Assert.That(rightWhy, Is.Null);
            Assert.That(seenK, Is.Not.Null.And.Not.All.EqualTo((byte)0), "the oracle was asked about the nonce's k");
        });

        static byte[]? RuntimeX(byte[] k)
        {
            using var runtime = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = (byte[])k.Clone() });
            return runtime.ExportParameters(includePrivateParameters: false).Q.X;
        }
    }

    [Test]
    public void Disposed_RefusesToGenerate()
    {
        var source = Create();
        source.Dispose();
        source.Dispose();
        Assert.That(() => source.Generate(new byte[32], new byte[32]), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public void ShortBuffers_AreRefused()
    {
        using var source = Create();
        Assert.That(() => source.Generate(new byte[31], new byte[32]), Throws.ArgumentException);
    }
}
