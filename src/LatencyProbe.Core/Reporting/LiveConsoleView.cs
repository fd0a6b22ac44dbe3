using System.Globalization;
using Spectre.Console;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Shows a recorder's figures while an instrument runs: current, p50/p95/p99, min/max, uncertainty and the
/// sample count, refreshed in place on a terminal, or as one plain line every few seconds when the output is
/// redirected (logs, CI). Writes to standard error so that <c>--json -</c> keeps standard output clean.
/// </summary>
public sealed class LiveConsoleView : IDisposable
{
    private readonly LatencyRecorder _recorder;
    private readonly IAnsiConsole _console;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly TimeSpan _plainInterval;

    /// <summary>Starts the view; it runs until disposed.</summary>
    /// <param name="recorder">Where the figures come from.</param>
    /// <param name="console">Console to draw on; <c>null</c> for standard error.</param>
    /// <param name="plainInterval">Interval of the plain status lines when the console is not interactive.</param>
    public LiveConsoleView(LatencyRecorder recorder, IAnsiConsole? console = null, TimeSpan? plainInterval = null)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        _recorder = recorder;
        _console = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        _plainInterval = plainInterval ?? TimeSpan.FromSeconds(5);
        _loop = _console.Profile.Capabilities.Interactive && _console.Profile.Capabilities.Ansi
            ? Task.Run(RunLiveAsync)
            : Task.Run(RunPlainAsync);
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
            var report = _recorder.ToReport(DateTimeOffset.UtcNow);
            _console.WriteLine(FormatLine(report.Instrument, report.Summary, report.Counters), Style.Plain);
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
