using System.Net;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Clock;

/// <summary><c>sei-inject run --clock HOST:PORT</c> stamps heartbeats with the clock service's time and uncertainty.</summary>
[TestFixture]
public sealed class InjectorClockTests
{
    private sealed class ShiftedClock(long shiftMicroseconds) : IClockSource
    {
        public ClockReading Now() => new(HostClock.Instance.Now().UnixMicroseconds + shiftMicroseconds, 0);
    }

    [Test]
    public async Task Run_WithClock_StampsHeartbeatsWithTheServiceTimeAndItsUncertainty()
    {
        const long hour = 3_600_000_000;
        using var server = new ClockServer(new IPEndPoint(IPAddress.Loopback, 0), new ShiftedClock(hour), http: false);
        var dir = Directory.CreateTempSubdirectory("inject-clock-");
        try
        {
            using var key = SigningKey.Generate(3);
            var keyPath = Path.Combine(dir.FullName, "signing.pem");
            File.WriteAllText(keyPath, key.ExportPem());
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var output = Path.Combine(dir.FullName, "out.flv");
            var endpoint = $"127.0.0.1:{server.LocalEndPoint.Port}";
            var before = HostClock.Instance.Now().UnixMicroseconds;
            var run = FFmpegCli.Run("dotnet", [SeiInjectorProgram.Path, "run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", output,
                "--key", keyPath, "--heartbeat", "500ms", "--clock", endpoint]);
            var after = HostClock.Instance.Now().UnixMicroseconds;
            Assert.That(run.ExitCode, Is.Zero, run.StdErr);

            var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
            var instrument = new SeiInstrument(new SeiProbeOptions { Input = output }, new KeyRing(key.PublicKey), HostClock.Instance, recorder, TextWriter.Null);
            var heartbeats = new List<HeartbeatObservation>();
            instrument.HeartbeatRead += heartbeats.Add;
            await instrument.RunAsync(CancellationToken.None);
            Assert.Multiple(() =>
            {
                Assert.That(heartbeats, Has.Count.GreaterThanOrEqualTo(4), "a 2 s clip with a heartbeat every 500 ms");
                foreach (var h in heartbeats)
                {
                    var uncertainty = h.Heartbeat.ClockUncertaintyMicros;
                    // Stamped between `before` and `after` by this host's clock, plus the service's hour, with the error
                    // the heartbeat itself admits to.
                    Assert.That(h.Heartbeat.InjectionWallClockMicros, Is.InRange(before + hour - uncertainty, after + hour + uncertainty));
                    // Half the fastest round trip of exchanges that time out after 1 s: positive and under half a second
                    // whatever the load. How small it is on loopback is benchmarks/clock-sync.sh's business.
                    Assert.That(uncertainty, Is.InRange(1L, 600_000L));
                }
                Assert.That(heartbeats.Select(h => h.Heartbeat.TimeServer), Is.All.EqualTo(endpoint));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public async Task SeiProbe_WithTheWrongPublicKey_MeasuresNothing_AndCountsTheRejections()
    {
        var dir = Directory.CreateTempSubdirectory("inject-clock-");
        try
        {
            using var key = SigningKey.Generate(3);
            using var other = SigningKey.Generate(3);
            var keyPath = Path.Combine(dir.FullName, "signing.pem");
            File.WriteAllText(keyPath, key.ExportPem());
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var output = Path.Combine(dir.FullName, "out.mp4");
            var run = FFmpegCli.Run("dotnet", [SeiInjectorProgram.Path, "run", "-i", TestMedia.Get(VideoProfile.H265Main, Container.Mp4), "-o", output,
                "--key", keyPath, "--heartbeat", "frame"]);
            Assert.That(run.ExitCode, Is.Zero, run.StdErr);

            var wrong = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
            await new SeiInstrument(new SeiProbeOptions { Input = output }, new KeyRing(other.PublicKey), HostClock.Instance, wrong, TextWriter.Null).RunAsync(CancellationToken.None);
            var right = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
            await new SeiInstrument(new SeiProbeOptions { Input = output }, new KeyRing(key.PublicKey), HostClock.Instance, right, TextWriter.Null).RunAsync(CancellationToken.None);
            Assert.Multiple(() =>
            {
                Assert.That(wrong.Count, Is.Zero);
                Assert.That(wrong.GetCounter("rejected_bad_signature"), Is.EqualTo(TestMedia.FrameCount));
                Assert.That(right.Count, Is.EqualTo(TestMedia.FrameCount), "H.265 in MP4 (hvcC framing): one heartbeat per frame");
                Assert.That(right.GetCounter("backlog_heartbeats"), Is.Zero, "a file is measured from its first packet");
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void Run_WithAClockServiceThatDoesNotAnswer_FailsNamingIt()
    {
        var dir = Directory.CreateTempSubdirectory("inject-clock-");
        try
        {
            using var key = SigningKey.Generate(3);
            var keyPath = Path.Combine(dir.FullName, "signing.pem");
            File.WriteAllText(keyPath, key.ExportPem());
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var silent = $"127.0.0.1:{Reporting.ReportTests.FreeTcpPort()}";
            var run = FFmpegCli.Run("dotnet", [SeiInjectorProgram.Path, "run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv),
                "-o", Path.Combine(dir.FullName, "never.flv"), "--key", keyPath, "--clock", silent]);
            Assert.Multiple(() =>
            {
                Assert.That(run.ExitCode, Is.EqualTo(1), "exit code 1: the stream failed (its time source did)");
                Assert.That(run.StdErr, Does.Contain($"--clock {silent}"));
                Assert.That(File.Exists(Path.Combine(dir.FullName, "never.flv")), Is.False);
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

/// <summary>Where the built sei-inject program is (the test project references it so that it is built first).</summary>
internal static class SeiInjectorProgram
{
    public static string Path
    {
        get
        {
            var configuration = new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            return System.IO.Path.Combine(TestMedia.RepositoryRoot, "src", "SeiInjector", "bin", configuration, "net10.0", "sei-inject.dll");
        }
    }
}
