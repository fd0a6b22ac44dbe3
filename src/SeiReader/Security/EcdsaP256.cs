using System;
using System.Security.Cryptography;

namespace CatEvening.SeiReader.Security;

/// <summary>Which ECDSA P-256 implementation checks signatures (see <see cref="VerificationKey.Backend"/>).</summary>
public enum EcdsaBackend
{
    /// <summary>The runtime's own <c>System.Security.Cryptography.ECDsa</c> (OpenSSL, CNG or Apple): .NET and .NET Framework.</summary>
    Platform,

    /// <summary>BouncyCastle.Cryptography, fully managed: where the runtime has no ECDsa (Mono, Unity's Mono and IL2CPP).</summary>
    BouncyCastle,
}

/// <summary>One P-256 public key that checks IEEE P1363 (r‖s, 64 bytes) signatures of SHA-256(data). Thread-safe.</summary>
internal interface IEcdsaP256Verifier : IDisposable
{
    EcdsaBackend Backend { get; }

    bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);
}

/// <summary>
/// The seam between the key types and the ECDSA implementations. The backend is chosen once per process by a
/// capability probe, not by target framework: the netstandard2.0 build runs on .NET (which has ECDsa, the fastest
/// choice) as well as on Mono and Unity (whose <c>ECDsa.Create</c> throws <see cref="NotImplementedException"/>),
/// and only a run-time check can tell them apart. The probe verifies one known signature; any exception or a
/// wrong answer selects BouncyCastle.
/// </summary>
internal static class EcdsaP256
{
    internal const int CoordinateLength = 32;
    internal const int SignatureLength = 64;

    private static readonly Lazy<EcdsaBackend> Probed = new(Probe);

    /// <summary>The backend this process uses (probed on first use).</summary>
    internal static EcdsaBackend DefaultBackend => Probed.Value;

    /// <summary>A verifier for the public point (<paramref name="x"/>, <paramref name="y"/>), 32 bytes each, big-endian.</summary>
    /// <exception cref="FormatException">The point is not on P-256.</exception>
    internal static IEcdsaP256Verifier CreateVerifier(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, EcdsaBackend? backend = null) =>
        (backend ?? DefaultBackend) switch
        {
            EcdsaBackend.Platform => PlatformEcdsaP256.Create(x, y),
            _ => BouncyCastleEcdsaP256.Create(x, y),
        };

    private static EcdsaBackend Probe()
    {
        try
        {
            using var verifier = PlatformEcdsaP256.Create(ProbeVector.X, ProbeVector.Y);
            return verifier.Verify(ProbeVector.Data, ProbeVector.Signature) && !verifier.Verify(ProbeVector.Data, ProbeVector.WrongSignature)
                ? EcdsaBackend.Platform
                : EcdsaBackend.BouncyCastle;
        }
        catch (Exception e) when (e is NotImplementedException or PlatformNotSupportedException or CryptographicException
                                      or FormatException or TypeLoadException or MissingMethodException or EntryPointNotFoundException
                                      or DllNotFoundException or TypeInitializationException)
        {
            return EcdsaBackend.BouncyCastle;
        }
    }
}
