using System;
using System.Security.Cryptography;
using System.Threading;

#if NET
namespace CatEvening.SeiReader.Security;

/// <summary>
/// ECDSA P-256 signing with the nonce's share of the work done ahead, on a background thread (offline/online
/// signing). An ECDSA signature (FIPS 186-4 §6.4, SEC 1 §4.1.3) is r = (k·G).x mod n and s = k⁻¹·(z + r·d) mod n for
/// a fresh random nonce k; everything but z, the message hash, can be computed before the message exists. The pool
/// keeps up to <see cref="Capacity"/> entries (r, k⁻¹ in Montgomery form, k⁻¹·r·d mod n); a signature then costs a
/// SHA-256, one Montgomery multiplication and one addition, instead of a scalar multiplication whose code and tables a
/// thread that just woke from <c>poll()</c> must first bring back into its caches (95-175 µs against 23 µs hot:
/// benchmarks/RESULTS.md, sign-after-idle).
/// <para>Each entry is taken once and wiped as it is taken, so a nonce is never used twice; k itself is not kept. The
/// nonces and their points k·G come from a <see cref="NonceSource"/> (the runtime's key generation unless the host gives
/// another), which the pool owns. Entries are as secret as the private key and live in the same process;
/// <see cref="Dispose"/> wipes them. Thread-safe.</para>
/// </summary>
internal sealed class NoncePool : IDisposable
{
    // One entry: r (plain), k⁻¹·R mod n (Montgomery form), k⁻¹·r·d mod n (plain); 4 limbs each.
    private const int EntryLimbs = 3 * P256Scalar.Limbs;

    private readonly ulong[] _dMontgomery = new ulong[P256Scalar.Limbs];
    private readonly ulong[] _entries;
    private readonly object _gate = new();
    private readonly AutoResetEvent _refill = new(initialState: true);
    private readonly Thread _filler;
    private readonly NonceSource _source;
    private int _first;
    private int _count;
    private volatile bool _disposed;
    private long _taken;
    private long _missed;
    private int _failed;

    /// <summary>Starts filling a pool for the private scalar <paramref name="d"/> (32 bytes big-endian, in [1, n − 1];
    /// the caller keeps and wipes its copy), with nonces from <paramref name="source"/> (owned by the pool from here on;
    /// null: the runtime's).</summary>
    internal NoncePool(ReadOnlySpan<byte> d, int capacity, NonceSource? source = null)
    {
        if (capacity < 2) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "at least 2");
        Capacity = capacity;
        _source = source ?? NonceSource.CreateRuntime();
        _entries = new ulong[capacity * EntryLimbs];
        Span<ulong> plain = stackalloc ulong[P256Scalar.Limbs];
        P256Scalar.FromBigEndian(d, plain);
        P256Scalar.ToMontgomery(plain, _dMontgomery);
        plain.Clear();
        _filler = new Thread(Fill) { IsBackground = true, Name = "CatEvening nonce pool" };
        _filler.Start();
    }

    /// <summary>Entries kept ready.</summary>
    internal int Capacity { get; }

    /// <summary>Signatures made from a pool entry.</summary>
    internal long Taken => Interlocked.Read(ref _taken);

    /// <summary>Signatures asked for while the pool was empty (the caller signed the slow way).</summary>
    internal long Missed => Interlocked.Read(ref _missed);

    /// <summary>True once generating a nonce failed; the pool then drains and is not refilled.</summary>
    internal bool Failed => Volatile.Read(ref _failed) != 0;

    /// <summary>Entries ready now.</summary>
    internal int Ready
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Signs the 32-byte <paramref name="hash"/> (z, SHA-256 of the message) into the 64-byte P1363
    /// <paramref name="signature"/> (r ‖ s, big-endian; s not yet normalized to low s) with one pool entry.</summary>
    /// <returns>False when the pool is empty or disposed (nothing written; the caller signs the usual way).</returns>
    internal bool TrySign(ReadOnlySpan<byte> hash, Span<byte> signature)
    {
        Span<ulong> entry = stackalloc ulong[EntryLimbs];
        if (!TryTake(entry))
        {
            Interlocked.Increment(ref _missed);
            return false;
        }
        Interlocked.Increment(ref _taken);
        var ok = SignWith(entry, hash, signature);
        entry.Clear();
        return ok;
    }

    /// <summary>The online half: s = k⁻¹·z + k⁻¹·r·d mod n. False (nothing usable written) when s = 0, which FIPS
    /// 186-4 §6.4 says to retry with another k.</summary>
    internal static bool SignWith(ReadOnlySpan<ulong> entry, ReadOnlySpan<byte> hash, Span<byte> signature)
    {
        var r = entry.Slice(0, P256Scalar.Limbs);
        var kInverseMontgomery = entry.Slice(P256Scalar.Limbs, P256Scalar.Limbs);
        var kInverseRD = entry.Slice(2 * P256Scalar.Limbs, P256Scalar.Limbs);
        Span<ulong> s = stackalloc ulong[P256Scalar.Limbs];
        // z: the hash's leftmost 256 bits (all of SHA-256) as an integer (SEC 1 §4.1.3 step 5); may exceed n.
        P256Scalar.FromBigEndian(hash, s);
        P256Scalar.MontgomeryMultiply(kInverseMontgomery, s, s); // k⁻¹·R · z · R⁻¹ = k⁻¹·z mod n
        P256Scalar.AddModN(s, kInverseRD, s);
        var ok = !P256Scalar.IsZero(s);
        if (ok)
        {
            P256Scalar.ToBigEndian(r, signature.Slice(0, P256.ScalarLength));
            P256Scalar.ToBigEndian(s, signature.Slice(P256.ScalarLength, P256.ScalarLength));
        }
        s.Clear();
        return ok;
    }

    /// <summary>The offline half for a nonce k (32 bytes big-endian, in [1, n − 1]) and r = (k·G).x mod n: writes the
    /// entry (r, k⁻¹·R mod n, k⁻¹·r·d mod n). False when r = 0 (FIPS 186-4 §6.4: choose another k). The pool fills with
    /// <see cref="PrepareBatch"/>; this one-inversion-per-nonce form is the reference its tests compare against.</summary>
    internal bool Prepare(ReadOnlySpan<byte> k, ReadOnlySpan<byte> pointX, Span<ulong> entry)
    {
        Span<ulong> kInverseMontgomery = stackalloc ulong[P256Scalar.Limbs];
        P256Scalar.FromBigEndian(k, kInverseMontgomery);
        P256Scalar.ToMontgomery(kInverseMontgomery, kInverseMontgomery);
        P256Scalar.InvertMontgomery(kInverseMontgomery, kInverseMontgomery);
        var ok = Complete(kInverseMontgomery, pointX, entry);
        kInverseMontgomery.Clear();
        return ok;
    }

    /// <summary>
    /// The offline half for a batch of nonces: <paramref name="ks"/> holds m nonces (32 bytes big-endian each, in
    /// [1, n − 1]) and <paramref name="pointXs"/> their points' x (32 bytes each); writes the usable entries one after the
    /// other into <paramref name="entries"/> (at least m entries long) and returns how many (an r = 0 is skipped, as
    /// FIPS 186-4 §6.4 says). One modular inversion serves the whole batch (Montgomery's trick: invert the product
    /// k₁·…·kₘ, then peel each k⁻¹ off it with two multiplications), instead of one ~380-multiplication inversion per
    /// entry. The scratch it uses is wiped before it returns.
    /// </summary>
    internal int PrepareBatch(ReadOnlySpan<byte> ks, ReadOnlySpan<byte> pointXs, Span<ulong> entries, Span<ulong> scratch = default)
    {
        const int L = P256Scalar.Limbs;
        var m = ks.Length / P256.ScalarLength;
        if (ks.Length != m * P256.ScalarLength || pointXs.Length != ks.Length || entries.Length < m * EntryLimbs)
            throw new ArgumentException("ks and pointXs hold m 32-byte values each, entries room for m entries");
        if (m == 0) return 0;
        // The filler passes its own scratch (BatchScratchLimbs(Capacity)); a caller without one gets it allocated.
        if (scratch.Length < BatchScratchLimbs(m)) scratch = new ulong[BatchScratchLimbs(m)];
        // kMontgomery[i] = kᵢ·R; prefix[i] = k₁·…·kᵢ·R (all mod n).
        var kMontgomery = scratch.Slice(0, m * L);
        var prefix = scratch.Slice(m * L, m * L);
        Span<ulong> inverse = stackalloc ulong[L];
        Span<ulong> kInverse = stackalloc ulong[L];
        try
        {
            for (var i = 0; i < m; i++)
            {
                var ki = kMontgomery.Slice(i * L, L);
                P256Scalar.FromBigEndian(ks.Slice(i * P256.ScalarLength, P256.ScalarLength), ki);
                P256Scalar.ToMontgomery(ki, ki);
                if (i == 0) ki.CopyTo(prefix.Slice(0, L));
                else P256Scalar.MontgomeryMultiply(prefix.Slice((i - 1) * L, L), ki, prefix.Slice(i * L, L));
            }
            P256Scalar.InvertMontgomery(prefix.Slice((m - 1) * L, L), inverse); // (k₁·…·kₘ)⁻¹·R
            var made = 0;
            for (var i = m - 1; i >= 0; i--)
            {
                if (i == 0)
                {
                    inverse.CopyTo(kInverse);
                }
                else
                {
                    // kᵢ⁻¹ = (k₁·…·kᵢ)⁻¹ · (k₁·…·kᵢ₋₁); then (k₁·…·kᵢ₋₁)⁻¹ = (k₁·…·kᵢ)⁻¹ · kᵢ.
                    P256Scalar.MontgomeryMultiply(inverse, prefix.Slice((i - 1) * L, L), kInverse);
                    P256Scalar.MontgomeryMultiply(inverse, kMontgomery.Slice(i * L, L), inverse);
                }
                if (Complete(kInverse, pointXs.Slice(i * P256.ScalarLength, P256.ScalarLength), entries.Slice(made * EntryLimbs, EntryLimbs)))
                    made++;
            }
            entries.Slice(made * EntryLimbs, (m - made) * EntryLimbs).Clear();
            return made;
        }
        finally
        {
            kMontgomery.Clear();
            prefix.Clear();
            inverse.Clear();
            kInverse.Clear();
        }
    }

    // Limbs of scratch PrepareBatch uses for m nonces: kᵢ·R and the prefix products.
    private static int BatchScratchLimbs(int m) => 2 * m * P256Scalar.Limbs;

    // The entry (r, k⁻¹·R, k⁻¹·r·d) from k⁻¹·R mod n and the x of k·G. False when r = 0.
    private bool Complete(ReadOnlySpan<ulong> kInverseMontgomery, ReadOnlySpan<byte> pointX, Span<ulong> entry)
    {
        var r = entry.Slice(0, P256Scalar.Limbs);
        var kInverseRD = entry.Slice(2 * P256Scalar.Limbs, P256Scalar.Limbs);
        Span<ulong> scratch = stackalloc ulong[P256Scalar.Limbs];
        P256Scalar.FromBigEndian(pointX, scratch);
        P256Scalar.Reduce(scratch, r); // x < p < 2n
        scratch.Clear();
        if (P256Scalar.IsZero(r))
        {
            entry.Clear();
            return false;
        }
        kInverseMontgomery.CopyTo(entry.Slice(P256Scalar.Limbs, P256Scalar.Limbs));
        P256Scalar.MontgomeryMultiply(kInverseMontgomery, r, scratch); // k⁻¹·r (plain)
        P256Scalar.MontgomeryMultiply(scratch, _dMontgomery, kInverseRD); // k⁻¹·r·d (plain)
        scratch.Clear();
        return true;
    }

    private bool TryTake(Span<ulong> entry)
    {
        bool ok, low;
        lock (_gate)
        {
            ok = _count > 0 && !_disposed;
            if (ok)
            {
                var slot = _entries.AsSpan(_first * EntryLimbs, EntryLimbs);
                slot.CopyTo(entry);
                slot.Clear();
                _first = (_first + 1) % Capacity;
                _count--;
            }
            low = _count <= Capacity / 2;
        }
        // Wakes the filler once the pool is half empty, not for every entry taken: one wake-up per Capacity/2 signatures.
        if (low && !_disposed) _refill.Set();
        return ok;
    }

    // Waits until the pool is half empty, then refills it in one batch: the nonces and their points first (the source's),
    // then one inversion for all of them (PrepareBatch). The source is used from this thread only and disposed here.
    private void Fill()
    {
        var ks = new byte[Capacity * P256.ScalarLength];
        var xs = new byte[Capacity * P256.ScalarLength];
        var prepared = new ulong[Capacity * EntryLimbs];
        var batchScratch = new ulong[BatchScratchLimbs(Capacity)];
        try
        {
            while (true)
            {
                _refill.WaitOne();
                if (_disposed) return;
                int wanted;
                lock (_gate) wanted = Capacity - _count;
                var generated = 0;
                try
                {
                    for (; generated < wanted && !_disposed; generated++)
                        _source.Generate(ks.AsSpan(generated * P256.ScalarLength, P256.ScalarLength), xs.AsSpan(generated * P256.ScalarLength, P256.ScalarLength));
                }
                catch (Exception)
                {
                    // The source could not make a nonce (a CryptographicException, or anything a host's source throws, e.g.
                    // disposed under it): stop filling; signatures take the usual way from now on. An exception left to
                    // escape this background thread would end the process.
                    Interlocked.Exchange(ref _failed, 1);
                    return;
                }
                var made = PrepareBatch(ks.AsSpan(0, generated * P256.ScalarLength), xs.AsSpan(0, generated * P256.ScalarLength), prepared, batchScratch);
                CryptographicOperations.ZeroMemory(ks);
                lock (_gate)
                {
                    for (var i = 0; i < made && !_disposed && _count < Capacity; i++)
                    {
                        prepared.AsSpan(i * EntryLimbs, EntryLimbs).CopyTo(_entries.AsSpan((_first + _count) % Capacity * EntryLimbs, EntryLimbs));
                        _count++;
                    }
                }
                Array.Clear(prepared);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ks);
            Array.Clear(prepared);
            _source.Dispose();
        }
    }

    /// <summary>Stops the filler and wipes every entry.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _refill.Set();
        _filler.Join(TimeSpan.FromSeconds(5));
        lock (_gate)
        {
            Array.Clear(_entries);
            Array.Clear(_dMontgomery);
            _count = 0;
        }
        // _refill is left to the finalizer: a signer on another thread may still Set it after this point.
    }
}
#endif
