using BenchmarkDotNet.Attributes;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.Benchmarks.Bitstream;

/// <summary>
/// Finding NAL units in a real 720p x264 stream, next to a plain copy of the same bytes: the 85 MB noisy stream
/// (bound by memory bandwidth) and the 1.2 MB clean one (cache resident, bound by the search itself).
/// Throughput = bytes / mean time (the bytes are printed by the global setup).
/// </summary>
[MemoryDiagnoser]
public class NalScanningBenchmarks
{
    private byte[] _annexB = [];
    private byte[] _copy = [];
    private List<byte[]> _packets = [];
    private byte[] _packetCopy = [];

    /// <summary>Which stream.</summary>
    [Params("noisy", "clean")]
    public string Stream { get; set; } = "noisy";

    [GlobalSetup]
    public void Setup()
    {
        _annexB = Stream == "noisy" ? BenchmarkMedia.NoisyAnnexB() : BenchmarkMedia.CleanAnnexB();
        _copy = new byte[_annexB.Length];
        _packets = BenchmarkMedia.LengthPrefixedPackets(_annexB);
        _packetCopy = new byte[_packets.Max(p => p.Length)];
        Console.WriteLine($"// {Stream} Annex B stream: {_annexB.Length} bytes; {_packets.Count} length-prefixed packets, {_packets.Sum(p => (long)p.Length)} bytes");
    }

    /// <summary>The memory bound: copy the whole Annex B stream once.</summary>
    [Benchmark(Baseline = true)]
    public void CopyAnnexBStream() => _annexB.AsSpan().CopyTo(_copy);

    /// <summary>Every NAL unit of the Annex B stream (start code search, trailing zeros, header).</summary>
    [Benchmark]
    public int ScanAnnexBStream()
    {
        var reader = new NalUnitReader(_annexB, VideoCodec.H264, NalFraming.AnnexB);
        int n = 0;
        while (reader.Read(out _) == ReadStatus.Success) n++;
        return n;
    }

    /// <summary>Every access unit of the Annex B stream (NAL scan plus boundary detection).</summary>
    [Benchmark]
    public int SplitAnnexBAccessUnits()
    {
        var reader = new AnnexBAccessUnitReader(_annexB, VideoCodec.H264);
        int n = 0;
        while (reader.Read(out _) == ReadStatus.Success) n++;
        return n;
    }

    /// <summary>The memory bound for packets: copy every length-prefixed packet once.</summary>
    [Benchmark]
    public void CopyLengthPrefixedPackets()
    {
        foreach (var packet in _packets) packet.AsSpan().CopyTo(_packetCopy);
    }

    /// <summary>Every NAL unit of every length-prefixed packet, as a demuxer hands them out.</summary>
    [Benchmark]
    public int WalkLengthPrefixedPackets()
    {
        int n = 0;
        foreach (var packet in _packets)
        {
            var reader = new NalUnitReader(packet, VideoCodec.H264, NalFraming.LengthPrefixed4);
            while (reader.Read(out _) == ReadStatus.Success) n++;
        }
        return n;
    }

    /// <summary>The reader's per-packet path: every user_data_unregistered payload of every packet.</summary>
    [Benchmark]
    public int WalkUserDataOfEveryPacket()
    {
        int n = 0;
        foreach (var packet in _packets)
        {
            var reader = new UserDataUnregisteredReader(packet, VideoCodec.H264, NalFraming.LengthPrefixed4, _packetCopy);
            while (reader.Read(out _) == ReadStatus.Success) n++;
        }
        return n;
    }

    /// <summary>Keyframe detection for every packet.</summary>
    [Benchmark]
    public int InspectEveryPacket()
    {
        int keyframes = 0;
        foreach (var packet in _packets)
        {
            AccessUnitInfo.TryRead(packet, VideoCodec.H264, NalFraming.LengthPrefixed4, out var info, out _, out _);
            if (info.IsKeyframe) keyframes++;
        }
        return keyframes;
    }
}
