using System.Buffers;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;

namespace CatEvening.SeiInjector.Live;

/// <summary>What the running injector tells the control API and the metrics endpoint.</summary>
public interface IInjectorControl
{
    /// <summary>Adds a cue, as the schedule would. Never throws for a bad order: the result says what is wrong.</summary>
    ControlResult Fire(CueOrder order);

    /// <summary>Cancels a pending cue or ends an active one (with a signed cancel message).</summary>
    ControlResult Cancel(string cueId);

    /// <summary>The state of the run right now.</summary>
    LiveStatus Status();

    /// <summary>Every cue of the run, in the order they were added (the run of show); empty when there is no book.</summary>
    IReadOnlyList<CueSnapshot> Cues() => [];

    /// <summary>The cue state changes numbered above <paramref name="after"/>, oldest first; empty when none are kept.</summary>
    IReadOnlyList<CueHistoryEntry> History(long after) => [];
}

/// <summary>When a cue fired through the control API is due.</summary>
public abstract record CueTarget
{
    private CueTarget() { }

    /// <summary>On the next video frame.</summary>
    public sealed record Now : CueTarget;

    /// <summary>At this stream time, counted from the first video frame (as <c>at: 5s</c> in the schedule).</summary>
    public sealed record StreamTime(TimeSpan Offset) : CueTarget;

    /// <summary>At the frame that passes the injector at this wall clock.</summary>
    public sealed record WallClock(DateTimeOffset Time) : CueTarget;

    /// <summary>At this presentation time on the source's clock (<c>"at": "pts=12.5s"</c>): the same frame on every injector of a feed.</summary>
    public sealed record SourcePts(TimeSpan Pts) : CueTarget;
}

/// <summary>A cue as the control API received it (the fields of a schedule entry).</summary>
/// <param name="Id">Cue id, 1-64 UTF-8 bytes.</param>
/// <param name="Kind">Cue kind as written (<c>interaction-start</c>, <c>interaction-end</c>, <c>cancel</c>, <c>custom</c>).</param>
/// <param name="At">When it is due.</param>
/// <param name="AtText">The target as written in the request, for the audit log; null for "now".</param>
/// <param name="Duration">How long the interaction stays open.</param>
/// <param name="Spread">Peak-shaving spread.</param>
/// <param name="AppData">The request's <c>data</c> value as compact UTF-8 JSON, or empty.</param>
/// <param name="Closes">For interaction-end and cancel: the cue they close, or null.</param>
public sealed record CueOrder(string Id, string Kind, CueTarget At, string? AtText, TimeSpan Duration, TimeSpan Spread, ReadOnlyMemory<byte> AppData, string? Closes = null);

/// <summary>Outcome of a control request.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Message">A sentence for the operator (the reason when refused).</param>
/// <param name="SequenceNumber">Sequence number assigned or used, when there is one.</param>
public sealed record ControlResult(ControlOutcome Outcome, string Message, long? SequenceNumber = null);

/// <summary>What a control request did.</summary>
public enum ControlOutcome
{
    /// <summary>Done.</summary>
    Accepted,

    /// <summary>The request is wrong (unknown kind, duplicate id, app data too large...): HTTP 400.</summary>
    Rejected,

    /// <summary>No such cue: HTTP 404.</summary>
    NotFound,

    /// <summary>The cue exists but is past cancelling (already ended, expired or cancelled): HTTP 409.</summary>
    Conflict,

    /// <summary>The cue bus cannot be reached: the order did not reach the show (HTTP 503); the director retries.</summary>
    Unavailable,
}

/// <summary>Cue counts by state.</summary>
/// <param name="Pending">Accepted, not sent yet.</param>
/// <param name="Active">Sent, window still open.</param>
/// <param name="Delivered">Sent at least once since the start (whatever their state now).</param>
/// <param name="Expired">Window closed before they could be sent.</param>
/// <param name="Cancelled">Withdrawn, or closed by a delivered cancel.</param>
/// <param name="Ended">Delivered, and their window ended or an interaction-end closing them was delivered.</param>
public readonly record struct CueCounts(int Pending, int Active, int Delivered, int Expired, int Cancelled, int Ended = 0)
{
    /// <summary>Writes the tally as the JSON object <paramref name="name"/>: <c>/v1/status</c>'s and the audit log's <c>stopped</c> line's <c>cues</c>.</summary>
    internal void WriteJson(Utf8JsonWriter writer, string name)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("pending", Pending);
        writer.WriteNumber("active", Active);
        writer.WriteNumber("delivered", Delivered);
        writer.WriteNumber("ended", Ended);
        writer.WriteNumber("expired", Expired);
        writer.WriteNumber("cancelled", Cancelled);
        writer.WriteEndObject();
    }
}

/// <summary>What the pipeline did to keep timestamps valid, since the start.</summary>
/// <param name="Discontinuities">Discontinuities bridged (the input jumped backwards, or far forwards); each was logged.</param>
/// <param name="Wraps">Counter wraps unwrapped (33-bit MPEG-TS, 31/32-bit FLV).</param>
/// <param name="Interpolated">Packets with a missing or impossible timestamp filled in.</param>
/// <param name="Skipped">Packets the muxer refused even so: logged and skipped.</param>
public readonly record struct TimestampCounts(long Discontinuities, long Wraps, long Interpolated, long Skipped);

/// <summary>The run at one moment.</summary>
/// <param name="Input">Input link state.</param>
/// <param name="Output">Output link state.</param>
/// <param name="InputReconnects">Times the input dropped and reconnection began (counted at the drop).</param>
/// <param name="OutputReconnects">Times the output dropped and reconnection began (counted at the drop).</param>
/// <param name="LastPts">PTS of the last video packet (its stream's time base), or null.</param>
/// <param name="LastPtsTime">The same in seconds, or null.</param>
/// <param name="Frames">Video packets passed.</param>
/// <param name="Packets">Packets of every stream passed.</param>
/// <param name="BytesWritten">Bytes of packet data written (SEI included).</param>
/// <param name="SeiFrames">Video packets that carried a CatEvening SEI.</param>
/// <param name="Cues">Cue counts by state.</param>
/// <param name="Latency">Added latency per packet: from its read to the muxer (the injector's own code).</param>
/// <param name="DroppedPackets">Packets read but not written (output down, before the keyframe it resumed at, or of a
/// stream that appeared after the output header).</param>
/// <param name="Timestamps">Timestamp repairs and skipped packets.</param>
public sealed record LiveStatus(
    LinkState Input, LinkState Output, int InputReconnects, int OutputReconnects, long? LastPts, double? LastPtsTime,
    long Frames, long Packets, long BytesWritten, long SeiFrames, CueCounts Cues, AddedLatencySnapshot Latency, long DroppedPackets = 0,
    TimestampCounts Timestamps = default)
{
    /// <summary>Time per packet in the muxer's write call (muxing and the socket send), or null when not measured.</summary>
    public AddedLatencySnapshot? WriteTime { get; init; }

    /// <summary>The pipeline thread's scheduler slice (Linux 6.12+), when the run set or tunes it; null otherwise.</summary>
    public TimeSpan? SchedulerSlice { get; init; }

    /// <summary>The cue bus as this injector sees it (with every injector of the show), or null without a bus.</summary>
    public Bus.BusStatus? Bus { get; init; }

    /// <summary>The status as the JSON object <c>GET /v1/status</c> returns (latencies in milliseconds).</summary>
    public byte[] ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = HttpEndpoint.JsonEncoder }))
        {
            w.WriteStartObject();
            w.WriteString("input", Input.ToWireName());
            w.WriteString("output", Output.ToWireName());
            w.WriteNumber("input_reconnects", InputReconnects);
            w.WriteNumber("output_reconnects", OutputReconnects);
            if (LastPts is { } pts) w.WriteNumber("last_pts", pts);
            else w.WriteNull("last_pts");
            if (LastPtsTime is { } t) w.WriteNumber("last_pts_time", t);
            else w.WriteNull("last_pts_time");
            w.WriteNumber("frames", Frames);
            w.WriteNumber("packets", Packets);
            w.WriteNumber("dropped_packets", DroppedPackets);
            w.WriteNumber("bytes", BytesWritten);
            w.WriteNumber("sei_frames", SeiFrames);
            Cues.WriteJson(w, "cues");
            w.WriteStartObject("timestamps");
            w.WriteNumber("discontinuities", Timestamps.Discontinuities);
            w.WriteNumber("wraps", Timestamps.Wraps);
            w.WriteNumber("interpolated", Timestamps.Interpolated);
            w.WriteNumber("skipped_packets", Timestamps.Skipped);
            w.WriteEndObject();
            WriteLatency(w, "added_latency", Latency);
            if (WriteTime is { } write) WriteLatency(w, "write_time", write);
            if (SchedulerSlice is { } slice) w.WriteNumber("scheduler_slice_ms", slice.TotalMilliseconds);
            Bus?.WriteTo(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteLatency(Utf8JsonWriter writer, string name, AddedLatencySnapshot snapshot)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("packets", snapshot.Count);
        writer.WriteNumber("window", snapshot.WindowCount);
        writer.WriteNumber("p50_ms", snapshot.P50.TotalMilliseconds);
        writer.WriteNumber("p99_ms", snapshot.P99.TotalMilliseconds);
        writer.WriteNumber("max_ms", snapshot.Max.TotalMilliseconds);
        writer.WriteEndObject();
    }
}
