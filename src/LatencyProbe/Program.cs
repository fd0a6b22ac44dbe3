using System.CommandLine;

namespace CatEvening.LatencyProbe.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("latency-probe: clock sync and studio-to-screen latency instruments for CatEvening shows.");
        return root.Parse(args).Invoke();
    }
}
