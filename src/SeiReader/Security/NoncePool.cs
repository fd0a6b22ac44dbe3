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
/// k·G multiplication is the runtime's (OpenSSL's key generation: a uniformly random k in [1, n − 1] and its public
/// point). Entries are as secret as the private key and live in the same process; <see cref="Dispose"/> wipes them.
/// Thread-safe.</para>
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
    private int _first;
    private int _count;
    private volatile bool _disposed;
    private long _taken;
    private long _missed;
    private int _failed;

    /// <summary>Starts filling a pool for the private scalar <paramref name="d"/> (32 bytes big-endian, in [1, n − 1];
    /// the caller keeps and wipes its copy).</summary>
    internal NoncePool(ReadOnlySpan<byte> d, int capacity)
    {
        if (capacity < 2) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "at least 2");
        Capacity = capacity;
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
    /// entry (r, k⁻¹·R mod n, k⁻¹·r·d mod n). False when r = 0 (FIPS 186-4 §6.4: choose another k).</summary>
    internal bool Prepare(ReadOnlySpan<byte> k, ReadOnlySpan<byte> pointX, Span<ulong> entry)
    {
        var r = entry.Slice(0, P256Scalar.Limbs);
        var kInverseMontgomery = entry.Slice(P256Scalar.Limbs, P256Scalar.Limbs);
        var kInverseRD = entry.Slice(2 * P256Scalar.Limbs, P256Scalar.Limbs);
        Span<ulong> scratch = stackalloc ulong[P256Scalar.Limbs];
        P256Scalar.FromBigEndian(pointX, scratch);
        P256Scalar.Reduce(scratch, r); // x < p < 2n
        if (P256Scalar.IsZero(r)) return false;
        P256Scalar.FromBigEndian(k, scratch);
        P256Scalar.ToMontgomery(scratch, scratch);
        P256Scalar.InvertMontgomery(scratch, kInverseMontgomery);
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

    private void Fill()
    {
        Span<ulong> entry = stackalloc ulong[EntryLimbs];
        while (true)
        {
            _refill.WaitOne();
            if (_disposed) return;
            while (!_disposed)
            {
                lock (_gate)
                    if (_count >= Capacity) break;
                try
                {
                    if (!Generate(entry)) continue;
                }
                catch (CryptographicException)
                {
                    // The runtime could not make a key pair: stop filling; signatures take the usual way from now on.
                    Interlocked.Exchange(ref _failed, 1);
                    entry.Clear();
                    return;
                }
                lock (_gate)
                {
                    if (_disposed || _count >= Capacity) break;
                    entry.CopyTo(_entries.AsSpan((_first + _count) % Capacity * EntryLimbs, EntryLimbs));
                    _count++;
                }
            }
            entry.Clear();
        }
    }

    private bool Generate(Span<ulong> entry)
    {
        using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ephemeral.ExportParameters(includePrivateParameters: true);
        try
        {
            return Prepare(parameters.D, parameters.Q.X, entry);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(parameters.D);
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
