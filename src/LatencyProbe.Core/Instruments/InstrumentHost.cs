using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Instruments;

/// <summary>When an instrument run ends: after a duration, after a number of samples, or when cancelled (Ctrl+C).</summary>
/// <param name="Duration">Stop after this long; null for no limit.</param>
/// <param name="Count">Stop after this many samples; null for no limit.</param>
public sealed record RunLimits(TimeSpan? Duration, int? Count)
{
    /// <summary>
    /// Parses a duration: a number with an optional unit <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (seconds when
    /// none), or a .NET <c>hh:mm:ss</c> time span.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || !double.IsFinite(value))
            return false;
        duration = TimeSpan.FromSeconds(value * scale);
        return true;
    }
}

/// <summary>Where a run's report goes.</summary>
/// <param name="JsonPath">JSON report file, <c>-</c> for standard output, or null.</param>
/// <param name="CsvPath">CSV of the raw samples, or null.</param>
/// <param name="PngPath">Timeline and histogram plot, or null.</param>
/// <param name="MetricsEndpoint"><c>HOST:PORT</c> to serve Prometheus metrics on while running, or null.</param>
/// <param name="LiveView">Whether to show the live console view on standard error.</param>
public sealed record ReportOutputs(string? JsonPath, string? CsvPath, string? PngPath, string? MetricsEndpoint, bool LiveView)
{
    /// <summary>How the live view writes its status lines (text, or JSON lines).</summary>
    public LogFormat LogFormat { get; init; } = LogFormat.Text;
}

/// <summary>
/// Runs an instrument with the parts every instrument shares: limits, live view, Prometheus metrics, and the
/// JSON/CSV/PNG report at the end.
/// </summary>
public static class InstrumentHost
{
    /// <summary>
    /// Runs <paramref name="instrument"/> until the limits are reached, <paramref name="cancellationToken"/> fires or
    /// the instrument returns by itself (end of input), then writes the outputs and returns the report.
    /// </summary>
    /// <exception cref="AddressException">The metrics address is malformed or cannot be served on.</exception>
    public static async Task<LatencyReport> RunAsync(
        LatencyRecorder recorder, RunLimits limits, ReportOutputs outputs,
        Func<CancellationToken, Task> instrument, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(instrument);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (limits.Duration is { } duration) stop.CancelAfter(duration);
        void OnSample(LatencySample _)
        {
            if (limits.Count is { } count && recorder.Count >= count) stop.Cancel();
        }
        recorder.SampleRecorded += OnSample;
        PrometheusExporter? exporter = null;
        LiveConsoleView? view = null;
        try
        {
            if (outputs.MetricsEndpoint is { } endpoint)
            {
                if (!HostPort.TryParse(endpoint, out var address, out var error)) throw new AddressException($"--metrics {error}", malformed: true);
                try
                {
                    exporter = new PrometheusExporter(recorder, address.Host, address.Port);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    throw new AddressException($"--metrics {endpoint}: cannot serve metrics there: {e.Message}", malformed: false, e);
                }
            }
            if (outputs.LiveView) view = new LiveConsoleView(recorder, format: outputs.LogFormat);
            try
            {
                await instrument(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The limits or the user ended the run; the report is written below.
            }
        }
        finally
        {
            recorder.SampleRecorded -= OnSample;
            view?.Dispose();
            exporter?.Dispose();
        }
        var report = recorder.ToReport(DateTimeOffset.UtcNow);
        if (limits.Count is { } max && report.Samples.Count > max)
        {
            // Samples that raced in after the limit was reached are not part of the run asked for.
            var kept = report.Samples.Take(max).ToArray();
            report = report with { Samples = kept, Summary = LatencySummary.Of(kept) };
        }
        if (outputs.JsonPath is { } json) ReportWriter.WriteJson(report, json);
        if (outputs.CsvPath is { } csv) ReportWriter.WriteCsv(report, csv);
        if (outputs.PngPath is { } png) ReportPlot.SavePng(report, png);
        return report;
    }
}
