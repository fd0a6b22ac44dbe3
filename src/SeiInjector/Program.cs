using System.CommandLine;

namespace CatEvening.SeiInjector.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("sei-inject: splices signed CatEvening SEI messages (cues and heartbeats) into a live H.264/H.265 stream without re-encoding.");
        return root.Parse(args).Invoke();
    }
}
