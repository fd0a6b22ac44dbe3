using System.Numerics;
using System.Security.Cryptography;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Security;

/// <summary>
/// Issue 9 (added latency): ECDSA with nonces computed ahead (<see cref="NoncePool"/>, <see cref="P256Scalar"/>).
/// The online half is pinned to RFC 6979's P-256 / SHA-256 vectors (same k, same r and s), the scalar arithmetic to
/// <see cref="BigInteger"/>, and signatures made through <see cref="SigningKey.PrecomputeNonces(int, NonceSource?)"/> to the runtime's
/// verifier and our own.
/// </summary>
public class NoncePoolTests
{
    private static readonly BigInteger N = Hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    private static readonly BigInteger R = BigInteger.One << 256;

    private static BigInteger Hex(string hex) => new(Convert.FromHexString(hex), isUnsigned: true, isBigEndian: true);

    private static ulong[] Limbs(BigInteger value)
    {
        var bytes = new byte[32];
        value.TryWriteBytes(bytes.AsSpan(32 - value.GetByteCount(isUnsigned: true)), out _, isUnsigned: true, isBigEndian: true);
        var limbs = new ulong[4];
        P256Scalar.FromBigEndian(bytes, limbs);
        return limbs;
    }

    private static BigInteger Value(ReadOnlySpan<ulong> limbs)
    {
        var bytes = new byte[32];
        P256Scalar.ToBigEndian(limbs, bytes);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    private static IEnumerable<BigInteger> Scalars(int seed, int count, BigInteger bound)
    {
        yield return BigInteger.Zero;
        yield return BigInteger.One;
        yield return bound - 1;
        yield return N - 1;
        yield return N / 2;
        var random = new Random(seed);
        var bytes = new byte[32];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(bytes);
            yield return new BigInteger(bytes, isUnsigned: true) % bound;
        }
    }

    [Test]
    public void MontgomeryConstants_AreThoseOfTheP256Order()
    {
        var lowest = (ulong)(N & ulong.MaxValue);
        Assert.That(unchecked(lowest * P256Scalar.NPrime), Is.EqualTo(ulong.MaxValue), "n·n' ≡ −1 mod 2^64");
        var one = new ulong[4];
        P256Scalar.ToMontgomery(Limbs(1), one);
        Assert.That(Value(one), Is.EqualTo(R % N), "1 in Montgomery form is R mod n");
    }

    [Test]
    public void MontgomeryMultiply_MatchesBigInteger_ForOperandsUpToItsBounds()
    {
        var rInverse = BigInteger.ModPow(R, N - 2, N);
        var a = Scalars(1, 300, N).ToArray();
        var b = Scalars(2, 300, R).Take(a.Length).ToArray();
        var product = new ulong[4];
        for (var i = 0; i < a.Length; i++)
        {
            P256Scalar.MontgomeryMultiply(Limbs(a[i]), Limbs(b[i]), product);
            Assert.That(Value(product), Is.EqualTo(a[i] * b[i] * rInverse % N), $"a = {a[i]:x}, b = {b[i]:x}");
        }
    }

    [Test]
    public void AddModN_And_Reduce_MatchBigInteger()
    {
        var a = Scalars(3, 300, N).ToArray();
        var b = Scalars(4, 300, N).Reverse().ToArray();
        var sum = new ulong[4];
        for (var i = 0; i < a.Length; i++)
        {
            P256Scalar.AddModN(Limbs(a[i]), Limbs(b[i]), sum);
            Assert.That(Value(sum), Is.EqualTo((a[i] + b[i]) % N), $"{a[i]:x} + {b[i]:x}");
        }
        foreach (var x in Scalars(5, 300, R))
        {
            P256Scalar.Reduce(Limbs(x), sum);
            Assert.That(Value(sum), Is.EqualTo(x % N), $"{x:x} mod n");
        }
    }

    [Test]
    public void InvertMontgomery_GivesTheInverseModN()
    {
        var montgomery = new ulong[4];
        var inverse = new ulong[4];
        foreach (var k in Scalars(6, 40, N).Where(k => !k.IsZero))
        {
            P256Scalar.ToMontgomery(Limbs(k), montgomery);
            P256Scalar.InvertMontgomery(montgomery, inverse);
            Assert.That(Value(inverse), Is.EqualTo(BigInteger.ModPow(k, N - 2, N) * R % N), $"k = {k:x}");
        }
    }

    // RFC 6979 A.2.5 (ECDSA, 256 bits, prime field): private key x, and for SHA-256 the nonce k and signature (r, s)
    // of the messages "sample" and "test".
    private const string RfcPrivateKey = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";

    [TestCase("sample", "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
        "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")]
    [TestCase("test", "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
        "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
        "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083")]
    public void OfflineThenOnline_WithRfc6979Nonce_GivesRfc6979Signature(string message, string k, string r, string s)
    {
        // k·G from the runtime: a key pair whose private scalar is k.
        using var nonceKey = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = Convert.FromHexString(k) });
        var pointX = nonceKey.ExportParameters(false).Q.X!;
        using var pool = new NoncePool(Convert.FromHexString(RfcPrivateKey), capacity: 2);
        var entry = new ulong[12];
        Assert.That(pool.Prepare(Convert.FromHexString(k), pointX, entry), Is.True);
        var signature = new byte[64];
        Assert.That(NoncePool.SignWith(entry, SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(message)), signature), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(Convert.ToHexString(signature, 0, 32), Is.EqualTo(r), "r");
            Assert.That(Convert.ToHexString(signature, 32, 32), Is.EqualTo(s), "s");
        });
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(16)]
    [TestCase(32)]
    public void PrepareBatch_OneInversionForAll_GivesTheEntriesPrepareGivesOneByOne(int m)
    {
        // m nonces from the runtime (k and the x of k·G), the RFC 6979 "sample" nonce among them.
        var ks = new byte[m * 32];
        var xs = new byte[m * 32];
        for (var i = 0; i < m; i++)
        {
            using var nonceKey = i == m / 2
                ? ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = Convert.FromHexString("A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60") })
                : ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var parameters = nonceKey.ExportParameters(true);
            parameters.D!.CopyTo(ks, i * 32);
            parameters.Q.X!.CopyTo(xs, i * 32);
        }
        using var pool = new NoncePool(Convert.FromHexString(RfcPrivateKey), capacity: 2);
        var batch = new ulong[m * 12];
        Assert.That(pool.PrepareBatch(ks, xs, batch), Is.EqualTo(m), "entries made");
        // The batch is written from the last nonce to the first.
        for (var i = 0; i < m; i++)
        {
            var single = new ulong[12];
            Assert.That(pool.Prepare(ks.AsSpan(i * 32, 32), xs.AsSpan(i * 32, 32), single), Is.True);
            Assert.That(batch.AsSpan((m - 1 - i) * 12, 12).ToArray(), Is.EqualTo(single), $"entry of nonce {i}");
        }
        var signature = new byte[64];
        Assert.That(NoncePool.SignWith(batch.AsSpan((m - 1 - m / 2) * 12, 12), SHA256.HashData("sample"u8), signature), Is.True);
        Assert.That(Convert.ToHexString(signature), Is.EqualTo("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716" +
            "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"), "RFC 6979 A.2.5 signature of 'sample' from the batch's entry");
    }

    [Test]
    public void PrepareBatch_SkipsAnEntryWhoseRIsZero_AndMakesTheOthers()
    {
        // x ≡ 0 mod n gives r = 0 (FIPS 186-4 §6.4: choose another k); the batch goes on with the rest.
        var ks = new byte[3 * 32];
        var xs = new byte[3 * 32];
        for (var i = 0; i < 3; i++)
        {
            using var nonceKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var parameters = nonceKey.ExportParameters(true);
            parameters.D!.CopyTo(ks, i * 32);
            if (i != 1) parameters.Q.X!.CopyTo(xs, i * 32);
        }
        using var pool = new NoncePool(Convert.FromHexString(RfcPrivateKey), capacity: 2);
        var batch = new ulong[3 * 12];
        Assert.That(pool.PrepareBatch(ks, xs, batch), Is.EqualTo(2));
        var first = new ulong[12];
        pool.Prepare(ks.AsSpan(0, 32), xs.AsSpan(0, 32), first);
        var third = new ulong[12];
        pool.Prepare(ks.AsSpan(64, 32), xs.AsSpan(64, 32), third);
        Assert.Multiple(() =>
        {
            Assert.That(batch.AsSpan(0, 12).ToArray(), Is.EqualTo(third), "written first: the last nonce");
            Assert.That(batch.AsSpan(12, 12).ToArray(), Is.EqualTo(first));
            Assert.That(batch.AsSpan(24, 12).ToArray(), Is.All.EqualTo(0UL), "the unused entry is left wiped");
        });
    }

    private static NoncePool StartedAndFull(SigningKey key, int capacity)
    {
        key.PrecomputeNonces(capacity);
        var pool = key.Nonces!;
        // Waits on the condition (bounded), not on a time: the filler makes a few hundred key pairs a second even loaded.
        Assert.That(SpinWait.SpinUntil(() => pool.Ready == capacity, TimeSpan.FromSeconds(60)), Is.True, "the pool filled");
        return pool;
    }

    [Test]
    public void SigningKey_WithPrecomputedNonces_SignsWhatTheRuntimeAndTheReaderVerify_WithAFreshNonceEachTime()
    {
        using var key = TestKeys.Key1();
        var pool = StartedAndFull(key, 16);
        using var runtime = ECDsa.Create();
        runtime.ImportFromPem(TestKeys.Key1PrivatePem);
        var signer = new MessageSigner(key);
        var verifier = new MessageVerifier(new KeyRing(key.PublicKey));
        var seen = new HashSet<string>();
        var data = new byte[150];
        var signature = new byte[64];
        for (var i = 0; i < 8; i++)
        {
            data[0] = (byte)i;
            key.Sign(data, signature);
            Assert.That(runtime.VerifyData(data, signature, HashAlgorithmName.SHA256), Is.True, $"raw signature {i}");
            Assert.That(P256.IsLowS(signature.AsSpan(32)), Is.True, $"low s {i}");
            Assert.That(seen.Add(Convert.ToHexString(signature, 0, 32)), Is.True, $"r of signature {i} is new");
            var payload = signer.Sign(TestKeys.Heartbeat(seq: 100 + i));
            Assert.That(verifier.Verify(payload, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted), $"payload {i}");
            Assert.That(seen.Add(Convert.ToHexString(payload, payload.Length - 64, 32)), Is.True, $"r of payload {i} is new");
        }
        Assert.That(pool.Taken, Is.EqualTo(16), "every signature came from the pool");
    }

    [Test]
    public void SigningKey_PoolExhaustedOrGone_SignsTheUsualWay()
    {
        using var key = TestKeys.Key1();
        var pool = StartedAndFull(key, 2);
        pool.Dispose();
        var data = new byte[] { 1, 2, 3 };
        var signature = new byte[64];
        key.Sign(data, signature);
        Assert.Multiple(() =>
        {
            Assert.That(key.PublicKey.Verify(data, signature), Is.True);
            Assert.That(pool.Missed, Is.EqualTo(1), "asked the pool, which had nothing");
            Assert.That(pool.Ready, Is.Zero, "disposing wiped the entries");
        });
    }

    // A source that counts its nonces and its disposal; fails every nonce after `failAfter`.
    private sealed class CountingSource(int failAfter = int.MaxValue, bool failOtherwise = false) : NonceSource
    {
        private readonly NonceSource _runtime = CreateRuntime();
        public int Generated;
        public int Disposed;

        public override void Generate(Span<byte> k, Span<byte> pointX)
        {
            if (Generated >= failAfter)
                throw failOtherwise ? new ObjectDisposedException("test source") : new CryptographicException("test source: no more nonces");
            _runtime.Generate(k, pointX);
            Generated++;
        }

        protected override void Dispose(bool disposing)
        {
            Disposed++;
            _runtime.Dispose();
        }
    }

    [Test]
    public void PrecomputeNonces_WithAGivenSource_FillsFromIt_AndDisposesItWithThePool()
    {
        using var key = TestKeys.Key1();
        var source = new CountingSource();
        key.PrecomputeNonces(4, source);
        var pool = key.Nonces!;
        Assert.That(SpinWait.SpinUntil(() => pool.Ready == 4, TimeSpan.FromSeconds(60)), Is.True, "the pool filled");
        var data = new byte[] { 9, 8, 7 };
        var signature = new byte[64];
        key.Sign(data, signature);
        var second = new CountingSource();
        key.PrecomputeNonces(4, second);
        Assert.Multiple(() =>
        {
            Assert.That(key.PublicKey.Verify(data, signature), Is.True);
            Assert.That(pool.Taken, Is.EqualTo(1));
            Assert.That(source.Generated, Is.GreaterThanOrEqualTo(4), "the pool's nonces are the source's");
            Assert.That(second.Disposed, Is.EqualTo(1), "a source given while a pool runs is disposed, not leaked");
        });
        pool.Dispose();
        Assert.That(SpinWait.SpinUntil(() => Volatile.Read(ref source.Disposed) == 1, TimeSpan.FromSeconds(30)), Is.True, "the filler disposed its source");
    }

    // Any exception from a host's source (a CryptographicException, or an ObjectDisposedException from a source disposed
    // under the pool) stops the filling; none may escape the filler thread, which would end the process.
    [TestCase(false)]
    [TestCase(true)]
    public void PrecomputeNonces_SourceFails_PoolStopsFilling_AndSignaturesStillVerify(bool notACryptographicException)
    {
        using var key = TestKeys.Key1();
        var source = new CountingSource(failAfter: 0, failOtherwise: notACryptographicException);
        key.PrecomputeNonces(4, source);
        var pool = key.Nonces!;
        Assert.That(SpinWait.SpinUntil(() => pool.Failed, TimeSpan.FromSeconds(60)), Is.True, "the pool saw the failure");
        var data = new byte[] { 1 };
        var signature = new byte[64];
        key.Sign(data, signature);
        Assert.Multiple(() =>
        {
            Assert.That(key.PublicKey.Verify(data, signature), Is.True, "signed the usual way");
            Assert.That(pool.Missed, Is.EqualTo(1));
            Assert.That(SpinWait.SpinUntil(() => Volatile.Read(ref source.Disposed) == 1, TimeSpan.FromSeconds(30)), Is.True, "disposed when the filler stopped");
        });
    }

    [Test]
    public void PrecomputeNonces_OnADisposedKey_Throws_AndDisposesTheSourceGiven()
    {
        var key = TestKeys.Key1();
        key.Dispose();
        var source = new CountingSource();
        Assert.That(() => key.PrecomputeNonces(4, source), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(source.Disposed, Is.EqualTo(1));
    }

    [Test]
    public void PrecomputeNonces_CapacityBelowTwo_Throws()
    {
        using var key = TestKeys.Key1();
        Assert.That(() => key.PrecomputeNonces(1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
