using System.Diagnostics;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Counts what the pipeline writes and how long each packet stayed inside it. The pipeline calls
/// <see cref="Written"/> once per packet, right after the muxer took it; status and metrics read the totals.
/// </summary>
public sealed class PacketMonitor
{
    private long _packets;
    private long _bytes;
    private long _dropped;

    /// <summary>Per-packet added latency, read to write.</summary>
    public AddedLatency Latency { get; } = new();

    /// <summary>Packets written, every stream.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Bytes of packet data written, SEI included.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Packets read but not written: the output was down, or they came before the keyframe it resumed at, or
    /// their stream appeared after the output header.</summary>
    public long DroppedPackets => Interlocked.Read(ref _dropped);

    /// <summary>One packet was read and dropped (see <see cref="DroppedPackets"/>).</summary>
    public void Dropped() => Interlocked.Increment(ref _dropped);

    /// <summary>One packet of <paramref name="bytes"/> bytes, read at <paramref name="readTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>), was written.</summary>
    public void Written(long readTimestamp, int bytes)
    {
        Latency.RecordSince(readTimestamp);
        Interlocked.Increment(ref _packets);
        Interlocked.Add(ref _bytes, bytes);
    }
}
