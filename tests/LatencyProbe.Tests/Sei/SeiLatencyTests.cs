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
    /// <summary>Heartbeats each viewer measures (after its backlog): two seconds of the 25 fps stream.</summary>
    private const int Wanted = 50;

    [Test]
    public async Task RtmpPath_WithRelayHoldingTheStreamBack300ms_MeasuresEveryHeartbeatThroughItAtLeast300msLate()
    {
        using var server = NginxRtmp.StartShared();
        var dir = Directory.CreateTempSubdirectory("sei-probe-");
        using var key = SigningKey.Generate(7);
        var keyPath = Path.Combine(dir.FullName, "signing.pem");
        File.WriteAllText(keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stream = "probe-" + Guid.NewGuid().ToString("N")[..8];
        using var relay = new TcpDelayRelay(new IPEndPoint(IPAddress.Parse(server.Host), server.Port), TimeSpan.FromMilliseconds(300));

        // The stream runs until the test has what it needs (killed below), at most 90 s.
        using var publisher = LivePublisher.Start(server.Url(stream), "flv", keyPath, seconds: 90);
        try
        {
            try
            {
                server.WaitForPublishers(stream, 1, TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException e)
            {
                Assert.Fail($"{e.Message}\npublisher:\n{publisher.Log}");
            }
            // Both viewers measure until each has Wanted heartbeats past its backlog: a slow machine takes longer to
            // get there, it does not get fewer. A minute is what only a hang takes.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var direct = Viewer(server.Url(stream));
            var delayed = Viewer($"rtmp://127.0.0.1:{relay.LocalEndPoint.Port}/{NginxRtmp.Application}/{stream}");
            void StopWhenBothHaveEnough(HeartbeatObservation _)
            {
                if (direct.Recorder.Count >= Wanted && delayed.Recorder.Count >= Wanted) stop.Cancel();
            }
            direct.Instrument.HeartbeatRead += StopWhenBothHaveEnough;
            delayed.Instrument.HeartbeatRead += StopWhenBothHaveEnough;
            var runs = new[] { direct.Instrument.RunAsync(stop.Token), delayed.Instrument.RunAsync(stop.Token) };
            await Task.WhenAll(runs);

            var reportA = direct.Recorder.ToReport(DateTimeOffset.UtcNow);
            var reportB = delayed.Recorder.ToReport(DateTimeOffset.UtcNow);
            var medianA = reportA.Summary.P50Milliseconds;
            var medianB = reportB.Summary.P50Milliseconds;
            await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"direct: {reportA.Summary.Count} heartbeats, median {medianA:0.0} ms (p95 {reportA.Summary.P95Milliseconds:0.0}); " +
                $"through the 300 ms relay: {reportB.Summary.Count} heartbeats, median {medianB:0.0} ms (p95 {reportB.Summary.P95Milliseconds:0.0}, min {reportB.Summary.MinMilliseconds:0.0}); moved {medianB - medianA:0.0} ms; " +
                $"backlog skipped {direct.Recorder.GetCounter("backlog_heartbeats")} / {delayed.Recorder.GetCounter("backlog_heartbeats")}"));
            // How close "moved" comes to 300 ms is a precision figure that the scheduler decides as much as the code:
            // benchmarks/probe-precision.sh measures it (target 300 ± 10 ms). Here: what holds on any load.
            Assert.Multiple(() =>
            {
                Assert.That(reportA.Summary.Count, Is.GreaterThanOrEqualTo(Wanted), $"{publisher.Log}\n{server.ErrorLog}");
                Assert.That(reportB.Summary.Count, Is.GreaterThanOrEqualTo(Wanted));
                // Every heartbeat through the relay was stamped before it reached the relay, which held it 300 ms: none
                // can measure less (10 ms for the injector's monotonic clock against this host's slewed wall clock).
                Assert.That(reportB.Summary.MinMilliseconds, Is.GreaterThanOrEqualTo(290), "no heartbeat beats the relay's 300 ms");
                Assert.That(direct.Recorder.GetCounter("backlog_heartbeats"), Is.GreaterThan(0), "the probe backlog was seen and left out");
                Assert.That(direct.Recorder.GetCounter("rejected_bad_signature"), Is.Zero);
                Assert.That(reportA.Summary.MinMilliseconds, Is.GreaterThan(0), "a heartbeat is read after it was stamped");
                Assert.That(medianA, Is.LessThan(10_000), "a live stream over loopback is read within seconds, not minutes");
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
