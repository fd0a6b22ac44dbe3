using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>How status and log lines are written when standard error is not a terminal.</summary>
public enum LogFormat
{
    /// <summary>One plain text line per status (<c>sei: current 12.0 ms | p50 ... | n=40</c>), never wrapped.</summary>
    Text,

    /// <summary>One JSON object per line (<c>{"time":"...","instrument":"sei","current_ms":12.0,...}</c>), also on a terminal.</summary>
    Json,
}

/// <summary>
/// Shows a recorder's figures while an instrument runs: current, p50/p95/p99, min/max, uncertainty and the
/// sample count, refreshed in place on a terminal, or as one line every few seconds when the output is
/// redirected (logs, CI) or JSON lines are asked for. Writes to standard error so that <c>--json -</c> keeps standard
/// output clean. Lines go straight to the output's writer, never through the console's word wrapping: a status is one
/// line however long, so that grep and log collectors see it whole.
/// </summary>
public sealed class LiveConsoleView : IDisposable
{
    private readonly LatencyRecorder _recorder;
    private readonly IAnsiConsole _console;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeSpan _plainInterval;
    private readonly LogFormat _format;

    /// <summary>Starts the view; it runs until disposed.</summary>
    /// <param name="recorder">Where the figures come from.</param>
    /// <param name="console">Console to draw on; <c>null</c> for standard error.</param>
    /// <param name="plainInterval">Interval of the plain status lines when the console is not interactive.</param>
    /// <param name="format">Text, or JSON lines (which are written on a terminal too, instead of the table).</param>
    public LiveConsoleView(LatencyRecorder recorder, IAnsiConsole? console = null, TimeSpan? plainInterval = null, LogFormat format = LogFormat.Text)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _recorder = recorder;
        _console = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        _plainInterval = plainInterval ?? TimeSpan.FromSeconds(5);
        _format = format;
        _loop = format == LogFormat.Text && _console.Profile.Capabilities.Interactive && _console.Profile.Capabilities.Ansi
            ? Task.Run(RunLiveAsync)
            : Task.Run(RunPlainAsync);
    }

    /// <summary>
    /// One status as a JSON object on one line: <c>time</c> (UTC), <c>instrument</c>, <c>current_ms</c>, <c>p50_ms</c>,
    /// <c>p95_ms</c>, <c>p99_ms</c>, <c>min_ms</c>, <c>max_ms</c>, <c>uncertainty_ms</c> (null before the first sample),
    /// <c>n</c>, and <c>counters</c>.
    /// </summary>
    public static string FormatJsonLine(string instrument, LatencySummary summary, IEnumerable<KeyValuePair<string, long>> counters, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(counters);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteString("instrument", instrument);
            Figure(json, "current_ms", summary.CurrentMilliseconds);
            Figure(json, "p50_ms", summary.P50Milliseconds);
            Figure(json, "p95_ms", summary.P95Milliseconds);
            Figure(json, "p99_ms", summary.P99Milliseconds);
            Figure(json, "min_ms", summary.MinMilliseconds);
            Figure(json, "max_ms", summary.MaxMilliseconds);
            Figure(json, "uncertainty_ms", summary.UncertaintyMilliseconds);
            json.WriteNumber("n", summary.Count);
            json.WriteStartObject("counters");
            foreach (var (name, value) in counters) json.WriteNumber(name, value);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A message as a JSON line: <c>{"time": "...", "level": "info", "message": "..."}</c>.</summary>
    public static string FormatJsonMessage(string level, string message, DateTimeOffset time)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            json.WriteString("level", level);
            json.WriteString("message", message);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Figure(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, Math.Round(value, 3));
        else json.WriteNull(name);
    }

    /// <summary>One status line: <c>device: current 83.1 ms | p50 ... | n=12</c>.</summary>
    public static string FormatLine(string instrument, LatencySummary summary, IEnumerable<KeyValuePair<string, long>> counters)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(counters);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{instrument}: current {Ms(summary.CurrentMilliseconds)} | p50 {Ms(summary.P50Milliseconds)} | p95 {Ms(summary.P95Milliseconds)} | p99 {Ms(summary.P99Milliseconds)} | min {Ms(summary.MinMilliseconds)} | max {Ms(summary.MaxMilliseconds)} | ±{Ms(summary.UncertaintyMilliseconds)} | n={summary.Count}");
        foreach (var (name, value) in counters) line += string.Create(CultureInfo.InvariantCulture, $" | {name}={value}");
        return line;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            // Cancellation is how the loop ends.
        }
        _stop.Dispose();
    }

    private async Task RunPlainAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_plainInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var now = DateTimeOffset.UtcNow;
            var report = _recorder.ToReport(now);
            var line = _format == LogFormat.Json
                ? FormatJsonLine(report.Instrument, report.Summary, report.Counters, now)
                : FormatLine(report.Instrument, report.Summary, report.Counters);
            // Straight to the writer: the console would wrap the line at its width (80 columns off a terminal).
            var writer = _console.Profile.Out.Writer;
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private async Task RunLiveAsync()
    {
        var table = new Table().Border(TableBorder.Rounded).Title(_recorder.Instrument);
        foreach (var column in new[] { "current", "p50", "p95", "p99", "min", "max", "±", "count" })
            table.AddColumn(new TableColumn(column).RightAligned());
        table.AddRow(Enumerable.Repeat("–", 8).Select(x => new Markup(x)));
        await _console.Live(table).AutoClear(false).StartAsync(async context =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var s = _recorder.Summarize();
                string[] cells = [Ms(s.CurrentMilliseconds), Ms(s.P50Milliseconds), Ms(s.P95Milliseconds), Ms(s.P99Milliseconds),
                    Ms(s.MinMilliseconds), Ms(s.MaxMilliseconds), Ms(s.UncertaintyMilliseconds), s.Count.ToString(CultureInfo.InvariantCulture)];
                for (var i = 0; i < cells.Length; i++) table.UpdateCell(0, i, new Markup(Markup.Escape(cells[i])));
                context.Refresh();
                try
                {
                    await Task.Delay(250, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }).ConfigureAwait(false);
    }

    private static string Ms(double value) =>
        double.IsFinite(value) ? value.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "–";
}
