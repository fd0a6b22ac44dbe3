using BenchmarkDotNet.Attributes;
using CatEvening.SeiReader.Security;

namespace CatEvening.Benchmarks.Messages;

/// <summary>
/// The two ECDSA P-256 backends behind <see cref="VerificationKey"/> side by side on .NET (issue 16): the platform's
/// ECDsa (OpenSSL here), which .NET and .NET Framework use, and BouncyCastle, which Mono and Unity use because their
/// ECDsa is missing. One verification of a 92-byte signed region (a typical cue: the envelope before the signature),
/// and loading a key from its SubjectPublicKeyInfo.
/// </summary>
[MemoryDiagnoser]
public class EcdsaBackendBenchmarks
{
    private byte[] _spki = null!;
    private byte[] _data = null!;
    private byte[] _signature = null!;
    private VerificationKey _key = null!;

    [Params(EcdsaBackend.Platform, EcdsaBackend.BouncyCastle)]
    public EcdsaBackend Backend { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var signing = SigningKey.Generate(1);
        _spki = signing.PublicKey.SubjectPublicKeyInfo.ToArray();
        _data = new byte[92];
        new Random(16).NextBytes(_data);
        _signature = new byte[64];
        signing.Sign(_data, _signature);
        _key = VerificationKey.FromSubjectPublicKeyInfo(1, _spki, Backend);
        if (!_key.Verify(_data, _signature)) throw new InvalidOperationException("the benchmark signature does not verify");
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    [Benchmark]
    public bool Verify() => _key.Verify(_data, _signature);

    [Benchmark]
    public int LoadKey()
    {
        using var key = VerificationKey.FromSubjectPublicKeyInfo(1, _spki, Backend);
        return key.KeyId;
    }
}
