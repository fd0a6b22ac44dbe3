using System.Net;
using System.Text.Json;
using CatEvening.ClockSync;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Cli;

/// <summary>The latency-probe program itself: commands, exit codes and the JSON contract.</summary>
[TestFixture]
public sealed class CliTests
{
    private static FFmpegCli.Result Probe(params string[] args) =>
        FFmpegCli.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), .. args]);

    [Test]
    public void ClockQuery_Json_HasTheContractFields()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), HostClock.Instance, http: false);
        var run = Probe("clock", "query", $"127.0.0.1:{server.LocalEndPoint.Port}", "--samples", "8", "--json", "-");
        Assert.That(run.ExitCode, Is.Zero, run.StdErr);
        using var doc = JsonDocument.Parse(run.StdOut);
        var root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(Math.Abs(root.GetProperty("offset_ms").GetDouble()), Is.LessThan(1), "same host, same clock");
            Assert.That(root.GetProperty("rtt_ms").GetDouble(), Is.GreaterThan(0).And.LessThan(50));
            Assert.That(root.GetProperty("uncertainty_ms").GetDouble(), Is.GreaterThanOrEqualTo(0).And.LessThan(25));
            Assert.That(root.GetProperty("samples").GetInt32(), Is.EqualTo(8));
            Assert.That(root.GetProperty("single_exchange").GetProperty("rtt_ms").GetDouble(), Is.GreaterThan(0));
        });
    }

    [Test]
    public void TimecodeRead_OfATimecodeVideo_WritesTheSharedReport()
    {
        var dir = Directory.CreateTempSubdirectory("probe-cli-");
        try
        {
            var video = Path.Combine(dir.FullName, "tc.mkv");
            var render = Probe("timecode", "render", "-o", video, "--size", "640x360", "--count", "25");
            Assert.That(render.ExitCode, Is.Zero, render.StdErr);
            var json = Path.Combine(dir.FullName, "report.json");
            var csv = Path.Combine(dir.FullName, "report.csv");
            var png = Path.Combine(dir.FullName, "report.png");
            var read = Probe("timecode", "read", video, "--json", json, "--csv", csv, "--png", png, "--quiet");
            Assert.That(read.ExitCode, Is.Zero, read.StdErr);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            Assert.Multiple(() =>
            {
                Assert.That(root.GetProperty("instrument").GetString(), Is.EqualTo("timecode"));
                Assert.That(root.GetProperty("samples").GetInt32(), Is.EqualTo(25));
                foreach (var field in new[] { "p50_ms", "p95_ms", "p99_ms", "min_ms", "max_ms", "mean_ms", "uncertainty_ms" })
                    Assert.That(root.GetProperty(field).ValueKind, Is.EqualTo(JsonValueKind.Number), field);
                Assert.That(root.GetProperty("raw_samples").GetArrayLength(), Is.EqualTo(25));
                Assert.That(File.ReadAllLines(csv), Has.Length.EqualTo(26));
                Assert.That(new FileInfo(png).Length, Is.GreaterThan(10_000));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void TimecodeRead_OfAMissingFile_FailsWithFFmpegsWords()
    {
        var read = Probe("timecode", "read", "/nonexistent/clip.mp4", "--quiet");
        Assert.Multiple(() =>
        {
            Assert.That(read.ExitCode, Is.EqualTo(3));
            Assert.That(read.StdErr, Does.Contain("No such file or directory"));
        });
    }

    [Test]
    [Platform(Exclude = "Win", Reason = "sends SIGINT with kill")]
    public async Task CtrlC_EndsTheRun_AndTheReportIsStillWritten()
    {
        var json = Path.Combine(Path.GetTempPath(), $"interrupted-{Guid.NewGuid():N}.json");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), "device", "/dev/no-such-probe", "--json", json, "--quiet" })
            info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // Long enough for the program to be running its instrument, as a technician's Ctrl+C would find it.
            await Task.Delay(1500);
            FFmpegCli.Run("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).EnsureSuccess("kill -INT");
            Assert.That(process.WaitForExit(10_000), Is.True, "SIGINT ends the run");
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Multiple(() =>
            {
                Assert.That(process.ExitCode, Is.EqualTo(1), "no samples");
                Assert.That(doc.RootElement.GetProperty("samples").GetInt32(), Is.Zero);
                Assert.That(stderr.Result, Does.Contain("cannot open /dev/no-such-probe"));
            });
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            File.Delete(json);
        }
    }

    private static IEnumerable<BrokenKey> BrokenPublicKeys() => BrokenKeys.Representative(privateKey: false);

    [TestCaseSource(nameof(BrokenPublicKeys))]
    public void Sei_MalformedOrUnsupportedPublicKey_ExitsWith3_WithOneLineNamingTheFile(BrokenKey broken)
    {
        var path = Path.Combine(Path.GetTempPath(), "probe-broken-" + Guid.NewGuid().ToString("N") + ".pub");
        File.WriteAllText(path, broken.Pem);
        try
        {
            var run = Probe("sei", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "--public-key", path, "--count", "1", "--quiet");
            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(3), run.StdErr);
                Assert.That(run.StdErr.Trim().Split('\n'), Has.Length.EqualTo(1), run.StdErr);
                Assert.That(run.StdErr, Does.Contain("--public-key " + path).And.Contain(broken.Error));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void UnknownDuration_IsAUsageError()
    {
        var run = Probe("device", "/dev/null", "--duration", "soon");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(2));
            Assert.That(run.StdErr, Does.Contain("--duration 'soon'"));
        });
    }
}
