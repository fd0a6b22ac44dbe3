using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Signing;

/// <summary>
/// ECDSA P-256 nonces from the system's OpenSSL libcrypto (3.x or 1.1.1), the library the .NET runtime itself signs
/// with on Linux, called directly instead of through a runtime key object: k from <c>BN_priv_rand_range(n)</c> (OpenSSL's
/// private DRBG; drawn again while 0, so k is uniform in [1, n − 1], FIPS 186-4 §B.5.2), marked
/// <c>BN_FLG_CONSTTIME</c>, and k·G from <c>EC_POINT_mul</c> with the generator: the call OpenSSL's own ECDSA signing
/// makes for its nonce (crypto/ec/ecdsa_ossl.c, <c>ecdsa_sign_setup</c>), constant-time in k. About 12 µs a nonce
/// against ~80 µs for the runtime's key generation (benchmarks/RESULTS.md, "Eleventh pass"), which on a live stream
/// with a 1 s heartbeat was 1-2 % of the injector's CPU.
/// <para>Used from the nonce pool's filler thread only (not thread-safe). <see cref="TryCreate"/> checks the first
/// nonce's point against the runtime's (a known-answer check) before the source is handed out.</para>
/// </summary>
public sealed unsafe class OpenSslNonceSource : NonceSource
{
    private const int NidPrime256V1 = 415; // obj_mac.h: NID_X9_62_prime256v1
    private const int BnFlagConstTime = 0x04; // bn.h: BN_FLG_CONSTTIME

    private readonly Api _api;
    private nint _group;
    private nint _context;
    private nint _k;
    private nint _x;
    private nint _point;

    private OpenSslNonceSource(Api api)
    {
        _api = api;
        _group = api.GroupNewByCurveName(NidPrime256V1);
        _context = api.ContextNew();
        _k = api.BigNumNew();
        _x = api.BigNumNew();
        _point = _group == 0 ? 0 : api.PointNew(_group);
        if (_group == 0 || _context == 0 || _k == 0 || _x == 0 || _point == 0)
            throw new CryptographicException("libcrypto could not allocate the P-256 group, a BN_CTX, BIGNUMs or a point");
    }

    /// <summary>
    /// A source over the system's libcrypto, or null with <paramref name="reason"/> saying why not (no libcrypto 3 or
    /// 1.1 found, a function missing, or its first nonce's point differing from the one the runtime computes for the
    /// same k); the caller then keeps <see cref="NonceSource.CreateRuntime"/>.
    /// </summary>
    public static OpenSslNonceSource? TryCreate(out string? reason) => TryCreate(RuntimePointX, out reason);

    /// <summary>The check's oracle: the x coordinate of k·G as the runtime computes it (big-endian, 32 bytes).</summary>
    private static byte[]? RuntimePointX(byte[] k)
    {
        using var check = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = k });
        return check.ExportParameters(includePrivateParameters: false).Q.X;
    }

    /// <summary>As <see cref="TryCreate(out string?)"/>, with the first nonce's point checked against
    /// <paramref name="expectedPointX"/> (tests give a wrong oracle to see a disagreement refused).</summary>
    internal static OpenSslNonceSource? TryCreate(Func<byte[], byte[]?> expectedPointX, out string? reason)
    {
        if (!Api.TryLoad(out var api, out reason)) return null;
        OpenSslNonceSource? source = null;
        Span<byte> k = stackalloc byte[ScalarLength];
        Span<byte> x = stackalloc byte[ScalarLength];
        var d = new byte[ScalarLength];
        try
        {
            source = new OpenSslNonceSource(api);
            source.Generate(k, x);
            k.CopyTo(d);
            var expected = expectedPointX(d);
            if (expected is null || !x.SequenceEqual(expected))
            {
                reason = "libcrypto's k·G differs from the runtime's for the same k";
                source.Dispose();
                return null;
            }
            reason = null;
            return source;
        }
        catch (CryptographicException e)
        {
            reason = e.Message;
            source?.Dispose();
            return null;
        }
        finally
        {
            k.Clear();
            CryptographicOperations.ZeroMemory(d);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">After <see cref="NonceSource.Dispose()"/>.</exception>
    public override void Generate(Span<byte> k, Span<byte> pointX)
    {
        ObjectDisposedException.ThrowIf(_k == 0, this);
        if (k.Length < ScalarLength || pointX.Length < ScalarLength)
            throw new ArgumentException($"k and pointX need {ScalarLength} bytes each");
        try
        {
            var order = _api.GroupGetOrder(_group);
            var draws = 0;
            do
            {
                if (++draws > 8 || _api.BigNumPrivateRandomRange(_k, order) != 1)
                    throw new CryptographicException("libcrypto BN_priv_rand_range failed");
            }
            while (_api.BigNumIsZero(_k) == 1);
            _api.BigNumSetFlags(_k, BnFlagConstTime);
            if (_api.PointMultiply(_group, _point, _k, 0, 0, _context) != 1)
                throw new CryptographicException("libcrypto EC_POINT_mul (k·G) failed");
            if (_api.PointGetAffineCoordinates(_group, _point, _x, 0, _context) != 1)
                throw new CryptographicException("libcrypto EC_POINT_get_affine_coordinates failed");
            fixed (byte* kBytes = k)
            fixed (byte* xBytes = pointX)
            {
                if (_api.BigNumToBinaryPadded(_k, kBytes, ScalarLength) != ScalarLength
                    || _api.BigNumToBinaryPadded(_x, xBytes, ScalarLength) != ScalarLength)
                    throw new CryptographicException("libcrypto BN_bn2binpad: a scalar or coordinate longer than 32 bytes");
            }
        }
        finally
        {
            _api.BigNumClear(_k);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_k != 0) _api.BigNumClearFree(_k);
        if (_x != 0) _api.BigNumClearFree(_x);
        if (_point != 0) _api.PointClearFree(_point);
        if (_context != 0) _api.ContextFree(_context);
        if (_group != 0) _api.GroupFree(_group);
        _k = _x = _point = _context = _group = 0;
    }

    /// <summary>Frees the native objects if the pool never disposed the source.</summary>
    ~OpenSslNonceSource() => Dispose(disposing: false);

    // The libcrypto functions used, resolved once (OpenSSL 3 still exports these low-level EC and BN functions,
    // deprecated for applications but what its own ECDSA code calls).
    private sealed class Api
    {
        internal delegate* unmanaged[Cdecl]<int, nint> GroupNewByCurveName;
        internal delegate* unmanaged[Cdecl]<nint, nint> GroupGetOrder;
        internal delegate* unmanaged[Cdecl]<nint, void> GroupFree;
        internal delegate* unmanaged[Cdecl]<nint> ContextNew;
        internal delegate* unmanaged[Cdecl]<nint, void> ContextFree;
        internal delegate* unmanaged[Cdecl]<nint> BigNumNew;
        internal delegate* unmanaged[Cdecl]<nint, void> BigNumClear;
        internal delegate* unmanaged[Cdecl]<nint, void> BigNumClearFree;
        internal delegate* unmanaged[Cdecl]<nint, int, void> BigNumSetFlags;
        internal delegate* unmanaged[Cdecl]<nint, nint, int> BigNumPrivateRandomRange;
        internal delegate* unmanaged[Cdecl]<nint, int> BigNumIsZero;
        internal delegate* unmanaged[Cdecl]<nint, byte*, int, int> BigNumToBinaryPadded;
        internal delegate* unmanaged[Cdecl]<nint, nint> PointNew;
        internal delegate* unmanaged[Cdecl]<nint, void> PointClearFree;
        internal delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, int> PointMultiply;
        internal delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int> PointGetAffineCoordinates;

        internal static bool TryLoad(out Api api, out string? reason)
        {
            api = new Api();
            string[] names = OperatingSystem.IsLinux() ? ["libcrypto.so.3", "libcrypto.so.1.1"]
                : OperatingSystem.IsMacOS() ? ["libcrypto.3.dylib", "libcrypto.1.1.dylib"]
                : ["libcrypto-3-x64.dll", "libcrypto-1_1-x64.dll"];
            foreach (var name in names)
            {
                if (!NativeLibrary.TryLoad(name, out var library)) continue;
                string? missing = null;
                nint Get(string symbol)
                {
                    if (NativeLibrary.TryGetExport(library, symbol, out var address)) return address;
                    missing ??= symbol;
                    return 0;
                }
                api.GroupNewByCurveName = (delegate* unmanaged[Cdecl]<int, nint>)Get("EC_GROUP_new_by_curve_name");
                api.GroupGetOrder = (delegate* unmanaged[Cdecl]<nint, nint>)Get("EC_GROUP_get0_order");
                api.GroupFree = (delegate* unmanaged[Cdecl]<nint, void>)Get("EC_GROUP_free");
                api.ContextNew = (delegate* unmanaged[Cdecl]<nint>)Get("BN_CTX_new");
                api.ContextFree = (delegate* unmanaged[Cdecl]<nint, void>)Get("BN_CTX_free");
                api.BigNumNew = (delegate* unmanaged[Cdecl]<nint>)Get("BN_new");
                api.BigNumClear = (delegate* unmanaged[Cdecl]<nint, void>)Get("BN_clear");
                api.BigNumClearFree = (delegate* unmanaged[Cdecl]<nint, void>)Get("BN_clear_free");
                api.BigNumSetFlags = (delegate* unmanaged[Cdecl]<nint, int, void>)Get("BN_set_flags");
                api.BigNumPrivateRandomRange = (delegate* unmanaged[Cdecl]<nint, nint, int>)Get("BN_priv_rand_range");
                api.BigNumIsZero = (delegate* unmanaged[Cdecl]<nint, int>)Get("BN_is_zero");
                api.BigNumToBinaryPadded = (delegate* unmanaged[Cdecl]<nint, byte*, int, int>)Get("BN_bn2binpad");
                api.PointNew = (delegate* unmanaged[Cdecl]<nint, nint>)Get("EC_POINT_new");
                api.PointClearFree = (delegate* unmanaged[Cdecl]<nint, void>)Get("EC_POINT_clear_free");
                api.PointMultiply = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, nint, int>)Get("EC_POINT_mul");
                api.PointGetAffineCoordinates = (delegate* unmanaged[Cdecl]<nint, nint, nint, nint, nint, int>)Get("EC_POINT_get_affine_coordinates");
                if (missing is null)
                {
                    reason = null;
                    return true;
                }
                reason = $"{name} has no {missing}";
                return false;
            }
            reason = $"no OpenSSL libcrypto found (tried {string.Join(", ", names)})";
            return false;
        }
    }
}
