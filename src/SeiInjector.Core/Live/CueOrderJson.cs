using System.Buffers;
using System.Globalization;
using System.Text.Json;
using CatEvening.SeiInjector.Schedule;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Reads the body of <c>POST /v1/cues</c> into a <see cref="CueOrder"/>, with the fields of a schedule entry:
/// <code>{ "id": "red-1", "kind": "interaction-start", "at": "5s", "duration": "30s", "spread": "2s", "data": { ... } }</code>
/// (and <c>closes</c>, the cue an interaction-end or cancel closes).
/// <c>id</c> is required; <c>kind</c> defaults to <c>interaction-start</c>; <c>at</c> absent means the next frame, a
/// duration (<c>500ms</c>, <c>2s</c>, <c>1m</c>, <c>1h</c>) a stream time from the first video frame, anything else an
/// ISO 8601 wall clock with its offset, <c>pts=</c> and a duration a presentation time on the source's clock (what a
/// cue bus carries); <c>duration</c> and <c>spread</c> default to 0. Each error names the field.
/// Only the shape is checked here; the cue book judges the content (known kind, unique id, app data size).
/// </summary>
public static class CueOrderJson
{
    private static readonly string[] KnownFields = ["id", "kind", "at", "duration", "spread", "closes", "data"];

    /// <summary>The kind of a cue whose request names none.</summary>
    public const string DefaultKind = "interaction-start";

    /// <summary>How <c>at</c> names a presentation time on the source's clock: <c>pts=12.5s</c>.</summary>
    public const string SourcePtsPrefix = "pts=";

    /// <summary>Largest request body read, in bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>Parses a request body; on failure <paramref name="error"/> says which field or byte is wrong.</summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out CueOrder? order, out string error)
    {
        order = null;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            error = $"malformed JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}";
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"the body must be a JSON object, not {root.ValueKind.ToString().ToLowerInvariant()}";
                return false;
            }
            string? id = null, kindText = null, atText = null, closes = null;
            TimeSpan duration = TimeSpan.Zero, spread = TimeSpan.Zero;
            byte[] data = [];
            var seen = 0;
            foreach (var p in root.EnumerateObject())
            {
                if (!TryName(p, out var name, out error)) return false;
                // A field given twice is refused: which one counts is a guess (the last, for System.Text.Json and a
                // browser's JSON.parse; the first, for others), and an operator's tool that sent both has a bug to show.
                var known = Array.IndexOf(KnownFields, name);
                if (known >= 0 && (seen & (1 << known)) != 0)
                {
                    error = $"field '{name}' is given twice: give each field once";
                    return false;
                }
                if (known >= 0) seen |= 1 << known;
                switch (name)
                {
                    case "id":
                        if (!TryString(p, out id, out error)) return false;
                        break;
                    case "kind":
                        if (!TryString(p, out kindText, out error)) return false;
                        break;
                    case "at":
                        if (p.Value.ValueKind != JsonValueKind.Null && !TryString(p, out atText, out error)) return false;
                        break;
                    case "duration":
                        if (!TryDuration(p, out duration, out error)) return false;
                        break;
                    case "spread":
                        if (!TryDuration(p, out spread, out error)) return false;
                        break;
                    case "closes":
                        if (!TryString(p, out closes, out error)) return false;
                        break;
                    case "data":
                        if (!TryData(p.Value, out data, out error)) return false;
                        break;
                    default:
                        error = $"unknown field '{p.Name}' (known: id, kind, at, duration, spread, data, closes)";
                        return false;
                }
            }
            if (string.IsNullOrEmpty(id))
            {
                error = "field 'id' is required";
                return false;
            }
            CueTarget at = new CueTarget.Now();
            if (atText is not null)
            {
                if (DurationText.TryParse(atText, out var offset)) at = new CueTarget.StreamTime(offset);
                else if (atText.StartsWith(SourcePtsPrefix, StringComparison.Ordinal))
                {
                    if (!DurationText.TryParse(atText[SourcePtsPrefix.Length..], out var pts))
                    {
                        error = $"field 'at': '{atText}' is not pts= followed by a duration (pts=12.5s)";
                        return false;
                    }
                    at = new CueTarget.SourcePts(pts);
                }
                else if (DateTimeOffset.TryParse(atText, CultureInfo.InvariantCulture, DateTimeStyles.None, out var wall) && HasOffset(atText))
                    at = new CueTarget.WallClock(wall);
                else
                {
                    error = $"field 'at': '{atText}' {DurationText.Fault(atText, "is neither a duration (500ms, 2s, 1m) nor a wall clock with its offset (2026-11-11T20:30:00+08:00)")}";
                    return false;
                }
            }
            order = new CueOrder(id, kindText ?? DefaultKind, at, atText, duration, spread, data, closes);
            error = "";
            return true;
        }
    }

    /// <summary>Writes a cue order as the request body the <c>cue</c> client verb sends.</summary>
    public static byte[] Write(string id, string? kind, string? at, string? duration, string? spread, string? dataJson, string? closes = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            if (kind is not null) w.WriteString("kind", kind);
            if (at is not null) w.WriteString("at", at);
            if (duration is not null) w.WriteString("duration", duration);
            if (spread is not null) w.WriteString("spread", spread);
            if (closes is not null) w.WriteString("closes", closes);
            if (dataJson is not null)
            {
                w.WritePropertyName("data");
                w.WriteRawValue(dataJson);
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static bool HasOffset(string text) =>
        text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');

    private static bool TryString(JsonProperty p, out string? value, out string error)
    {
        if (p.Value.ValueKind != JsonValueKind.String)
        {
            value = null;
            error = $"field '{p.Name}' must be a string, not {p.Value.ValueKind.ToString().ToLowerInvariant()}";
            return false;
        }
        try
        {
            value = p.Value.GetString();
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to decode an escaped lone surrogate (\ud800 without its pair).
            value = null;
            error = $"field '{p.Name}': not valid text: invalid UTF-8 bytes or an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)";
            return false;
        }
        error = "";
        return true;
    }

    private static bool TryName(JsonProperty p, out string name, out string error)
    {
        try
        {
            name = p.Name;
            error = "";
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            error = "a field name is not valid text: invalid UTF-8 bytes or an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)";
            return false;
        }
    }

    private static bool TryDuration(JsonProperty p, out TimeSpan value, out string error)
    {
        value = default;
        if (!TryString(p, out var text, out error)) return false;
        if (DurationText.TryParse(text, out value)) return true;
        error = $"field '{p.Name}': '{text}' {DurationText.Fault(text, "is not a duration (500ms, 2s, 1m)")}";
        return false;
    }

    // The app data is signed and sent as it stands: every string and property name in it must be valid text (the
    // parser does not check string contents; writing a lone surrogate escape throws, and invalid UTF-8 bytes would be
    // replaced by U+FFFD without a word).
    private static bool TryData(JsonElement value, out byte[] data, out string error)
    {
        data = [];
        if (!IsValidText(value, "data", out var path))
        {
            error = $"field 'data': {path} is not valid text: invalid UTF-8 bytes or an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)";
            return false;
        }
        switch (Fault(value, "data"))
        {
            case ({ } at, DataFault.Duplicate):
                // Readers would keep one of the two (which one depends on their JSON parser): refused like a duplicate top field.
                error = $"field 'data': {at} is given twice: give each field once";
                return false;
            case ({ } at, DataFault.BeyondDouble):
                // Sent as written, JavaScript's JSON.parse (the web reader) and most parsers would read Infinity.
                error = $"field 'data': {at} is a number beyond a double's range (±1.8e308): no reader can hold it";
                return false;
        }
        data = Compact(value);
        error = "";
        return true;
    }

    private enum DataFault { None, Duplicate, BeyondDouble }

    // The path of the first fault in `value`, depth first: a field name given twice in one object, or a number a double
    // cannot hold (JsonElement.TryGetDouble gives it as infinite). Depth is bounded by MaxDepth (32).
    private static (string? At, DataFault Fault) Fault(JsonElement value, string at)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.TryGetDouble(out var d) && double.IsFinite(d) ? default : (at, DataFault.BeyondDouble);
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (Fault(item, $"{at}[{i++}]") is { At: not null } found) return found;
                }
                return default;
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in value.EnumerateObject())
                {
                    if (!names.Add(property.Name)) return ($"{at}.{property.Name}", DataFault.Duplicate);
                    if (Fault(property.Value, $"{at}.{property.Name}") is { At: not null } found) return found;
                }
                return default;
            default:
                return default;
        }
    }

    // Depth is bounded by the document's MaxDepth (32).
    private static bool IsValidText(JsonElement value, string at, out string path)
    {
        path = at;
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    _ = value.GetString();
                    return true;
                case JsonValueKind.Array:
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (!IsValidText(item, $"{at}[{i}]", out path)) return false;
                        i++;
                    }
                    return true;
                case JsonValueKind.Object:
                    foreach (var property in value.EnumerateObject())
                    {
                        string name;
                        try
                        {
                            name = property.Name;
                        }
                        catch (InvalidOperationException)
                        {
                            path = $"a field name in {at}";
                            return false;
                        }
                        if (!IsValidText(property.Value, $"{at}.{name}", out path)) return false;
                    }
                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            path = at;
            return false;
        }
    }

    // The app data as it rides the SEI: compact, and as UTF-8 text (no \uXXXX for non-ASCII or HTML-sensitive characters:
    // the default encoder counted a CJK character as 6 bytes of the 1024 and sent `\u4F18` to the app; a fresh tester).
    // Control characters, quotes and backslashes are still escaped (RFC 8259, section 7).
    private static byte[] Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = HttpEndpoint.JsonEncoder })) value.WriteTo(w);
        return buffer.WrittenSpan.ToArray();
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
