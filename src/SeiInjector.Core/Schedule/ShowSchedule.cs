using System.Globalization;
using System.Text;
using System.Text.Json;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiReader.Messages;
using YamlDotNet.Core;
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
            var key = ((YamlScalarNode)keyNode).Value;
            switch (key)
            {
                case "stream":
                    streamId = Scalar(value, source, "stream");
                    break;
                case "cues":
                    if (value is not YamlSequenceNode list)
                        throw Error(source, value, "cues", "must be a list");
                    var index = 0;
                    foreach (var item in list) cues.Add(ParseCue(item, source, index++));
                    break;
                default:
                    throw Error(source, keyNode, key ?? "", "unknown field (expected 'stream' or 'cues')");
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
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var field = $"{where}.{key}";
            switch (key)
            {
                case "id": id = Scalar(value, source, field); break;
                case "kind": kindText = Scalar(value, source, field); break;
                case "at": at = ParseAt(value, source, field); break;
                case "duration": duration = ParseDuration(value, source, field); break;
                case "spread": spread = ParseDuration(value, source, field); break;
                case "closes": closes = Scalar(value, source, field); break;
                case "data": data = ToJson(value); break;
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
    // true/false or null keep that type, every other scalar is a string.
    private static byte[] ToJson(YamlNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteJson(writer, node);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteJson(Utf8JsonWriter writer, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                writer.WriteStartObject();
                foreach (var (k, v) in map.Children)
                {
                    writer.WritePropertyName(((YamlScalarNode)k).Value ?? "");
                    WriteJson(writer, v);
                }
                writer.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                writer.WriteStartArray();
                foreach (var v in seq) WriteJson(writer, v);
                writer.WriteEndArray();
                break;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.Plain)
                {
                    if (text is "true" or "false") { writer.WriteBooleanValue(text == "true"); break; }
                    if (text is "null" or "~" or "") { writer.WriteNullValue(); break; }
                    if (IsJsonNumber(text)) { writer.WriteRawValue(text); break; }
                }
                writer.WriteStringValue(text);
                break;
        }
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
