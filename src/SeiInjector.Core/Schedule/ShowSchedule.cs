using System.Globalization;
using System.Text;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Messages;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using ScalarEvent = YamlDotNet.Core.Events.Scalar;
using YamlDotNet.RepresentationModel;

namespace CatEvening.SeiInjector.Schedule;

/// <summary>A run-of-show schedule file: the stream id and the cues, in file order.</summary>
/// <param name="StreamId">The <c>stream</c> field, or null when the file has none.</param>
/// <param name="Cues">One request per entry of <c>cues</c>.</param>
public sealed record ShowSchedule(string? StreamId, IReadOnlyList<CueRequest> Cues)
{
    /// <summary>
    /// What is valid but probably not meant, one sentence each naming the file and cue: an interaction-end or cancel whose
    /// <c>closes</c> names no cue of the schedule (sent as written: it closes a cue fired through the control API with that
    /// id, or what readers know by it; a typo would leave the interaction it meant to end open).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The deepest a cue's <c>data</c> may nest (objects and arrays within one another).</summary>
    public const int MaxDataDepth = 64;

    // The document's own levels above a cue's data: the root mapping, the cue list and the cue.
    private const int MaxDocumentDepth = MaxDataDepth + 3;

    /// <summary>Reads a schedule file (YAML; JSON is YAML too).</summary>
    /// <exception cref="ScheduleException">The file is missing, not YAML, or a field is wrong; the message names file, line and field.</exception>
    public static ShowSchedule Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScheduleException($"{path}: cannot read the schedule: {e.Message}");
        }
        return Parse(text, path);
    }

    /// <summary>Parses schedule text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ScheduleException">Not YAML, or a field is wrong.</exception>
    public static ShowSchedule Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            CheckShape(text, source);
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScheduleException($"{source}:{e.Start.Line}:{e.Start.Column}: not valid YAML/JSON: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ScheduleException($"{source}: the schedule must be a mapping with 'stream' and 'cues'");

        string? streamId = null;
        var cues = new List<CueRequest>();
        foreach (var (keyNode, value) in root.Children)
        {
            var key = KeyOf(keyNode, source, "the schedule");
            switch (key)
            {
                case "stream":
                    streamId = Scalar(value, source, "stream");
                    // Checked here, not first by the cue book (ArgumentException: an "internal error", exit 70).
                    if (Encoding.UTF8.GetByteCount(streamId) is 0 or > CatEveningSei.MaxIdLength)
                        throw Error(source, value, "stream", $"must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes, not {Encoding.UTF8.GetByteCount(streamId)}");
                    break;
                case "cues":
                    if (value is not YamlSequenceNode list)
                        throw Error(source, value, "cues", "must be a list");
                    var index = 0;
                    foreach (var item in list) cues.Add(ParseCue(item, source, index++));
                    break;
                default:
                    throw Error(source, keyNode, key, "unknown field (expected 'stream' or 'cues')");
            }
        }
        var duplicate = cues.GroupBy(c => c.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new ScheduleException($"{source}: cue id '{duplicate.Key}' appears {duplicate.Count()} times");
        var ids = cues.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var warnings = cues.Where(c => c.TargetCueId is { } target && !ids.Contains(target))
            .Select(c => $"{source}: cue '{c.Id}' closes '{c.TargetCueId}', which the schedule does not hold: sent as written (it closes a cue " +
                "fired through the control API with that id, or what readers know by it); check it for a typo")
            .ToList();
        return new ShowSchedule(streamId, cues) { Warnings = warnings };
    }

    private static CueRequest ParseCue(YamlNode node, string source, int index)
    {
        var where = $"cues[{index}]";
        if (node is not YamlMappingNode map) throw Error(source, node, where, "must be a mapping");
        string? id = null, kindText = null, closes = null;
        CueTime? at = null;
        TimeSpan duration = TimeSpan.Zero, spread = TimeSpan.Zero;
        byte[] data = [];
        foreach (var (keyNode, value) in map.Children)
        {
            var key = KeyOf(keyNode, source, where);
            var field = $"{where}.{key}";
            switch (key)
            {
                case "id": id = Scalar(value, source, field); break;
                case "kind": kindText = Scalar(value, source, field); break;
                case "at": at = ParseAt(value, source, field); break;
                case "duration": duration = ParseDuration(value, source, field); break;
                case "spread": spread = ParseDuration(value, source, field); break;
                case "closes": closes = Scalar(value, source, field); break;
                case "data": data = ToJson(value, source, field); break;
                default: throw Error(source, keyNode, field, "unknown field (expected id, kind, at, duration, spread, data, closes)");
            }
        }
        if (string.IsNullOrEmpty(id)) throw Error(source, node, $"{where}.id", "is required");
        where = $"cue '{id}'";
        if (kindText == null) throw Error(source, node, $"{where}: kind", "is required");
        if (!MessageKinds.TryParseWireName(kindText, out var kind) || !kind.IsCue())
            throw Error(source, node, $"{where}: kind", $"'{kindText}' is not one of interaction-start, interaction-end, cancel, custom");
        if (at == null) throw Error(source, node, $"{where}: at", "is required");
        if (Encoding.UTF8.GetByteCount(id) > CatEveningSei.MaxIdLength)
            throw Error(source, node, $"{where}: id", $"is longer than {CatEveningSei.MaxIdLength} UTF-8 bytes");
        if (data.Length > CatEveningSei.MaxAppDataLength)
            throw Error(source, node, $"{where}: data", $"is {data.Length} bytes as JSON, at most {CatEveningSei.MaxAppDataLength}");
        if (closes != null && kind is not (MessageKind.InteractionEnd or MessageKind.Cancel))
            throw Error(source, node, $"{where}: closes", "only interaction-end and cancel close another cue");
        return new CueRequest(id, kind, at.Value, duration, spread, data, closes);
    }

    private static CueTime ParseAt(YamlNode node, string source, string field)
    {
        var text = Scalar(node, source, field);
        if (DurationText.TryParse(text, out var offset)) return CueTime.FromFirstFrame(offset);
        if (DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            && (text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 10))
            return CueTime.At(instant);
        throw Error(source, node, field, $"'{text}' {DurationText.Fault(text, "is neither a duration from the first frame (5s, 500ms, 1m) nor a wall clock with its UTC offset (2026-11-11T20:30:00+08:00)")}");
    }

    private static TimeSpan ParseDuration(YamlNode node, string source, string field)
    {
        var text = Scalar(node, source, field);
        return DurationText.TryParse(text, out var d) ? d : throw Error(source, node, field, $"'{text}' {DurationText.Fault(text, "is not a duration (500ms, 2s, 1m)")}");
    }

    private static string Scalar(YamlNode node, string source, string field) =>
        node is YamlScalarNode { Value: { } v } ? v : throw Error(source, node, field, "must be a single value");

    // The cue's data as compact JSON: mappings become objects, lists arrays; plain scalars that read as JSON numbers,
    // true/false or null keep that type, every other scalar is a string. An alias is written out in full where it
    // stands, so a few lines can stand for gigabytes (anchors of anchors, "billion laughs") or for no end at all (an
    // alias inside its own anchor): writing stops as soon as the JSON passes the size a cue may carry or nests deeper
    // than MaxDataDepth.
    private static byte[] ToJson(YamlNode node, string source, string field)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        // UTF-8 text as it stands (no \uXXXX for non-ASCII or HTML-sensitive characters), as the control API keeps it.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteJson(writer, node, source, field, 0);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteJson(Utf8JsonWriter writer, YamlNode node, string source, string field, int depth)
    {
        if (writer.BytesCommitted + writer.BytesPending > CatEveningSei.MaxAppDataLength)
            throw Error(source, node, field, $"makes more than {CatEveningSei.MaxAppDataLength} bytes as JSON (at most {CatEveningSei.MaxAppDataLength}; an alias is written out in full)");
        if (node is YamlMappingNode or YamlSequenceNode && depth == MaxDataDepth)
            throw Error(source, node, field, $"nests deeper than {MaxDataDepth} levels");
        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                foreach (var (k, v) in map.Children)
                {
                    var key = KeyOf(k, source, field);
                    writer.WritePropertyName(key);
                    WriteJson(writer, v, source, Child(field, "." + key), depth + 1);
                }
                writer.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                writer.WriteStartArray();
                var index = 0;
                foreach (var v in seq) WriteJson(writer, v, source, Child(field, $"[{index++}]"), depth + 1);
                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.Plain)
                {
                    if (text is "true" or "false") { writer.WriteBooleanValue(text == "true"); break; }
                    if (text is "null" or "~" or "") { writer.WriteNullValue(); break; }
                    if (IsJsonNumber(text))
                    {
                        // A reader's JSON.parse would read Infinity: refused, as the control API refuses it.
                        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                            throw Error(source, node, field, $"'{text}' is a number beyond a double's range (±1.8e308): no reader can hold it");
                        writer.WriteRawValue(text);
                        break;
                    }
                }
                writer.WriteStringValue(text);
                break;
        }
    }

    // A mapping key written as a list or mapping ("? [1, 2] : 3"), which neither a field name nor JSON can hold.
    private static string KeyOf(YamlNode key, string source, string where) =>
        key is YamlScalarNode scalar ? scalar.Value ?? ""
            : throw Error(source, key, where, "has a key that is a list or mapping: keys must be single values");

    // YamlStream builds its node tree recursively, so a document nested some thousands deep would overflow the stack,
    // a crash no handler catches; so does hashing a key that is an alias of a list holding itself. One pass over the
    // parser's events first refuses nesting deeper than a schedule uses (the cue's data at most MaxDataDepth) and keys
    // that are lists or mappings, or aliases of anything but a single value, naming the field.
    private static void CheckShape(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        var levels = new List<Level>();
        var scalarAnchors = new Dictionary<string, bool>(StringComparer.Ordinal);
        while (parser.MoveNext())
        {
            var e = parser.Current!;
            if (e is NodeEvent { Anchor.IsEmpty: false } anchored) scalarAnchors[anchored.Anchor.Value] = e is ScalarEvent;
            if (e is MappingEnd or SequenceEnd)
            {
                levels.RemoveAt(levels.Count - 1);
                continue;
            }
            if (e is not (ScalarEvent or AnchorAlias or MappingStart or SequenceStart)) continue;
            if (levels.Count > 0 && levels[^1] is var parent)
            {
                if (parent.IsMapping && parent.ExpectingKey)
                {
                    // An alias may stand for a single value; one of a list or mapping (or of an anchor still open) is not.
                    if (e is MappingStart or SequenceStart || e is AnchorAlias alias && !scalarAnchors.GetValueOrDefault(alias.Value.Value))
                    {
                        parent.Key = null;
                        throw new ScheduleException($"{source}:{e.Start.Line}:{e.Start.Column}: {PathOf(levels)} has a key that is a list or mapping: keys must be single values");
                    }
                    parent.Key = e is ScalarEvent scalar ? scalar.Value : "*" + ((AnchorAlias)e).Value;
                    parent.ExpectingKey = false;
                    continue;
                }
                parent.ExpectingKey = true;
                parent.Index++;
            }
            if (e is MappingStart or SequenceStart)
            {
                if (levels.Count == MaxDocumentDepth)
                    throw new ScheduleException($"{source}:{e.Start.Line}:{e.Start.Column}: {PathOf(levels)} nests deeper than {MaxDataDepth} levels");
                levels.Add(new Level(e is MappingStart));
            }
        }
    }

    private static string PathOf(List<Level> levels)
    {
        var path = "";
        foreach (var level in levels)
        {
            if (level.IsMapping && level.Key is { } key) path = path.Length == 0 ? key : Child(path, "." + key);
            else if (!level.IsMapping) path = Child(path, $"[{level.Index}]");
        }
        return path.Length == 0 ? "the schedule" : path;
    }

    // A field's path, cut short with "…" once it is long: data nested 64 deep would otherwise be named by 64 "[0]".
    private const int LongestPath = 64;

    private static string Child(string path, string part) =>
        path.EndsWith('…') ? path : path.Length + part.Length > LongestPath ? path + "…" : path + part;

    // One open mapping or list during CheckShape: its last key, or the index of its last item.
    private sealed class Level(bool isMapping)
    {
        public bool IsMapping { get; } = isMapping;
        public bool ExpectingKey { get; set; } = true;
        public string? Key { get; set; }
        public int Index { get; set; } = -1;
    }

    private static bool IsJsonNumber(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.BytesConsumed == text.Length && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static ScheduleException Error(string source, YamlNode node, string field, string problem) =>
        new($"{source}:{node.Start.Line}:{node.Start.Column}: {field} {problem}");
}

/// <summary>A schedule file is unreadable or wrong; the message names the file, line, column and field.</summary>
public sealed class ScheduleException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScheduleException(string message)
        : base(message)
    {
    }
}
