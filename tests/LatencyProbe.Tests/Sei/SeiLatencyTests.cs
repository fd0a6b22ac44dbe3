using System.Globalization;
using System.Net;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>
/// End to end: ffmpeg encodes in real time, sei-inject splices a signed heartbeat into every frame and publishes to
/// nginx-rtmp, and two viewers pull the stream at once, one straight from nginx and one through a TCP relay that
/// holds every byte back 300 ms.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SeiLatencyTests
{
    [Test]
    public async Task RtmpPath_WithRelayHoldingTheStreamBack300ms_MovesTheMedianBy300ms()
    {
        using var server = NginxRtmp.StartShared();
        var dir = Directory.CreateTempSubdirectory("sei-probe-");
        using var key = SigningKey.Generate(7);
        var keyPath = Path.Combine(dir.FullName, "signing.pem");
        File.WriteAllText(keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stream = "probe-" + Guid.NewGuid().ToString("N")[..8];
        using var relay = new TcpDelayRelay(new IPEndPoint(IPAddress.Parse(server.Host), server.Port), TimeSpan.FromMilliseconds(300));

        using var publisher = LivePublisher.Start(server.Url(stream), "flv", keyPath, seconds: 24);
        try
        {
            try
            {
                server.WaitForPublishers(stream, 1, TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException e)
            {
                Assert.Fail($"{e.Message}\npublisher:\n{publisher.Log}");
            }
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(14));
            var direct = Viewer(server.Url(stream));
            var delayed = Viewer($"rtmp://127.0.0.1:{relay.LocalEndPoint.Port}/{NginxRtmp.Application}/{stream}");
            var runs = new[] { direct.Instrument.RunAsync(stop.Token), delayed.Instrument.RunAsync(stop.Token) };
            await Task.WhenAll(runs);

            var reportA = direct.Recorder.ToReport(DateTimeOffset.UtcNow);
            var reportB = delayed.Recorder.ToReport(DateTimeOffset.UtcNow);
            var medianA = reportA.Summary.P50Milliseconds;
            var medianB = reportB.Summary.P50Milliseconds;
            await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"direct: {reportA.Summary.Count} heartbeats, median {medianA:0.0} ms (p95 {reportA.Summary.P95Milliseconds:0.0}); " +
                $"through the 300 ms relay: {reportB.Summary.Count} heartbeats, median {medianB:0.0} ms (p95 {reportB.Summary.P95Milliseconds:0.0}); moved {medianB - medianA:0.0} ms; " +
                $"backlog skipped {direct.Recorder.GetCounter("backlog_heartbeats")} / {delayed.Recorder.GetCounter("backlog_heartbeats")}"));
            Assert.Multiple(() =>
            {
                Assert.That(reportA.Summary.Count, Is.GreaterThan(100), $"{publisher.Log}\n{server.ErrorLog}");
                Assert.That(reportB.Summary.Count, Is.GreaterThan(100));
                Assert.That(medianB - medianA, Is.EqualTo(300).Within(10));
                Assert.That(direct.Recorder.GetCounter("backlog_heartbeats"), Is.GreaterThan(0), "the probe backlog was seen and left out");
                Assert.That(direct.Recorder.GetCounter("rejected_bad_signature"), Is.Zero);
                Assert.That(medianA, Is.GreaterThan(0).And.LessThan(100), "from the injector through nginx to a viewer, all on loopback");
            });
        }
        finally
        {
            publisher.Kill();
            dir.Delete(recursive: true);
        }

        (SeiInstrument Instrument, LatencyRecorder Recorder) Viewer(string url)
        {
            var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
            var instrument = new SeiInstrument(new SeiProbeOptions { Input = url }, new KeyRing(key.PublicKey), HostClock.Instance, recorder, TextWriter.Null);
            return (instrument, recorder);
        }
    }
}
