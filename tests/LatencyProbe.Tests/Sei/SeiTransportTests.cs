using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CatEvening.ClockSync;
using CatEvening.FFmpegInterop;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>
/// The probe pulls the stream over the transports a viewer uses besides RTMP: sei-inject publishes a live,
/// heartbeat-per-frame stream and the probe reads it over loopback.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SeiTransportTests
{
    private DirectoryInfo _dir = null!;
    private SigningKey _key = null!;
    private string _keyPath = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("sei-transport-");
        _key = SigningKey.Generate(7);
        _keyPath = Path.Combine(_dir.FullName, "signing.pem");
        File.WriteAllText(_keyPath, _key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [TearDown]
    public void TearDown()
    {
        _key.Dispose();
        _dir.Delete(recursive: true);
    }

    [Test]
    public async Task Srt_CallerPullingFromAListeningInjector_ReportsVerifiedHeartbeats()
    {
        var port = FreeUdpPort();
        using var publisher = LivePublisher.Start($"srt://127.0.0.1:{port}?mode=listener", "mpegts", _keyPath, seconds: 30);
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        const int Wanted = 75;
        var url = $"srt://127.0.0.1:{port}?mode=caller";
        var failures = new List<string>();
        // The injector listens only once ffmpeg and dotnet have started: call until it answers.
        while (!stop.IsCancellationRequested)
        {
            var instrument = new SeiInstrument(new SeiProbeOptions { Input = url }, new KeyRing(_key.PublicKey), HostClock.Instance, recorder, TextWriter.Null);
            // Stop as a viewer would, while the stream still runs: a live SRT stream that ends reads as an I/O error.
            instrument.HeartbeatRead += _ => { if (recorder.GetCounter("heartbeats") >= Wanted) stop.Cancel(); };
            try
            {
                await instrument.RunAsync(stop.Token);
                break;
            }
            catch (FFmpegException e) when (recorder.GetCounter("heartbeats") == 0 && failures.Count < 30)
            {
                failures.Add(e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250), stop.Token);
            }
        }

        var report = recorder.ToReport(DateTimeOffset.UtcNow);
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"srt: {report.Summary.Count} heartbeats, median {report.Summary.P50Milliseconds:0.0} ms, backlog {recorder.GetCounter("backlog_heartbeats")}, {failures.Count} calls before the listener answered"));
        Assert.Multiple(() =>
        {
            Assert.That(report.Summary.Count, Is.GreaterThanOrEqualTo(Wanted), $"calls: {string.Join("\n", failures)}\npublisher:\n{publisher.Log}");
            Assert.That(recorder.GetCounter("rejected_bad_signature"), Is.Zero);
            Assert.That(report.Summary.P50Milliseconds, Is.GreaterThan(0).And.LessThan(2000), "a live stream over loopback SRT");
        });
    }

    private static int FreeUdpPort()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }
}
