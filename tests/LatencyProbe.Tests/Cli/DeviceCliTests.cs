using System.Diagnostics;
using System.Text.Json;
using CatEvening.LatencyProbe.Tests.Device;

namespace CatEvening.LatencyProbe.Tests.Cli;

/// <summary><c>latency-probe device</c> as a program, reading a pseudo-terminal that stands in for the probe.</summary>
[TestFixture]
[Platform(Include = "Linux", Reason = "the pseudo-terminal comes from glibc's openpty")]
public sealed class DeviceCliTests
{
    [Test]
    public async Task Device_WithCount_WritesTheJsonReportOfThatManyDelays()
    {
        using var pty = new PseudoTerminal();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), "device", pty.SlavePath, "--count", "5", "--max-delay", "400", "--json", "-", "--quiet" })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // The program opens the port after it starts; lines sent before that would be lost, as with a real board.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            long t = 1_000_000;
            while (!process.HasExited && DateTime.UtcNow < deadline)
            {
                pty.WriteLine($"E 0 {t}");
                pty.WriteLine($"E 1 {t + 41_500}");
                t += 500_000;
                await Task.Delay(100);
            }
            Assert.That(process.HasExited, Is.True, "the program stops after --count delays");
            using var doc = JsonDocument.Parse(await stdout);
            Assert.Multiple(() =>
            {
                Assert.That(process.ExitCode, Is.Zero, stderr.Result);
                Assert.That(doc.RootElement.GetProperty("instrument").GetString(), Is.EqualTo("device"));
                Assert.That(doc.RootElement.GetProperty("samples").GetInt32(), Is.EqualTo(5));
                Assert.That(doc.RootElement.GetProperty("p50_ms").GetDouble(), Is.EqualTo(41.5));
                Assert.That(doc.RootElement.GetProperty("uncertainty_ms").GetDouble(), Is.EqualTo(0.0122).Within(1e-9), "2 × 4 µs + 100 ppm of 41.5 ms");
            });
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
