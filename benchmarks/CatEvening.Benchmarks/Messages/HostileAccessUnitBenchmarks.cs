using BenchmarkDotNet.Attributes;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.Benchmarks.Messages;

/// <summary>
/// Issue 10, H10: a 1 MB access unit holding about 6,000 copies of a real payload with other signature bytes (low s,
/// so that none is refused before ECDSA) costs a reader at most 1.5 times one honest access unit with one new
/// payload; a packet without CatEvening data still allocates nothing. The reader runs with the system clock and a
/// budget it never reaches, so the per-access-unit rules alone are measured. Sixteen hostile access units, and 1,024
/// honest ones, are cycled so that no feed is answered from the verifier's cache.
/// </summary>
[MemoryDiagnoser]
public class HostileAccessUnitBenchmarks
{
    private const int HostileUnits = 16;
    private const int HonestUnits = 1024;
    private const int Copies = 6000;
    private const int UntrustedPerUnit = 16;
    private const long Issued = 1_795_888_800_000_000;

    private SigningKey _key = null!;
    private byte[][] _hostile = null!;
    private byte[][] _untrusted = null!;
    private byte[][] _honest = null!;
    private byte[] _plain = null!;
    private CueReader _honestReader = null!;
    private CueReader _hostileReader = null!;
    private CueReader _untrustedReader = null!;
    private CueReader _plainReader = null!;
    private int _nextHostile;
    private int _nextUntrusted;
    private int _nextHonest;

    [GlobalSetup]
    public void Setup()
    {
        _key = SigningKey.Generate(1);
        var signer = new MessageSigner(_key);
        var rng = new Random(10);
        var slice = new byte[12_000];
        rng.NextBytes(slice);
        for (var i = 0; i < slice.Length; i++)
            if (slice[i] == 0) slice[i] = 1;
        slice[0] = 0x65;
        byte[] aud = [0, 0, 0, 1, 0x09, 0xf0];
        _plain = [.. aud, 0, 0, 0, 1, .. slice];
        var cue = new CueMessage(MessageKind.InteractionStart, "show-1", 1, Issued, -3003, "poll-1", 30 * 90000, 5_000_000, new byte[32]);
        var genuine = signer.Sign(cue);

        _honest = new byte[HonestUnits][];
        for (var i = 0; i < HonestUnits; i++) _honest[i] = [.. aud, .. Sei(signer.Sign(cue.ForCarrier(-i, Issued + i))), 0, 0, 0, 1, .. slice];

        _hostile = new byte[HostileUnits][];
        for (var u = 0; u < HostileUnits; u++)
        {
            var payloads = new byte[Copies][];
            for (var i = 0; i < Copies; i++)
            {
                var p = (byte[])genuine.Clone();
                rng.NextBytes(p.AsSpan(p.Length - 64));
                p[p.Length - 32] &= 0x7f;
                payloads[i] = p;
            }
            _hostile[u] = [.. aud, .. Sei(payloads), 0, 0, 0, 1, .. slice];
        }

        // Payloads under a key id the reader does not trust are refused before ECDSA and do not end the access unit, so
        // the payload maximum (16) bounds them: the dearest such access unit holds 16 payloads of the largest size a
        // version-2 envelope allows, each new to the verifier's cache.
        using var untrustedKey = SigningKey.Generate(7);
        var untrustedGenuine = new MessageSigner(untrustedKey).Sign(new MessageBundle("show-1", 1, Issued, [cue]));
        _untrusted = new byte[HostileUnits][];
        for (var u = 0; u < HostileUnits; u++)
        {
            var payloads = new byte[UntrustedPerUnit][];
            for (var i = 0; i < UntrustedPerUnit; i++)
            {
                var p = new byte[CatEveningSei.MaxBundlePayloadLength];
                rng.NextBytes(p);
                untrustedGenuine.AsSpan(0, CatEveningSei.BodyOffset).CopyTo(p);
                payloads[i] = p;
            }
            _untrusted[u] = [.. aud, .. Sei(payloads), 0, 0, 0, 1, .. slice];
        }

        _honestReader = Reader(cacheSize: 256);
        _untrustedReader = Reader(cacheSize: 1);
        _hostileReader = Reader(cacheSize: 1);
        _plainReader = Reader(cacheSize: 256);
        _plainReader.Feed(_plain, 0);
    }

    private CueReader Reader(int cacheSize)
    {
        var options = new VerifierOptions { MaxAge = TimeSpan.FromDays(3650), CacheSize = cacheSize, MaxVerificationsPerSecond = 1_000_000 };
        return new CueReader(new MessageVerifier(new KeyRing(_key.PublicKey), options), VideoCodec.H264, NalFraming.AnnexB, TimeBase.Mpeg90kHz);
    }

    private static byte[] Sei(params byte[][] payloads)
    {
        var measure = SeiNalWriter.CreateMeasuring(VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) measure.WriteMessage(5, p);
        var nal = new byte[measure.Complete()];
        var writer = new SeiNalWriter(nal, VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) writer.WriteMessage(5, p);
        writer.Complete();
        return nal;
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    /// <summary>Baseline: a 12 KB access unit with one CatEvening payload not in the cache (one ECDSA verification).</summary>
    [Benchmark(Baseline = true)]
    public int FeedHonestAccessUnit() => _honestReader.Feed(_honest[_nextHonest++ & (HonestUnits - 1)], 0);

    /// <summary>The H10 access unit: 1 MB, 6,000 forged payloads under the trusted key id.</summary>
    [Benchmark]
    public int FeedHostileMegabyteAccessUnit() => _hostileReader.Feed(_hostile[_nextHostile++ & (HostileUnits - 1)], 0);

    /// <summary>About 1 MB: 16 version-2 payloads of 65,536 bytes under a key id not in the ring.</summary>
    [Benchmark]
    public int FeedUntrustedKeyMegabyteAccessUnit() => _untrustedReader.Feed(_untrusted[_nextUntrusted++ & (HostileUnits - 1)], 0);

    /// <summary>A 12 KB access unit without CatEvening data: must stay at 0 B allocated.</summary>
    [Benchmark]
    public int FeedPacketWithoutCatEveningData() => _plainReader.Feed(_plain, 0);
}
