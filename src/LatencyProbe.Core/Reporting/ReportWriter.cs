using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Writes a <see cref="LatencyReport"/> as JSON (the one report format every instrument shares) or CSV.
/// </summary>
/// <remarks>
/// JSON shape, field names fixed:
/// <code>
/// { "instrument": "device", "started_utc": ISO-8601, "ended_utc": ISO-8601,
///   "samples": N, "current_ms", "p50_ms", "p95_ms", "p99_ms", "min_ms", "max_ms", "mean_ms", "uncertainty_ms",
///   "counters": { name: count }, "properties": { name: text },
///   "raw_samples": [ { "utc": ISO-8601, "latency_ms": x, "uncertainty_ms": u }, ... ] }
/// </code>
/// Figures that do not exist (no samples) are written as <c>null</c>, since JSON has no NaN.
/// </remarks>
public static class ReportWriter
{
    /// <summary>Writes the report as indented UTF-8 JSON.</summary>
    public static void WriteJson(LatencyReport report, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(destination);
        using var json = new Utf8JsonWriter(destination, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("instrument", report.Instrument);
        json.WriteString("started_utc", Iso(report.StartedUtc));
        json.WriteString("ended_utc", Iso(report.EndedUtc));
        WriteSummaryFields(json, report.Summary);
        json.WriteStartObject("counters");
        foreach (var (name, value) in report.Counters) json.WriteNumber(name, value);
        json.WriteEndObject();
        json.WriteStartObject("properties");
        foreach (var (name, value) in report.Properties) json.WriteString(name, value);
        json.WriteEndObject();
        json.WriteStartArray("raw_samples");
        foreach (var s in report.Samples)
        {
            json.WriteStartObject();
            json.WriteString("utc", Iso(s.Timestamp));
            json.WriteNumber("latency_ms", Math.Round(s.LatencyMilliseconds, 4));
            json.WriteNumber("uncertainty_ms", Math.Round(s.UncertaintyMilliseconds, 4));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        destination.Write("\n"u8);
    }

    /// <summary>
    /// Writes <c>samples</c> and the <c>*_ms</c> figures of a summary into the current JSON object.
    /// </summary>
    public static void WriteSummaryFields(Utf8JsonWriter json, LatencySummary summary)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(summary);
        json.WriteNumber("samples", summary.Count);
        WriteFigure(json, "current_ms", summary.CurrentMilliseconds);
        WriteFigure(json, "p50_ms", summary.P50Milliseconds);
        WriteFigure(json, "p95_ms", summary.P95Milliseconds);
        WriteFigure(json, "p99_ms", summary.P99Milliseconds);
        WriteFigure(json, "min_ms", summary.MinMilliseconds);
        WriteFigure(json, "max_ms", summary.MaxMilliseconds);
        WriteFigure(json, "mean_ms", summary.MeanMilliseconds);
        WriteFigure(json, "uncertainty_ms", summary.UncertaintyMilliseconds);
    }

    /// <summary>Writes a number rounded to 0.1 µs, or <c>null</c> when it is NaN or infinite.</summary>
    public static void WriteFigure(Utf8JsonWriter json, string name, double value)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (double.IsFinite(value)) json.WriteNumber(name, Math.Round(value, 4));
        else json.WriteNull(name);
    }

    /// <summary>Writes one CSV row per sample: <c>utc,unix_us,latency_ms,uncertainty_ms</c>, with a header row.</summary>
    public static void WriteCsv(LatencyReport report, TextWriter destination)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write("utc,unix_us,latency_ms,uncertainty_ms\n");
        var line = new StringBuilder();
        foreach (var s in report.Samples)
        {
            line.Clear();
            line.Append(Iso(s.Timestamp)).Append(',')
                .Append(s.TimestampUnixMicroseconds.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(s.LatencyMilliseconds.ToString("0.####", CultureInfo.InvariantCulture)).Append(',')
                .Append(s.UncertaintyMilliseconds.ToString("0.####", CultureInfo.InvariantCulture)).Append('\n');
            destination.Write(line);
        }
    }

    /// <summary>Writes the JSON report to a file, or to standard output when <paramref name="path"/> is <c>-</c>.</summary>
    public static void WriteJson(LatencyReport report, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path == "-")
        {
            using var stdout = Console.OpenStandardOutput();
            WriteJson(report, stdout);
            return;
        }
        using var file = File.Create(path);
        WriteJson(report, file);
    }

    /// <summary>Writes the CSV rows to a file.</summary>
    public static void WriteCsv(LatencyReport report, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        WriteCsv(report, writer);
    }

    /// <summary>ISO 8601 UTC with millisecond precision, the form DASH UTCTiming and most tools accept.</summary>
    public static string Iso(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
