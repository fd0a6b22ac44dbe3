using System.Diagnostics;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Counts what the pipeline writes and how long each packet stayed inside it. The pipeline calls
/// <see cref="Written"/> once per packet, right after the muxer took it; status and metrics read the totals.
/// </summary>
/// <remarks><see cref="Written"/> and <see cref="WrittenLate(long, int)"/> are called from one thread (the pipeline's);
/// the other counters and every reader may be on any thread.</remarks>
public sealed class PacketMonitor
{
    private long _packets;
    private long _bytes;
    private long _dropped;
    private long _discontinuities, _wraps, _interpolated, _skipped;
    private long _sliceTicks;

    /// <summary>Creates the counters, with both latencies in one registry (<see cref="AddedLatency.Metrics"/>).</summary>
    public PacketMonitor()
    {
        Latency = new AddedLatency();
        WriteTime = new AddedLatency(Latency.Metrics, WriteTimeMetric, "Time each packet spent in the muxer's write call (muxing and the socket send).");
    }

    /// <summary>Name of the write-time histogram.</summary>
    public const string WriteTimeMetric = "catevening_write_seconds";

    /// <summary>Per-packet added latency: from the read's return to the muxer, the injector's own code.</summary>
    public AddedLatency Latency { get; }

    /// <summary>Per-packet time in the muxer's write call (muxing and the socket send, as a relay pays it).</summary>
    public AddedLatency WriteTime { get; }

    /// <summary>Packets written, every stream.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Bytes of packet data written, SEI included.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Packets read but never written: read while the output was down and not kept by the GOP cache (before its
    /// first keyframe, or evicted by a later one), or before the keyframe the output resumed at, or their stream appeared
    /// after the output header. Packets the GOP cache kept and sent once the output was back are written, not dropped.</summary>
    public long DroppedPackets => Interlocked.Read(ref _dropped);

    /// <summary><paramref name="count"/> packets were read and dropped (see <see cref="DroppedPackets"/>).</summary>
    public void Dropped(int count = 1) => Interlocked.Add(ref _dropped, count);
    /// <summary>Timestamp discontinuities bridged (the input jumped backwards, or far forwards), every session.</summary>
    public long Discontinuities => Interlocked.Read(ref _discontinuities);

    /// <summary>Timestamp counter wraps unwrapped.</summary>
    public long Wraps => Interlocked.Read(ref _wraps);

    /// <summary>Packets with a missing or impossible timestamp filled in.</summary>
    public long InterpolatedTimestamps => Interlocked.Read(ref _interpolated);

    /// <summary>Packets the muxer refused even with repaired timestamps: logged and skipped.</summary>
    public long SkippedPackets => Interlocked.Read(ref _skipped);

    /// <summary>The pipeline repaired a packet's timestamps.</summary>
    public void Repaired(Timing.TimestampRepair repair)
    {
        if ((repair & Timing.TimestampRepair.Discontinuity) != 0) Interlocked.Increment(ref _discontinuities);
        if ((repair & Timing.TimestampRepair.Wrap) != 0) Interlocked.Increment(ref _wraps);
        if ((repair & Timing.TimestampRepair.Interpolated) != 0) Interlocked.Increment(ref _interpolated);
    }

    /// <summary>The pipeline thread's scheduler slice, when the pipeline set or tuned it (Linux 6.12+); null otherwise.</summary>
    public TimeSpan? SchedulerSlice => Interlocked.Read(ref _sliceTicks) is > 0 and var t ? TimeSpan.FromTicks(t) : null;

    /// <summary>The pipeline thread's scheduler slice is now <paramref name="slice"/>.</summary>
    public void SliceChanged(TimeSpan slice) => Interlocked.Exchange(ref _sliceTicks, slice.Ticks);

    /// <summary>The muxer refused a packet; it was skipped.</summary>
    public void Refused() => Interlocked.Increment(ref _skipped);

    /// <summary>
    /// One packet of <paramref name="bytes"/> bytes that waited in the GOP cache while the output was down was written.
    /// Counted, and its time in the muxer's write call recorded, but kept out of the added latency, which measures the
    /// injector's own work, not an outage.
    /// </summary>
    /// <param name="handedTimestamp">When it was handed to the muxer's write call (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="bytes">Its size.</param>
    public void WrittenLate(long handedTimestamp, int bytes) => WrittenLate(handedTimestamp, Stopwatch.GetTimestamp(), bytes);

    /// <summary>As <see cref="WrittenLate(long, int)"/>, with the moment the write call returned as the caller read it.</summary>
    /// <param name="handedTimestamp">When it was handed to the muxer's write call (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="writtenTimestamp">When the write call returned.</param>
    /// <param name="bytes">Its size.</param>
    public void WrittenLate(long handedTimestamp, long writtenTimestamp, int bytes)
    {
        WriteTime.Record(writtenTimestamp - handedTimestamp);
        CountWritten(bytes);
    }

    /// <summary>One packet of <paramref name="bytes"/> bytes was written.</summary>
    /// <param name="readTimestamp">When its read returned (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="handedTimestamp">When it was handed to the muxer's write call.</param>
    /// <param name="bytes">Its size, SEI included.</param>
    public void Written(long readTimestamp, long handedTimestamp, int bytes) => Written(readTimestamp, handedTimestamp, Stopwatch.GetTimestamp(), bytes);

    /// <summary>
    /// As <see cref="Written(long, long, int)"/>, with the moment the write call returned as the caller read it (the
    /// pipeline reads the clock there anyway: one clock read per packet fewer).
    /// </summary>
    /// <param name="readTimestamp">When its read returned (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="handedTimestamp">When it was handed to the muxer's write call.</param>
    /// <param name="writtenTimestamp">When the write call returned.</param>
    /// <param name="bytes">Its size, SEI included.</param>
    public void Written(long readTimestamp, long handedTimestamp, long writtenTimestamp, int bytes)
    {
        Latency.Record(handedTimestamp - readTimestamp);
        WriteTime.Record(writtenTimestamp - handedTimestamp);
        CountWritten(bytes);
    }

    // The written-packet counters have one writer (the pipeline thread, the only caller of Written and WrittenLate):
    // plain increments published with a release write, no locked instruction per packet; readers read them atomically.
    private void CountWritten(int bytes)
    {
        Volatile.Write(ref _packets, _packets + 1);
        Volatile.Write(ref _bytes, _bytes + bytes);
    }
}
