using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Tests.Clock;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using Spectre.Console;

namespace CatEvening.LatencyProbe.Tests.Cli;

/// <summary>
/// What a technician meets first (issue 15): a sentence instead of bare counters when the key is wrong, when the input
/// never appears and when a file is measured; status lines that stay whole off a terminal, or JSON lines; progress
/// while rendering.
/// </summary>
[TestFixture]
public sealed class FirstHourCliTests
{
    private DirectoryInfo _dir = null!;

    [OneTimeSetUp]
    public void MakeDir() => _dir = Directory.CreateTempSubdirectory("probe-first-hour-");

    [OneTimeTearDown]
    public void RemoveDir() => _dir.Delete(recursive: true);

    private static FFmpegCli.Result Probe(params string[] args) =>
        FFmpegCli.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), .. args], TimeSpan.FromSeconds(120));

    /// <summary>A 2 s clip with a heartbeat on every frame, signed by a key with id <paramref name="keyId"/>.</summary>
    private string InjectedClip(ushort keyId)
    {
        using var key = SigningKey.Generate(keyId);
        var keyPath = Path.Combine(_dir.FullName, $"injector-{Guid.NewGuid():N}.key");
        File.WriteAllText(keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var output = Path.Combine(_dir.FullName, $"show-{Guid.NewGuid():N}.flv");
        FFmpegCli.Run("dotnet", [SeiInjectorProgram.Path, "run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", output,
            "--key", keyPath, "--heartbeat", "frame"], TimeSpan.FromSeconds(120)).EnsureSuccess("sei-inject run");
        return output;
    }

    private string PublicKey(ushort keyId)
    {
        using var key = SigningKey.Generate(keyId);
        var path = Path.Combine(_dir.FullName, $"other-{Guid.NewGuid():N}.pub");
        File.WriteAllText(path, key.PublicKey.ExportPem());
        return path;
    }

    [TestCase((ushort)1, (ushort)1, "failed signature verification", TestName = "Sei_WrongKeyWithTheSameKeyId_SaysIsPublicKeyTheInjectorsKey")]
    [TestCase((ushort)1, (ushort)7, "does not hold", TestName = "Sei_WrongKeyWithAnotherKeyId_SaysIsPublicKeyTheInjectorsKey")]
    public void Sei_WithAPublicKeyThatIsNotTheInjectors_SaysSoInASentence(ushort injectorKeyId, ushort givenKeyId, string how)
    {
        var run = Probe("sei", InjectedClip(injectorKeyId), "--public-key", PublicKey(givenKeyId), "--quiet");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"is --public-key the injector's key? key id {injectorKeyId}"), run.StdErr);
            Assert.That(run.StdErr, Does.Contain(how), run.StdErr);
        });
    }

    [Test]
    public void TimecodeRead_OfAnInputThatNeverAppears_SaysNoFrameArrived()
    {
        // Nobody sends to this UDP port: ffmpeg waits for a stream that never comes, until --duration ends the run.
        using var nobody = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var url = $"udp://127.0.0.1:{((IPEndPoint)nobody.Client.LocalEndPoint!).Port}";
        nobody.Dispose();
        var run = Probe("timecode", "read", url, "--duration", "3s", "--quiet");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"no frame arrived from {url}"), run.StdErr);
            Assert.That(run.StdErr, Does.Contain("is the stream published there"), run.StdErr);
        });
    }

    [Test]
    public void TimecodeRead_OfAFile_WarnsThatItMeasuresTheFilesAge_UnlessRealtime()
    {
        var video = Path.Combine(_dir.FullName, "tc.mkv");
        Probe("timecode", "render", "-o", video, "--size", "320x180", "--count", "10").EnsureSuccess("timecode render");
        var fast = Probe("timecode", "read", video, "--quiet");
        var paced = Probe("timecode", "read", video, "--realtime", "--quiet");
        const string Warning = "is a file read as fast as it decodes (no --realtime): each latency is the age of its frame";
        Assert.Multiple(() =>
        {
            Assert.That(fast.ExitCode, Is.Zero, fast.StdErr);
            Assert.That(fast.StdErr, Does.Contain(Warning));
            Assert.That(paced.ExitCode, Is.Zero, paced.StdErr);
            Assert.That(paced.StdErr, Does.Not.Contain(Warning));
        });
    }

    [Test]
    public void LogFormatJson_EveryLineOnStandardErrorIsAJsonObject()
    {
        var video = Path.Combine(_dir.FullName, "tc-json.mkv");
        Probe("timecode", "render", "-o", video, "--size", "320x180", "--count", "10").EnsureSuccess("timecode render");
        var run = Probe("timecode", "read", video, "--log-format", "json");
        var lines = run.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.That(run.ExitCode, Is.Zero, run.StdErr);
        Assert.That(lines, Is.Not.Empty);
        var parsed = lines.Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.Clone();
        }).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(parsed.Any(p => p.TryGetProperty("level", out var level) && level.GetString() == "warning"), Is.True, "the file warning");
            var summary = parsed.Single(p => p.TryGetProperty("instrument", out _));
            Assert.That(summary.GetProperty("instrument").GetString(), Is.EqualTo("timecode"));
            Assert.That(summary.GetProperty("n").GetInt32(), Is.EqualTo(10));
            Assert.That(summary.GetProperty("p50_ms").ValueKind, Is.EqualTo(JsonValueKind.Number));
        });
    }

    [Test]
    public async Task StatusLinesOffATerminal_AreNeverWrapped_HoweverLong()
    {
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), 640.5, 50.2));
        foreach (var counter in new[] { "heartbeats", "backlog_heartbeats", "rejected_bad_signature", "rejected_issued_too_long_ago", "reconnects", "malformed_sei" })
            recorder.Increment(counter, 11);
        var output = new StringWriter();
        // Off a terminal Spectre.Console takes 80 columns, and used to wrap the status in the middle of a field there.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        using (new LiveConsoleView(recorder, console, TimeSpan.FromMilliseconds(50)))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!output.ToString().Contains('\n', StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(lines, Is.Not.Empty);
            Assert.That(lines[0].Length, Is.GreaterThan(200), "longer than any console width");
            Assert.That(lines, Is.All.StartsWith("sei: current 640.5 ms | p50").And.EndsWith("rejected_issued_too_long_ago=11"), "each status is one whole line");
        });
    }

    [Test]
    public async Task StatusLines_WithJsonFormat_AreJsonObjects()
    {
        var recorder = new LatencyRecorder("device", DateTimeOffset.UtcNow);
        recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), 83.25, 0.02));
        recorder.Increment("outliers", 2);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        using (new LiveConsoleView(recorder, console, TimeSpan.FromMilliseconds(50), LogFormat.Json))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!output.ToString().Contains('\n', StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20);
        }
        using var doc = JsonDocument.Parse(output.ToString().Split('\n')[0]);
        var root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("instrument").GetString(), Is.EqualTo("device"));
            Assert.That(root.GetProperty("current_ms").GetDouble(), Is.EqualTo(83.25));
            Assert.That(root.GetProperty("n").GetInt32(), Is.EqualTo(1));
            Assert.That(root.GetProperty("counters").GetProperty("outliers").GetInt64(), Is.EqualTo(2));
            Assert.That(DateTimeOffset.Parse(root.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture), Is.Not.EqualTo(default(DateTimeOffset)));
        });
    }

    [Test]
    public void TimecodeRender_ShowsProgressWhileItRuns()
    {
        var video = Path.Combine(_dir.FullName, "progress.mkv");
        // 150 frames at 25 fps: 6 s in real time, so at least one 5-second progress line comes before the end.
        var run = Probe("timecode", "render", "-o", video, "--size", "320x180", "--count", "150");
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"timecode: rendering 320x180 at 25 fps to {video}"));
            Assert.That(run.StdErr, Does.Match(@"timecode: \d+ frames to .* in \d+\.\d s \(\d+\.\d fps\)"));
            Assert.That(run.StdErr, Does.Contain($"timecode: 150 frames to {video}"));
        });
    }
}
