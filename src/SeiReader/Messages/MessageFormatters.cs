using System;
using System.Buffers;
using System.IO;
using System.Text;
using MessagePack;
using MessagePack.Formatters;

namespace CatEvening.SeiReader.Messages;

/// <summary>
/// Hand-written MessagePack formatter for any CatEvening message body: a MessagePack array whose field 0 is the
/// kind, which selects <see cref="CueMessageFormatter"/> or <see cref="HeartbeatMessageFormatter"/>. No reflection and
/// no resolver is involved (AOT and Unity safe); the <c>options</c> argument is not used.
/// <code>
/// cue:       [kind, stream_id, seq, issued_at_us, target_offset_90k, cue_id, window_90k, spread_us, app_data]
/// heartbeat: [4,    stream_id, seq, issued_at_us, injection_wall_us, carrier_pts, uncertainty_us, time_server|nil]
/// </code>
/// A reader accepts more array elements than it knows and skips them (later minor revisions of format version 1
/// may append fields); fewer is malformed.
/// </summary>
public sealed class CatEveningMessageFormatter : IMessagePackFormatter<CatEveningMessage?>
{
    /// <summary>The shared instance (stateless).</summary>
    public static readonly CatEveningMessageFormatter Instance = new();

    internal static readonly string[] FieldNames =
    {
        "kind", "stream_id", "seq", "issued_at_us", "target_offset_90k|injection_wall_us", "cue_id|carrier_pts",
        "window_90k|uncertainty_us", "spread_us|time_server", "app_data",
    };

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, CatEveningMessage? value, MessagePackSerializerOptions options) => Write(ref writer, value);

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The body is malformed; the message names the field.</exception>
    public CatEveningMessage? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var field = 0;
        return Read(ref reader, ref field);
    }

    internal static void Write(ref MessagePackWriter writer, CatEveningMessage? value)
    {
        switch (value)
        {
            case null: writer.WriteNil(); break;
            case CueMessage cue: CueMessageFormatter.Write(ref writer, cue); break;
            case HeartbeatMessage hb: HeartbeatMessageFormatter.Write(ref writer, hb); break;
            default: throw new ArgumentException($"unknown message type {value.GetType()}", nameof(value));
        }
    }

    /// <summary>Reads one body; <paramref name="field"/> tracks the field being read so that errors can name it.</summary>
    internal static CatEveningMessage? Read(ref MessagePackReader reader, ref int field)
    {
        if (reader.TryReadNil()) return null;
        var count = reader.ReadArrayHeader();
        var peek = reader.CreatePeekReader();
        if (count < 1) throw Malformed("empty array");
        var kind = (MessageKind)peek.ReadByte();
        if (kind == MessageKind.Heartbeat) return HeartbeatMessageFormatter.ReadFields(ref reader, count, ref field);
        if (kind.IsCue()) return CueMessageFormatter.ReadFields(ref reader, count, ref field);
        throw Malformed($"unknown kind {(byte)kind}");
    }

    internal static void WriteHeader(ref MessagePackWriter writer, CatEveningMessage m, int count)
    {
        writer.WriteArrayHeader(count);
        writer.Write((byte)m.Kind);
        writer.Write(m.StreamId);
        writer.Write(m.SequenceNumber);
        writer.Write(m.IssuedAtMicros);
    }

    internal static (MessageKind Kind, string StreamId, long Seq, long IssuedAt) ReadHeader(ref MessagePackReader reader, ref int field)
    {
        field = 0;
        var kind = (MessageKind)reader.ReadByte();
        field = 1;
        var stream = ReadId(ref reader, CatEveningSei.MaxIdLength, allowNil: false)!;
        field = 2;
        var seq = reader.ReadInt64();
        if (seq < 0) throw Malformed($"sequence number {seq} is negative");
        field = 3;
        var issued = reader.ReadInt64();
        return (kind, stream, seq, issued);
    }

    internal static string? ReadId(ref MessagePackReader reader, int maxBytes, bool allowNil)
    {
        if (reader.TryReadNil())
        {
            if (allowNil) return null;
            throw Malformed("nil where a string is required");
        }
        if (reader.NextMessagePackType != MessagePackType.String) throw Malformed($"{reader.NextMessagePackType} where a string is required");
        var bytes = reader.ReadStringSequence()!.Value;
        if (bytes.Length == 0) throw Malformed("empty string");
        if (bytes.Length > maxBytes) throw Malformed($"string of {bytes.Length} bytes, at most {maxBytes}");
        try
        {
            return StrictUtf8.GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("string is not valid UTF-8");
        }
    }

    internal static void SkipExtra(ref MessagePackReader reader, int count, int known, ref int field)
    {
        for (field = known; field < count; field++) reader.Skip();
    }

    internal static MessagePackSerializationException Malformed(string what) => new(what);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>Hand-written MessagePack formatter of <see cref="CueMessage"/> (a 9-element array; see <see cref="CatEveningMessageFormatter"/>).</summary>
public sealed class CueMessageFormatter : IMessagePackFormatter<CueMessage?>
{
    /// <summary>The shared instance (stateless).</summary>
    public static readonly CueMessageFormatter Instance = new();

    internal const int FieldCount = 9;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, CueMessage? value, MessagePackSerializerOptions options)
    {
        if (value is null) writer.WriteNil();
        else Write(ref writer, value);
    }

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The body is malformed or not a cue.</exception>
    public CueMessage? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        var field = 0;
        return CatEveningMessageFormatter.Read(ref reader, ref field) as CueMessage ?? throw CatEveningMessageFormatter.Malformed("not a cue");
    }

    internal static void Write(ref MessagePackWriter writer, CueMessage cue)
    {
        CatEveningMessageFormatter.WriteHeader(ref writer, cue, FieldCount);
        writer.Write(cue.TargetOffsetTicks);
        writer.Write(cue.CueId);
        writer.Write(cue.WindowTicks);
        writer.Write(cue.SpreadMicros);
        writer.Write(cue.AppData.Span);
    }

    internal static CueMessage ReadFields(ref MessagePackReader reader, int count, ref int field)
    {
        if (count < FieldCount) throw CatEveningMessageFormatter.Malformed($"cue array has {count} fields, needs {FieldCount}");
        var (kind, stream, seq, issued) = CatEveningMessageFormatter.ReadHeader(ref reader, ref field);
        field = 4;
        var offset = reader.ReadInt64();
        field = 5;
        var cueId = CatEveningMessageFormatter.ReadId(ref reader, CatEveningSei.MaxIdLength, allowNil: false)!;
        field = 6;
        var window = reader.ReadInt64();
        if (window < 0) throw CatEveningMessageFormatter.Malformed($"window {window} is negative");
        field = 7;
        var spread = reader.ReadInt64();
        if (spread < 0) throw CatEveningMessageFormatter.Malformed($"spread {spread} is negative");
        field = 8;
        if (reader.NextMessagePackType != MessagePackType.Binary) throw CatEveningMessageFormatter.Malformed($"{reader.NextMessagePackType} where bin is required");
        var app = reader.ReadBytes()!.Value;
        if (app.Length > CatEveningSei.MaxAppDataLength)
            throw CatEveningMessageFormatter.Malformed($"app data of {app.Length} bytes, at most {CatEveningSei.MaxAppDataLength}");
        CatEveningMessageFormatter.SkipExtra(ref reader, count, FieldCount, ref field);
        return new CueMessage(kind, stream, seq, issued, offset, cueId, window, spread, app.IsSingleSegment ? app.First.Span : app.ToArray());
    }
}

/// <summary>Hand-written MessagePack formatter of <see cref="HeartbeatMessage"/> (an 8-element array; see <see cref="CatEveningMessageFormatter"/>).</summary>
public sealed class HeartbeatMessageFormatter : IMessagePackFormatter<HeartbeatMessage?>
{
    /// <summary>The shared instance (stateless).</summary>
    public static readonly HeartbeatMessageFormatter Instance = new();

    internal const int FieldCount = 8;

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, HeartbeatMessage? value, MessagePackSerializerOptions options)
    {
        if (value is null) writer.WriteNil();
        else Write(ref writer, value);
    }

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The body is malformed or not a heartbeat.</exception>
    public HeartbeatMessage? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil()) return null;
        var field = 0;
        return CatEveningMessageFormatter.Read(ref reader, ref field) as HeartbeatMessage ?? throw CatEveningMessageFormatter.Malformed("not a heartbeat");
    }

    internal static void Write(ref MessagePackWriter writer, HeartbeatMessage hb)
    {
        CatEveningMessageFormatter.WriteHeader(ref writer, hb, FieldCount);
        writer.Write(hb.InjectionWallClockMicros);
        writer.Write(hb.CarrierPts);
        writer.Write(hb.ClockUncertaintyMicros);
        if (hb.TimeServer is null) writer.WriteNil();
        else writer.Write(hb.TimeServer);
    }

    internal static HeartbeatMessage ReadFields(ref MessagePackReader reader, int count, ref int field)
    {
        if (count < FieldCount) throw CatEveningMessageFormatter.Malformed($"heartbeat array has {count} fields, needs {FieldCount}");
        var (_, stream, seq, issued) = CatEveningMessageFormatter.ReadHeader(ref reader, ref field);
        field = 4;
        var wall = reader.ReadInt64();
        field = 5;
        var pts = reader.ReadInt64();
        if (pts is < 0 or > HeartbeatMessage.MaxPts) throw CatEveningMessageFormatter.Malformed($"carrier PTS {pts} is not a 33-bit value");
        field = 6;
        var uncertainty = reader.ReadInt64();
        if (uncertainty < 0) throw CatEveningMessageFormatter.Malformed($"uncertainty {uncertainty} is negative");
        field = 7;
        var server = CatEveningMessageFormatter.ReadId(ref reader, CatEveningSei.MaxTimeServerLength, allowNil: true);
        CatEveningMessageFormatter.SkipExtra(ref reader, count, FieldCount, ref field);
        return new HeartbeatMessage(stream, seq, issued, wall, pts, uncertainty, server);
    }
}

/// <summary>Reads and writes a message body (the MessagePack part of the envelope) without exceptions escaping.</summary>
public static class MessageBody
{
    /// <summary>Writes the body of <paramref name="message"/> to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    public static void Write(IBufferWriter<byte> destination, CatEveningMessage message)
    {
        if (message is null) throw new ArgumentNullException(nameof(message));
        var writer = new MessagePackWriter(destination);
        CatEveningMessageFormatter.Write(ref writer, message);
        writer.Flush();
    }

    /// <summary>The body bytes of <paramref name="message"/>.</summary>
    public static byte[] ToBytes(CatEveningMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a body that must fill <paramref name="body"/> exactly. Never throws on bad bytes.</summary>
    /// <param name="body">The body bytes.</param>
    /// <param name="message">The message, or null on failure.</param>
    /// <param name="error">On failure, what is wrong and where (body offset and field name).</param>
    public static bool TryRead(ReadOnlyMemory<byte> body, out CatEveningMessage? message, out string? error)
    {
        var reader = new MessagePackReader(body);
        var field = -1;
        try
        {
            message = CatEveningMessageFormatter.Read(ref reader, ref field);
            if (message is null) return Fail("body is nil", reader.Consumed, -1, out message, out error);
            if (!reader.End) return Fail($"{body.Length - reader.Consumed} bytes after the array", reader.Consumed, -1, out message, out error);
            error = null;
            return true;
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException)
        {
            return Fail(e.Message, reader.Consumed, field, out message, out error);
        }
    }

    /// <summary>Writes a format-version-2 body (<see cref="MessageBundle"/>) to <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="bundle"/> is null.</exception>
    public static void Write(IBufferWriter<byte> destination, MessageBundle bundle)
    {
        if (bundle is null) throw new ArgumentNullException(nameof(bundle));
        var writer = new MessagePackWriter(destination);
        MessageBundleFormatter.Write(ref writer, bundle);
        writer.Flush();
    }

    /// <summary>The format-version-2 body bytes of <paramref name="bundle"/>.</summary>
    public static byte[] ToBytes(MessageBundle bundle)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, bundle);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Parses a format-version-2 body that must fill <paramref name="body"/> exactly. Never throws on bad bytes.</summary>
    /// <param name="body">The body bytes.</param>
    /// <param name="bundle">The bundle, or null on failure.</param>
    /// <param name="error">On failure, what is wrong and where (body offset, field, entry and entry field).</param>
    public static bool TryReadBundle(ReadOnlyMemory<byte> body, out MessageBundle? bundle, out string? error)
    {
        var reader = new MessagePackReader(body);
        var at = new MessageBundleFormatter.Position();
        try
        {
            if (reader.TryReadNil()) return FailBundle("body is nil", reader.Consumed, at, out bundle, out error);
            bundle = MessageBundleFormatter.Read(ref reader, at);
            if (!reader.End) return FailBundle($"{body.Length - reader.Consumed} bytes after the array", reader.Consumed, new MessageBundleFormatter.Position(), out bundle, out error);
            error = null;
            return true;
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException or ArgumentException or InvalidOperationException)
        {
            return FailBundle(e.Message, reader.Consumed, at, out bundle, out error);
        }
    }

    private static bool FailBundle(string what, long offset, MessageBundleFormatter.Position at, out MessageBundle? bundle, out string? error)
    {
        bundle = null;
        error = $"malformed body at body offset {offset}{at}: {what}";
        return false;
    }

    private static bool Fail(string what, long offset, int field, out CatEveningMessage? message, out string? error)
    {
        message = null;
        var name = field >= 0 && field < CatEveningMessageFormatter.FieldNames.Length ? $" field {field} ({CatEveningMessageFormatter.FieldNames[field]})" : field >= 0 ? $" field {field}" : "";
        error = $"malformed body at body offset {offset}{name}: {what}";
        return false;
    }
}
