using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>
/// A live stream signed with a key the probe does not hold: nothing can ever be measured, so the run ends by itself
/// after <see cref="SeiProbeOptions.MaxKeyRejections"/> refusals instead of reading for ever (<c>--count N</c> never
/// reached).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SeiKeyMismatchTests
{
    private DirectoryInfo _dir = null!;
    private NginxRtmp _server = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _dir = Directory.CreateTempSubdirectory("sei-key-mismatch-");
        _server = NginxRtmp.StartShared();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _server.Dispose();
        _dir.Delete(recursive: true);
    }

    /// <summary>Publishes a live stream with a heartbeat on every frame, signed by a fresh key with id 7, for at most 90 s.</summary>
    private LivePublisher Publish(out string url)
    {
        using var key = SigningKey.Generate(7);
        var keyPath = Path.Combine(_dir.FullName, $"signing-{Guid.NewGuid():N}.pem");
        File.WriteAllText(keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stream = "mismatch-" + Guid.NewGuid().ToString("N")[..8];
        url = _server.Url(stream);
        var publisher = LivePublisher.Start(url, "flv", keyPath, seconds: 90);
        try
        {
            _server.WaitForPublishers(stream, 1, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            var log = publisher.Log;
            publisher.Dispose();
            Assert.Fail($"{e.Message}\npublisher:\n{log}");
        }
        return publisher;
    }

    [Test]
    public void LiveStream_SignedWithAnotherKey_StopsAfterMaxKeyRejections_NamingTheKeyId()
    {
        using var publisher = Publish(out var url);
        using var other = SigningKey.Generate(7);
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        var instrument = new SeiInstrument(new SeiProbeOptions { Input = url, MaxKeyRejections = 20 }, new KeyRing(other.PublicKey),
            HostClock.Instance, recorder, TextWriter.Null);
        // Only a hang reaches this: the stream refuses 25 messages a second.
        using var hang = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var e = Assert.ThrowsAsync<KeyMismatchException>(() => instrument.RunAsync(hang.Token));

        Assert.Multiple(() =>
        {
            Assert.That(hang.IsCancellationRequested, Is.False, "ended by itself");
            Assert.That(e!.Rejections, Is.EqualTo(20));
            Assert.That(e.KeyId, Is.EqualTo(7));
            Assert.That(e.Message, Does.Contain("failed signature verification (20 refused as bad_signature under key id 7): is --public-key the injector's key? key id 7"));
            Assert.That(recorder.GetCounter("rejected_bad_signature"), Is.EqualTo(20));
            Assert.That(recorder.Count, Is.Zero);
        });
    }

    [Test]
    public void Cli_WithCountAndAnotherKey_EndsWithExit3AndOneLineNamingThePublicKey()
    {
        using var publisher = Publish(out var url);
        using var other = SigningKey.Generate(7);
        var publicKey = Path.Combine(_dir.FullName, $"other-{Guid.NewGuid():N}.pub");
        File.WriteAllText(publicKey, other.PublicKey.ExportPem());

        var run = FFmpegCli.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "latency-probe.dll"), "sei", url, "--public-key", publicKey,
            "--count", "5", "--quiet"], TimeSpan.FromSeconds(120));

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(3), run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"latency-probe: sei {url}: every message failed signature verification ({new SeiProbeOptions { Input = url }.MaxKeyRejections} refused"), run.StdErr);
            Assert.That(run.StdErr, Does.Contain("is --public-key the injector's key? key id 7"), run.StdErr);
        });
    }
}
