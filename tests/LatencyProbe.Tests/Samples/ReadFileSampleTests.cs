using System.Net;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Tests.Clock;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Samples;

/// <summary>
/// samples/ReadFile, the .NET app that gets packets and extradata through FFmpeg and feeds the package README's
/// ShowClient, run on clips injected by sei-inject: the cue fires on its frame; a recording made with a clock an hour
/// behind is refused live and read in replay mode (--recording).
/// </summary>
[TestFixture]
public sealed class ReadFileSampleTests
{
    private const string StreamId = "first-hour";
    private DirectoryInfo _dir = null!;
    private string _keyPath = "";
    private string _publicKeyPath = "";
    private string _schedule = "";

    private sealed class ShiftedClock(long shiftMicroseconds) : IClockSource
    {
        public ClockReading Now() => new(HostClock.Instance.Now().UnixMicroseconds + shiftMicroseconds, 0);
    }

    [OneTimeSetUp]
    public void MakeKeysAndSchedule()
    {
        _dir = Directory.CreateTempSubdirectory("readfile-sample-");
        using var key = SigningKey.Generate(5);
        _keyPath = Path.Combine(_dir.FullName, "show.key");
        File.WriteAllText(_keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _publicKeyPath = Path.Combine(_dir.FullName, "show.pub");
        File.WriteAllText(_publicKeyPath, key.PublicKey.ExportPem());
        _schedule = Path.Combine(_dir.FullName, "show.yaml");
        // The clips are 2 s at 25 fps: a banner at 0.4 s, a poll open from 1 s to 1.6 s.
        File.WriteAllText(_schedule, $"""
            stream: {StreamId}
            cues:
              - id: banner
                kind: custom
                at: 400ms
              - id: poll
                kind: interaction-start
                at: 1s
                duration: 600ms
            """);
    }

    [OneTimeTearDown]
    public void RemoveDir() => _dir.Delete(recursive: true);

    private string Inject(Container container, string extension, string? clock = null)
    {
        var output = Path.Combine(_dir.FullName, $"show-{Guid.NewGuid():N}.{extension}");
        string[] args = [SeiInjectorProgram.Path, "run", "-i", TestMedia.Get(VideoProfile.H264HighBPyramid, container), "-o", output,
            "--key", _keyPath, "--schedule", _schedule, .. (clock is null ? Array.Empty<string>() : ["--clock", clock])];
        FFmpegCli.Run("dotnet", args, TimeSpan.FromSeconds(120)).EnsureSuccess("sei-inject run");
        return output;
    }

    private static string ReadFilePath
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            return Path.Combine(TestMedia.RepositoryRoot, "samples", "ReadFile", "bin", configuration, "net10.0", "ReadFile.dll");
        }
    }

    private FFmpegCli.Result ReadFile(string input, params string[] extra) =>
        FFmpegCli.Run("dotnet", [ReadFilePath, input, "--public-key", _publicKeyPath, "--stream", StreamId, .. extra], TimeSpan.FromSeconds(120));

    [TestCase(Container.MpegTs, "ts", TestName = "ReadFile_OnAnInjectedMpegTs_AnnexB_FiresTheCuesOnTheirFrames")]
    [TestCase(Container.Mp4, "mp4", TestName = "ReadFile_OnAnInjectedMp4_LengthPrefixed_FiresTheCuesOnTheirFrames")]
    public void ReadFile_OnAnInjectedClip_FiresTheCuesOnTheirFrames(Container container, string extension)
    {
        var run = ReadFile(Inject(container, extension));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.StdErr + run.StdOut);
            Assert.That(run.StdOut, Does.Contain("custom: banner on the frame at 0.400 s"), run.StdOut);
            Assert.That(run.StdOut, Does.Contain("opened: poll (InteractionStart) on the frame at 1.000 s, target 1.000 s"), run.StdOut);
            Assert.That(run.StdOut, Does.Contain("closed: poll (WindowElapsed) at 1.600 s"), run.StdOut);
            Assert.That(run.StdOut, Does.Not.Contain("refused (").And.Not.Contain("check the set-up"), run.StdOut);
        });
    }

    [Test]
    public void ReadFile_RecordingMadeWithAClockAnHourBehind_IsRefusedLive_AndFiresInReplayMode()
    {
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(-3_600_000_000), http: false);
        var recording = Inject(Container.Mp4, "mp4", $"127.0.0.1:{server.LocalEndPoint.Port}");
        var live = ReadFile(recording);
        var replay = ReadFile(recording, "--recording");
        Assert.Multiple(() =>
        {
            Assert.That(live.ExitCode, Is.Zero, live.StdErr);
            Assert.That(live.StdOut, Does.Contain("refused (IssuedTooLongAgo)"), live.StdOut);
            Assert.That(live.StdOut, Does.Not.Contain("opened:"), live.StdOut);
            Assert.That(replay.ExitCode, Is.Zero, replay.StdErr);
            Assert.That(replay.StdOut, Does.Contain("opened: poll (InteractionStart) on the frame at 1.000 s"), replay.StdOut);
            Assert.That(replay.StdOut, Does.Not.Contain("refused ("), replay.StdOut);
        });
    }

    // A fresh tester's remark: a freshly made file with --heartbeat frame printed one "refused (VerificationBudgetExceeded)"
    // line per message past the live budget (67,266 of them for H7) and nothing said why. Now the first refusal, a count
    // and the hint; with --recording the cue after the burst opens. 9,000 messages: read in ~1 s here; a read slower than
    // 27 s (the budget's refill for what passes the 2,400 burst) would see no refusal.
    [Test]
    public void ReadFile_ManyMessagesAtFileSpeed_OneRefusalLineACountAndAHint_AndRecordingReadsThemAll()
    {
        var clip = Path.Combine(_dir.FullName, "frame-heartbeats-in.ts");
        FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=100:duration=90", "-c:v", "libx264", "-preset", "ultrafast", "-f", "mpegts", "-y", clip)
            .EnsureSuccess("the clip");
        var schedule = Path.Combine(_dir.FullName, "late.yaml");
        File.WriteAllText(schedule, $"stream: {StreamId}\ncues:\n  - {{id: late, kind: interaction-start, at: 89s, duration: 500ms}}\n");
        var injected = Path.Combine(_dir.FullName, "frame-heartbeats.ts");
        FFmpegCli.Run("dotnet", [SeiInjectorProgram.Path, "run", "-i", clip, "-o", injected, "--key", _keyPath, "--schedule", schedule, "--heartbeat", "frame"],
            TimeSpan.FromSeconds(120)).EnsureSuccess("sei-inject run");
        var live = ReadFile(injected);
        var replay = ReadFile(injected, "--recording");
        Assert.Multiple(() =>
        {
            Assert.That(live.ExitCode, Is.Zero, live.StdErr);
            var refusedLines = live.StdOut.Split('\n').Count(l => l.StartsWith("refused (VerificationBudgetExceeded): ", StringComparison.Ordinal));
            Assert.That(refusedLines, Is.EqualTo(2), "the first refusal and the count of the others: " + live.StdOut[..Math.Min(2000, live.StdOut.Length)]);
            Assert.That(live.StdOut, Does.Match(@"refused \(VerificationBudgetExceeded\): [\d,]+ more").And.Contain("give --recording"));
            Assert.That(replay.ExitCode, Is.Zero, replay.StdErr);
            Assert.That(replay.StdOut, Does.Contain("opened: late (InteractionStart) on the frame at 89.000 s").And.Not.Contain("refused (").And.Not.Contain("hint:"));
        });
    }

    // A fresh tester's remark: a public key whose curve OID has one byte changed (field case H9) ended the sample with an
    // unhandled KeyFormatException and exit 134. Now one line naming the file and what is wrong, exit 3.
    [Test]
    public void ReadFile_WithABrokenPublicKey_ExitsWith3_OneLineNamingTheFile()
    {
        var broken = BrokenKeys.Representative(privateKey: false).First(k => k.Name.Contains("curve OID", StringComparison.Ordinal));
        var path = Path.Combine(_dir.FullName, "broken.pub");
        File.WriteAllText(path, broken.Pem);
        var run = FFmpegCli.Run("dotnet", [ReadFilePath, TestMedia.Get(VideoProfile.H264HighBPyramid, Container.Mp4), "--public-key", path, "--stream", StreamId], TimeSpan.FromSeconds(120));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(3), run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"--public-key {path}").And.Contain(broken.Error));
            Assert.That(run.StdErr, Does.Not.Contain("   at "), "one line, no stack trace");
        });
    }

    [Test]
    public void ReadFile_OfAMissingFile_ExitsWith1_SayingWhy()
    {
        var run = ReadFile(Path.Combine(_dir.FullName, "missing.mp4"));
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1));
            Assert.That(run.StdErr, Does.Contain("cannot open"));
        });
    }
}
