using System.CommandLine;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("latency-probe: clock sync and studio-to-screen latency instruments for CatEvening shows.")
        {
            DeviceCommand.Create(),
            TimecodeCommand.Create(),
            ClockCommand.Create(),
            SeiCommand.Create(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine(error.Message);
            Console.Error.WriteLine("Run with --help for the usage.");
            return 2;
        }
        return parsed.Invoke();
    }

    /// <summary>Prints the final one-line summary on standard error; exit code 0 with samples, 1 without.</summary>
    public static int Finish(LatencyReport report)
    {
        Console.Error.WriteLine(LiveConsoleView.FormatLine(report.Instrument, report.Summary, report.Counters));
        return report.Samples.Count > 0 ? 0 : 1;
    }
}
