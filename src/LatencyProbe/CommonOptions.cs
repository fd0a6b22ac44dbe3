using System.CommandLine;
using CatEvening.LatencyProbe.Instruments;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

/// <summary>The options every instrument takes: limits and report outputs.</summary>
internal sealed class CommonOptions
{
    private readonly Option<string?> _duration = new("--duration", "-d")
    {
        Description = "Stop after this long: 90s, 5m, 1h, 500ms, or hh:mm:ss.",
        Validators =
        {
            r =>
            {
                var text = r.GetValueOrDefault<string?>();
                if (text != null && !RunLimits.TryParseDuration(text, out _)) r.AddError($"--duration '{text}' is not a duration such as 90s, 5m or 00:05:00");
            },
        },
    };

    private readonly Option<int?> _count = new("--count", "-n")
    {
        Description = "Stop after this many samples.",
        // Parsed and checked in one step: a validator reading the value threw for 'abc' or 99999999999 (exit 134).
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1) return n;
            r.AddError($"--count '{text}' is not a whole number from 1 to {int.MaxValue}");
            return null;
        },
    };

    private readonly Option<string?> _json = new("--json") { Description = "Write the JSON report to FILE, or to standard output with -." };
    private readonly Option<string?> _csv = new("--csv") { Description = "Write the raw samples as CSV to FILE." };
    private readonly Option<string?> _png = new("--png") { Description = "Write a PNG plot (timeline and histogram) to FILE." };
    private readonly Option<string?> _metrics = new("--metrics")
    {
        Description = "Serve Prometheus metrics at http://HOST:PORT/metrics while running.",
        Validators = { Addresses.Validator("--metrics") },
    };
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "No live console view." };

    private readonly Option<LogFormat> _logFormat = new("--log-format")
    {
        Description = "Status and log lines on standard error: text (one unbroken line each) or json (one JSON object per line).",
        DefaultValueFactory = _ => LogFormat.Text,
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _duration, _count, _json, _csv, _png, _metrics, _quiet, _logFormat }) command.Options.Add(option);
    }

    public RunLimits Limits(ParseResult result)
    {
        TimeSpan? duration = null;
        if (result.GetValue(_duration) is { } text && RunLimits.TryParseDuration(text, out var d)) duration = d;
        return new RunLimits(duration, result.GetValue(_count));
    }

    public ReportOutputs Outputs(ParseResult result) => new(
        result.GetValue(_json), result.GetValue(_csv), result.GetValue(_png), result.GetValue(_metrics), !result.GetValue(_quiet))
    {
        LogFormat = result.GetValue(_logFormat),
    };

    /// <summary>Sets the program's log format from <c>--log-format</c>; call first in the command's action.</summary>
    public void UseLogFormat(ParseResult result) => ProbeLog.Use(result.GetValue(_logFormat));
}
