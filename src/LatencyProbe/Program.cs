using System.CommandLine;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("latency-probe: clock sync and studio-to-screen latency instruments for CatEvening shows.\n" +
            "Exit codes: 0 samples measured, 1 none, 2 bad command line, 3 a file, input or address named on the command line cannot be used.")
        {
            DeviceCommand.Create(),
            TimecodeCommand.Create(),
            ClockCommand.Create(),
            SeiCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            var names = new List<string>();
            for (var c = parsed.CommandResult; c.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent) names.Insert(0, c.Command.Name);
            var verb = string.Join(' ', names);
            foreach (var error in parsed.Errors)
                Console.Error.WriteLine(OneLine($"latency-probe: {error.Message} (latency-probe {(verb.Length > 0 ? verb + " " : "")}--help)"));
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (AddressException e)
        {
            return Fail(e.Malformed ? ExitCodes.Usage : ExitCodes.Unreadable, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never a stack trace for a technician: the one line says what failed; a bug report quotes it.
            return Fail(ExitCodes.NoSamples, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Prints the final one-line summary on standard error; exit code 0 with samples, 1 without.</summary>
    /// <param name="report">The run's report.</param>
    /// <param name="diagnosis">Why there is no sample, in words (printed only when there is none).</param>
    public static int Finish(LatencyReport report, string? diagnosis = null)
    {
        Console.Error.WriteLine(ProbeLog.Format == LogFormat.Json
            ? LiveConsoleView.FormatJsonLine(report.Instrument, report.Summary, report.Counters, DateTimeOffset.UtcNow)
            : LiveConsoleView.FormatLine(report.Instrument, report.Summary, report.Counters));
        if (report.Samples.Count > 0) return ExitCodes.Ok;
        if (diagnosis != null) ProbeLog.Write("warning", $"{report.Instrument}: {diagnosis}");
        return ExitCodes.NoSamples;
    }

    /// <summary>Writes <paramref name="message"/> as one line on standard error (FFmpeg's several lines joined) and returns <paramref name="exitCode"/>.</summary>
    public static int Fail(int exitCode, string message)
    {
        ProbeLog.Write("error", OneLine(message.StartsWith("latency-probe: ", StringComparison.Ordinal) ? message : "latency-probe: " + message));
        return exitCode;
    }

    /// <summary>Joins the lines of <paramref name="text"/> with " | ", so that one failure is one line in a log.</summary>
    public static string OneLine(string text) =>
        string.Join(" | ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
