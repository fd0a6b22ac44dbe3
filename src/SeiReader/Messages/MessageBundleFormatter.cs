using System;
using System.Buffers;
using System.Collections.Generic;
using MessagePack;
using MessagePack.Formatters;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// Hand-written MessagePack formatter of a format-version-2 body (<see cref="MessageBundle"/>; docs/sei-format.md §3.2):
/// <code>
/// bundle:    [stream_id, seq, issued_at_us, [entry, ...]]                       1-256 entries
/// cue:       [kind, cue_seq, target_offset_90k, cue_id, window_90k, spread_us, app_data]     kind 1, 2, 3 or 5
/// heartbeat: [4, injection_wall_us, carrier_pts, uncertainty_us, time_server|nil]
/// </code>
/// Every integer is within ±(2^53 − 1). A reader skips array elements beyond the ones it knows (later revisions of
/// version 2 may append fields to the bundle or to an entry); fewer is malformed. No reflection, no resolver.
/// </summary>
public sealed class MessageBundleFormatter : IMessagePackFormatter<MessageBundle?>
{
    /// <summary>The shared instance (stateless).</summary>
    public static readonly MessageBundleFormatter Instance = new();

    internal const int FieldCount = 4;
    internal const int CueFieldCount = 7;
    internal const int HeartbeatFieldCount = 5;

    internal static readonly string[] FieldNames = { "stream_id", "seq", "issued_at_us", "entries" };
    internal static readonly string[] CueFieldNames = { "kind", "cue_seq", "target_offset_90k", "cue_id", "window_90k", "spread_us", "app_data" };
    internal static readonly string[] HeartbeatFieldNames = { "kind", "injection_wall_us", "carrier_pts", "uncertainty_us", "time_server" };

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, MessageBundle? value, MessagePackSerializerOptions options)
    {
        if (value is null) writer.WriteNil();
        else Write(ref writer, value);
    }

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The body is malformed; the message names the field.</exception>
    public MessageBundle? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        var at = new Position();
        return Read(ref reader, at);
    }

    internal static void Write(ref MessagePackWriter writer, MessageBundle bundle)
    {
        writer.WriteArrayHeader(FieldCount);
        writer.Write(bundle.StreamId);
        writer.Write(bundle.SequenceNumber);
        writer.Write(bundle.IssuedAtMicros);
        writer.WriteArrayHeader(bundle.Messages.Count);
        foreach (var m in bundle.Messages)
        {
            switch (m)
            {
                case CueMessage c:
                    writer.WriteArrayHeader(CueFieldCount);
                    writer.Write((byte)c.Kind);
                    writer.Write(c.SequenceNumber);
                    writer.Write(c.TargetOffsetTicks);
                    writer.Write(c.CueId);
                    writer.Write(c.WindowTicks);
                    writer.Write(c.SpreadMicros);
                    writer.Write(c.AppData.Span);
                    break;
                case HeartbeatMessage h:
                    writer.WriteArrayHeader(HeartbeatFieldCount);
                    writer.Write((byte)MessageKind.Heartbeat);
                    writer.Write(h.InjectionWallClockMicros);
                    writer.Write(h.CarrierPts);
                    writer.Write(h.ClockUncertaintyMicros);
                    if (h.TimeServer is null) writer.WriteNil();
                    else writer.Write(h.TimeServer);
                    break;
                default:
                    throw new ArgumentException($"unknown message type {m.GetType()}", nameof(bundle));
            }
        }
    }

    /// <summary>Where the reader is, so that an error can name the field (and the entry).</summary>
    internal sealed class Position
    {
        internal int Field = -1;
        internal int Entry = -1;
        internal int EntryField = -1;
        internal MessageKind EntryKind;

        public override string ToString()
        {
            if (Field < 0) return "";
            var name = Field < FieldNames.Length ? $" field {Field} ({FieldNames[Field]})" : $" field {Field}";
            if (Entry < 0 || EntryField < 0) return name;
            var names = EntryKind == MessageKind.Heartbeat ? HeartbeatFieldNames : CueFieldNames;
            return name + $" entry {Entry} field {EntryField}" + (EntryField < names.Length ? $" ({names[EntryField]})" : "");
        }
    }

    internal static MessageBundle Read(ref MessagePackReader reader, Position at)
    {
        var count = reader.ReadArrayHeader();
        if (count < FieldCount) throw Malformed($"bundle array has {count} fields, needs {FieldCount}");
        at.Field = 0;
        var stream = CatEveningMessageFormatter.ReadId(ref reader, CatEveningSei.MaxIdLength, allowNil: false)!;
        at.Field = 1;
        var seq = ReadSafe(ref reader, nonNegative: true);
        at.Field = 2;
        var issued = ReadSafe(ref reader, nonNegative: false);
        at.Field = 3;
        var entries = reader.ReadArrayHeader();
        if (entries is 0 or > CatEveningSei.MaxBundleEntries) throw Malformed($"{entries} entries, 1 to {CatEveningSei.MaxBundleEntries} allowed");
        var messages = new CatEveningMessage[entries];
        var cueSequences = new HashSet<long>();
        var heartbeats = 0;
        for (at.Entry = 0; at.Entry < entries; at.Entry++)
        {
            at.EntryField = -1;
            var fields = reader.ReadArrayHeader();
            if (fields < 1) throw Malformed("empty entry array");
            at.EntryField = 0;
            var kind = (MessageKind)reader.ReadByte();
            at.EntryKind = kind;
            if (kind == MessageKind.Heartbeat)
            {
                if (++heartbeats > 1) throw Malformed("a second heartbeat entry");
                messages[at.Entry] = ReadHeartbeat(ref reader, fields, stream, seq, issued, at);
            }
            else if (kind.IsCue())
            {
                var cue = ReadCue(ref reader, fields, kind, stream, issued, at);
                if (!cueSequences.Add(cue.SequenceNumber)) throw Malformed($"cue sequence number {cue.SequenceNumber} appears twice");
                messages[at.Entry] = cue;
            }
            else
            {
                throw Malformed($"unknown kind {(byte)kind}");
            }
            for (at.EntryField = kind == MessageKind.Heartbeat ? HeartbeatFieldCount : CueFieldCount; at.EntryField < fields; at.EntryField++) reader.Skip();
        }
        at.Entry = -1;
        for (at.Field = FieldCount; at.Field < count; at.Field++) reader.Skip();
        return new MessageBundle(stream, seq, issued, messages);
    }

    private static CueMessage ReadCue(ref MessagePackReader reader, int fields, MessageKind kind, string stream, long issued, Position at)
    {
        if (fields < CueFieldCount) throw Malformed($"cue entry has {fields} fields, needs {CueFieldCount}");
        at.EntryField = 1;
        var cueSeq = ReadSafe(ref reader, nonNegative: true);
        at.EntryField = 2;
        var offset = ReadSafe(ref reader, nonNegative: false);
        at.EntryField = 3;
        var cueId = CatEveningMessageFormatter.ReadId(ref reader, CatEveningSei.MaxIdLength, allowNil: false)!;
        at.EntryField = 4;
        var window = ReadSafe(ref reader, nonNegative: true);
        at.EntryField = 5;
        var spread = ReadSafe(ref reader, nonNegative: true);
        at.EntryField = 6;
        if (reader.NextMessagePackType != MessagePackType.Binary) throw Malformed($"{reader.NextMessagePackType} where bin is required");
        var app = reader.ReadBytes()!.Value;
        if (app.Length > CatEveningSei.MaxAppDataLength) throw Malformed($"app data of {app.Length} bytes, at most {CatEveningSei.MaxAppDataLength}");
        return new CueMessage(kind, stream, cueSeq, issued, offset, cueId, window, spread, app.IsSingleSegment ? app.First.Span : app.ToArray());
    }

    private static HeartbeatMessage ReadHeartbeat(ref MessagePackReader reader, int fields, string stream, long seq, long issued, Position at)
    {
        if (fields < HeartbeatFieldCount) throw Malformed($"heartbeat entry has {fields} fields, needs {HeartbeatFieldCount}");
        at.EntryField = 1;
        var wall = ReadSafe(ref reader, nonNegative: false);
        at.EntryField = 2;
        var pts = reader.ReadInt64();
        if (pts is < 0 or > HeartbeatMessage.MaxPts) throw Malformed($"carrier PTS {pts} is not a 33-bit value");
        at.EntryField = 3;
        var uncertainty = ReadSafe(ref reader, nonNegative: true);
        at.EntryField = 4;
        var server = CatEveningMessageFormatter.ReadId(ref reader, CatEveningSei.MaxTimeServerLength, allowNil: true);
        return new HeartbeatMessage(stream, seq, issued, wall, pts, uncertainty, server);
    }

    private static long ReadSafe(ref MessagePackReader reader, bool nonNegative)
    {
        if (reader.NextMessagePackType != MessagePackType.Integer) throw Malformed($"{reader.NextMessagePackType} where an integer is required");
        var value = reader.ReadInt64();
        if (value > CatEveningSei.MaxSafeInteger || value < (nonNegative ? 0 : -CatEveningSei.MaxSafeInteger))
            throw Malformed(nonNegative ? $"{value} is outside 0 to 2^53 - 1" : $"{value} is outside ±(2^53 - 1)");
        return value;
    }

    private static MessagePackSerializationException Malformed(string what) => CatEveningMessageFormatter.Malformed(what);
}
