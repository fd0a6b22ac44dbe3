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
        var whileRunning = System.Diagnostics.Stopwatch.StartNew();
        var run = Probe("clock", "query", $"127.0.0.1:{server.LocalEndPoint.Port}", "--samples", "8", "--json", "-");
        // 50 ppm of the time the exchanges can have taken (at most the whole run), in ms, + 3 µs of rounding.
        var driftAllowance = (50 * whileRunning.Elapsed.TotalSeconds / 1000) + 0.003;
        Assert.That(run.ExitCode, Is.Zero, run.StdErr);
        using var doc = JsonDocument.Parse(run.StdOut);
        var root = doc.RootElement;
        var offset = root.GetProperty("offset_ms").GetDouble();
        var rtt = root.GetProperty("rtt_ms").GetDouble();
        var uncertainty = root.GetProperty("uncertainty_ms").GetDouble();
        Assert.Multiple(() =>
        {
            // Same host, same clock: the true offset is 0, so it lies inside the reported interval. How narrow the
            // interval is on loopback is up to the scheduler (benchmarks/clock-sync.sh measures it).
            Assert.That(Math.Abs(offset), Is.LessThanOrEqualTo(uncertainty + 0.002), "same host, same clock: 0 lies within offset ± uncertainty");
            Assert.That(rtt, Is.GreaterThan(0).And.LessThan(2000), "an answer later than the 1 s exchange timeout is discarded");
            Assert.That(uncertainty, Is.GreaterThan(0).And.LessThanOrEqualTo((rtt / 2) + driftAllowance), "no wider than half the fastest round trip (+ drift allowance)");
            Assert.That(root.GetProperty("samples").GetInt32(), Is.EqualTo(8));
            Assert.That(root.GetProperty("single_exchange").GetProperty("rtt_ms").GetDouble(), Is.GreaterThanOrEqualTo(rtt), "the fastest round trip is at most the first one");
        });
    }

    // A fresh tester: --count abc or 99999999999 crashed (exit 134, an exception from the validator reading the value).
    [TestCase("abc")]
    [TestCase("99999999999")]
    [TestCase("0")]
    public void Count_NotAWholeNumberInRange_IsAnOptionError(string count)
    {
        var run = Probe("sei", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "--public-key", "none.pem", "--count", count, "--quiet");
        Assert.That(run.ExitCode, Is.EqualTo(2), run.StdErr);
        Assert.That(run.StdErr, Does.Contain($"--count '{count}' is not a whole number from 1 to 2147483647").And.Not.Contain("Unhandled"));
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
    [Platform(Include = "Linux", Reason = "sends SIGINT with kill; GNU env restores its default disposition")]
    public async Task CtrlC_EndsTheRun_AndTheReportIsStillWritten()
    {
        var json = Path.Combine(Path.GetTempPath(), $"interrupted-{Guid.NewGuid():N}.json");
        // `env --default-signal=INT`: a suite started in the background by a non-interactive shell (nohup, `cmd &`)
        // inherits SIGINT ignored, the runtime then leaves it ignored, and the Ctrl+C below would never arrive.
        var info = new System.Diagnostics.ProcessStartInfo("env") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), "device", "/dev/no-such-probe", "--json", json, "--quiet" })
            info.ArgumentList.Add(a);
        var stderr = new System.Text.StringBuilder();
        var retrying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new System.Diagnostics.Process { StartInfo = info };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data.Contains("cannot open", StringComparison.Ordinal)) retrying.TrySetResult();
        };
        process.Start();
        process.BeginErrorReadLine();
        try
        {
            // The instrument says it cannot open the port once it runs, and the SIGINT handler is in place before it
            // starts: where a technician's Ctrl+C would find it.
            await retrying.Task.WaitAsync(TimeSpan.FromSeconds(60));
            FFmpegCli.Run("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]).EnsureSuccess("kill -INT");
            Assert.That(process.WaitForExit(60_000), Is.True, "SIGINT ends the run");
            process.WaitForExit();
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Multiple(() =>
            {
                Assert.That(process.ExitCode, Is.EqualTo(1), "no samples");
                Assert.That(doc.RootElement.GetProperty("samples").GetInt32(), Is.Zero);
                lock (stderr) Assert.That(stderr.ToString(), Does.Contain("cannot open /dev/no-such-probe"));
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
