using System.Buffers;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Live;

/// <summary>The JSON the operator console reads besides <c>GET /v1/status</c>: the run of show and the cue history.</summary>
public static class ConsoleJson
{
    /// <summary>
    /// <c>GET /v1/cues</c>: <c>{"now": S|null, "cues": [{"id", "kind", "seq", "state", "at_offset", "at_wall",
    /// "target_time", "duration", "spread", "transmissions", "closes"}]}</c>. <c>now</c> is the stream time of the last
    /// video frame in seconds and <c>target_time</c> a cue's target on the same clock once the injector placed it (null
    /// before), so <c>target_time - now</c> is the time to go in program time. <c>at_offset</c> is the target as written
    /// (seconds after the first frame) and <c>at_wall</c> a wall-clock target; both null for "next frame". States:
    /// <c>pending</c>, <c>in_flight</c>, <c>cancel_queued</c>, <c>active</c>, <c>ended</c>, <c>cancelled</c>, <c>expired</c>.
    /// </summary>
    public static byte[] Schedule(LiveStatus status, IReadOnlyList<CueSnapshot> cues)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(cues);
        var buffer = new ArrayBufferWriter<byte>(256 + (cues.Count * 200));
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = HttpEndpoint.JsonEncoder }))
        {
            w.WriteStartObject();
            Number(w, "now", status.LastPtsTime);
            w.WriteStartArray("cues");
            foreach (var c in cues)
            {
                var r = c.Request;
                w.WriteStartObject();
                w.WriteString("id", c.Id);
                w.WriteString("kind", c.Kind.ToWireName());
                w.WriteNumber("seq", c.Sequence);
                w.WriteString("state", StateName(c.State));
                Number(w, "at_offset", r.At.AfterFirstFrame?.TotalSeconds);
                if (r.At.WallClock is { } wall) w.WriteString("at_wall", AuditLog.Iso(wall));
                else w.WriteNull("at_wall");
                Number(w, "target_time", c.TargetPts is { } t && c.TimeBase is { } tb ? tb.ToSeconds(t) : null);
                w.WriteNumber("duration", r.Duration.TotalSeconds);
                w.WriteNumber("spread", r.Spread.TotalSeconds);
                w.WriteNumber("transmissions", c.Transmissions);
                if (r.TargetCueId is { } closes) w.WriteString("closes", closes);
                else w.WriteNull("closes");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>GET /v1/history?after=N</c>: <c>{"last": N, "events": [{"n", "time", "event", "id", "seq", "frame", "pts",
    /// "pts_time", "detail"}]}</c>, oldest first; <c>last</c> is the number to ask after next time (unchanged when nothing is new).
    /// </summary>
    public static byte[] History(IReadOnlyList<CueHistoryEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var buffer = new ArrayBufferWriter<byte>(64 + (entries.Count * 160));
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = HttpEndpoint.JsonEncoder }))
        {
            w.WriteStartObject();
            Number(w, "last", entries.Count > 0 ? entries[^1].Number : null);
            w.WriteStartArray("events");
            foreach (var e in entries)
            {
                w.WriteStartObject();
                w.WriteNumber("n", e.Number);
                w.WriteString("time", AuditLog.Iso(e.Time));
                w.WriteString("event", e.Event);
                w.WriteString("id", e.CueId);
                w.WriteNumber("seq", e.Sequence);
                Number(w, "frame", e.Frame);
                Number(w, "pts", e.Pts);
                Number(w, "pts_time", e.PtsTime);
                if (e.Detail is { } d) w.WriteString("detail", d);
                else w.WriteNull("detail");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A cue state as the console and the API name it.</summary>
    public static string StateName(CueState state) => state switch
    {
        CueState.Pending => "pending",
        CueState.InFlight => "in_flight",
        CueState.CancelQueued => "cancel_queued",
        CueState.Active => "active",
        CueState.Ended => "ended",
        CueState.Cancelled => "cancelled",
        CueState.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a cue state"),
    };

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
