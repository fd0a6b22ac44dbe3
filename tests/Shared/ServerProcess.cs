using System.Diagnostics;

namespace CatEvening.Tests.Shared;

/// <summary>What the test servers (nginx-rtmp, redis-server) share about the process they run.</summary>
public static class ServerProcess
{
    /// <summary>
    /// Kills <paramref name="process"/> and every child (SIGKILL: a server that dies, not one that drains politely), waits
    /// for it to exit, disposes it, then waits until <paramref name="stillServing"/> says its port is closed (60 s at most:
    /// a bound for a hang, not a timing assertion).
    /// </summary>
    public static void Kill(Process process, Func<bool> stillServing)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(stillServing);
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        finally
        {
            process.Dispose();
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (stillServing() && DateTime.UtcNow < deadline) Thread.Sleep(20);
    }
}
