using System.Globalization;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Sei;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Sei;

/// <summary>A live stream that ends is reopened: the probe keeps measuring through a publisher's restart.</summary>
[TestFixture]
[NonParallelizable]
public sealed class SeiReconnectTests
{
    [Test]
    public async Task Rtmp_PublisherStopsThenPublishesAgain_ProbeReconnectsAndMeasuresTheSecondPublication()
    {
        using var server = NginxRtmp.StartShared();
        var dir = Directory.CreateTempSubdirectory("sei-reconnect-");
        using var key = SigningKey.Generate(7);
        var keyPath = Path.Combine(dir.FullName, "signing.pem");
        File.WriteAllText(keyPath, key.ExportPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stream = "reconnect-" + Guid.NewGuid().ToString("N")[..8];
        const int Wanted = 50;
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        var log = new StringWriter();
        var instrument = new SeiInstrument(new SeiProbeOptions { Input = server.Url(stream) }, new KeyRing(key.PublicKey), HostClock.Instance, recorder, TextWriter.Synchronized(log));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        long secondStartMicros = long.MaxValue;
        int first = 0, second = 0;
        instrument.HeartbeatRead += observation =>
        {
            if (observation.Heartbeat.InjectionWallClockMicros < Interlocked.Read(ref secondStartMicros)) first++;
            else if (++second >= Wanted) stop.Cancel();
        };

        using var firstPublisher = LivePublisher.Start(server.Url(stream), "flv", keyPath, seconds: 16, streamId: "first");
        LivePublisher? secondPublisher = null;
        try
        {
            server.WaitForPublishers(stream, 1, TimeSpan.FromSeconds(60));
            var run = instrument.RunAsync(stop.Token);
            Assert.That(firstPublisher.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "the first publication ends by itself");
            Interlocked.Exchange(ref secondStartMicros, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
            // A restarted injector without an audit log counts its sequence numbers afresh: a new stream id keeps them clear of the replay window.
            secondPublisher = LivePublisher.Start(server.Url(stream), "flv", keyPath, seconds: 30, streamId: "second");
            await run;

            await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"first publication {first} heartbeats, second {second}, reconnects {recorder.GetCounter("reconnects")}, backlog {recorder.GetCounter("backlog_heartbeats")}\n{log}"));
            Assert.Multiple(() =>
            {
                Assert.That(first, Is.GreaterThan(0), $"{firstPublisher.Log}\n{server.ErrorLog}");
                Assert.That(second, Is.GreaterThanOrEqualTo(Wanted), $"{secondPublisher.Log}\n{log}");
                Assert.That(recorder.GetCounter("reconnects"), Is.GreaterThanOrEqualTo(1));
                Assert.That(recorder.GetCounter("rejected_bad_signature"), Is.Zero);
            });
        }
        finally
        {
            secondPublisher?.Dispose();
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Cancelled_WhileTheOpeningWaitsForASilentServer_EndsWithoutAnError()
    {
        // A server that accepts the TCP connection and never answers the RTMP handshake: the opening blocks until its
        // I/O timeout (ten minutes here), so only the cancellation (what --duration and Ctrl+C use) can end it.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var accepted = silent.AcceptSocketAsync();
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        using var key = SigningKey.Generate(7);
        var instrument = new SeiInstrument(new SeiProbeOptions { Input = $"rtmp://127.0.0.1:{port}/live/silent", IoTimeout = TimeSpan.FromMinutes(10) },
            new KeyRing(key.PublicKey), HostClock.Instance, recorder, TextWriter.Null);
        using var stop = new CancellationTokenSource();
        var run = instrument.RunAsync(stop.Token);
        using var connection = await accepted.WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.That(finished, Is.SameAs(run), "the cancelled opening ends the run instead of waiting out the I/O timeout");
        Assert.DoesNotThrowAsync(async () => await run, "a cancelled opening is the run's end, not an error");
    }
}
