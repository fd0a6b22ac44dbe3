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
    /// <summary>Heartbeats each test waits for: three seconds of a 25 fps stream.</summary>
    private const int Wanted = 75;

    /// <summary>
    /// How long the publisher streams (it is killed once the test has its heartbeats) and the probe may take: a loaded
    /// machine takes longer to get there, it does not get fewer; only a hang takes this long.
    /// </summary>
    private const int StreamSeconds = 90;

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
        var port = FreePort(SocketType.Dgram, ProtocolType.Udp);
        using var publisher = LivePublisher.Start($"srt://127.0.0.1:{port}?mode=listener", "mpegts", _keyPath, seconds: StreamSeconds);
        await ReadAndCheck("srt", $"srt://127.0.0.1:{port}?mode=caller", publisher, maxMedianMilliseconds: 10_000);
    }

    [Test]
    public async Task Hls_PlaylistServedOverHttpWhileSegmented_ReportsVerifiedHeartbeats()
    {
        var hls = _dir.CreateSubdirectory("hls");
        var playlist = Path.Combine(hls.FullName, "live.m3u8");
        using var publisher = LivePublisher.Start("pipe:1", "mpegts", _keyPath, seconds: StreamSeconds,
            then: $"ffmpeg -hide_banner -loglevel error -nostdin -f mpegts -i pipe:0 -c copy -f hls -hls_time 1 -hls_list_size 6 '{playlist}'");
        using var server = new StaticHttpServer(hls.FullName);
        // A live HLS viewer is a segment or more behind: the heartbeats are seconds old when read, never minutes.
        await ReadAndCheck("hls", $"{server.Prefix}live.m3u8", publisher, maxMedianMilliseconds: 30_000);
    }

    [Test]
    public async Task HttpFlv_ProgressiveFlvBodyFromAnHttpServer_ReportsVerifiedHeartbeats()
    {
        var port = FreePort(SocketType.Stream, ProtocolType.Tcp);
        var url = $"http://127.0.0.1:{port}/live.flv";
        // FFmpeg's own HTTP server (-listen 1) sends the FLV as one endless chunked body, as HTTP-FLV servers do.
        using var publisher = LivePublisher.Start("pipe:1", "flv", _keyPath, seconds: StreamSeconds,
            then: $"ffmpeg -hide_banner -loglevel error -nostdin -f flv -i pipe:0 -c copy -f flv -listen 1 '{url}'");
        await ReadAndCheck("http-flv", url, publisher, maxMedianMilliseconds: 10_000);
    }

    /// <summary>
    /// Runs the probe on <paramref name="url"/> until it has <see cref="Wanted"/> heartbeats, calling again while the
    /// server is not up yet, then checks what it reported.
    /// </summary>
    private async Task ReadAndCheck(string transport, string url, LivePublisher publisher, double maxMedianMilliseconds)
    {
        var recorder = new LatencyRecorder("sei", DateTimeOffset.UtcNow);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(StreamSeconds));
        var failures = new List<string>();
        while (!stop.IsCancellationRequested)
        {
            var instrument = new SeiInstrument(new SeiProbeOptions { Input = url }, new KeyRing(_key.PublicKey), HostClock.Instance, recorder, TextWriter.Null);
            // Stop as a viewer would, while the stream still runs: a live stream that ends may read as an I/O error.
            instrument.HeartbeatRead += _ => { if (recorder.GetCounter("heartbeats") >= Wanted) stop.Cancel(); };
            try
            {
                await instrument.RunAsync(stop.Token);
                break;
            }
            catch (FFmpegException e) when (recorder.GetCounter("heartbeats") == 0 && failures.Count < 300)
            {
                failures.Add(e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250), stop.Token);
            }
        }

        var report = recorder.ToReport(DateTimeOffset.UtcNow);
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"{transport}: {report.Summary.Count} heartbeats, median {report.Summary.P50Milliseconds:0.0} ms, " +
            $"backlog {recorder.GetCounter("backlog_heartbeats")}, {failures.Count} attempts before the server answered"));
        Assert.Multiple(() =>
        {
            Assert.That(report.Summary.Count, Is.GreaterThanOrEqualTo(Wanted), $"attempts:\n{string.Join("\n", failures)}\npublisher:\n{publisher.Log}");
            Assert.That(recorder.GetCounter("rejected_bad_signature"), Is.Zero);
            // A heartbeat is read after it was stamped; the upper bound only catches a unit or clock mix-up (seconds
            // old, not minutes): how low the latency is on loopback is a precision figure, not a functional one.
            Assert.That(report.Summary.P50Milliseconds, Is.GreaterThan(0).And.LessThan(maxMedianMilliseconds), $"a live stream over loopback {transport}");
        });
    }

    private static int FreePort(SocketType socketType, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, socketType, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
