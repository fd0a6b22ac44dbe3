using System.Globalization;
using CatEvening.ClockSync;
using CatEvening.LatencyProbe.Reporting;
using CatEvening.LatencyProbe.Timecode;
using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Timecode;

[TestFixture]
public sealed class TimecodeTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 28, 18, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>A clock that moves on by one frame period each time it is read.</summary>
    private sealed class SteppingClock(long startMs, long stepMs) : IClockSource
    {
        private long _calls;

        public ClockReading Now() => new((startMs + (Interlocked.Increment(ref _calls) - 1) * stepMs) * 1000, 0);
    }

    [TestCase(0L)]
    [TestCase(1L)]
    [TestCase(1795888800123L)]
    [TestCase(TimecodeFrame.MaxMilliseconds)]
    public void Code_RoundTrips(long ms)
    {
        Assert.Multiple(() =>
        {
            Assert.That(TimecodeFrame.TryDecode(TimecodeFrame.Encode(ms), out var back), Is.True);
            Assert.That(back, Is.EqualTo(ms));
        });
    }

    [Test]
    public void Code_WithAnyOneBitFlipped_FailsItsChecksum()
    {
        var code = TimecodeFrame.Encode(1795888800123L);
        for (var bit = 0; bit < 64; bit++)
            Assert.That(TimecodeFrame.TryDecode(code ^ (1UL << bit), out _), Is.False, $"bit {bit}");
    }

    [TestCase(1280, 720, 1280, 720)]
    [TestCase(1920, 1080, 640, 360)]
    [TestCase(640, 360, 320, 180)]
    public void Frame_DrawnAtOneSize_ReadsAtAnother(int w, int h, int rw, int rh)
    {
        var image = new byte[w * h];
        TimecodeFrame.Draw(image, w, h, 1795888800123L);
        var scaled = new byte[rw * rh];
        for (var y = 0; y < rh; y++)
            for (var x = 0; x < rw; x++)
                scaled[(y * rw) + x] = image[(y * h / rh * w) + (x * w / rw)];
        Assert.Multiple(() =>
        {
            Assert.That(TimecodeFrame.TryRead(scaled, rw, rh, out var ms), Is.EqualTo(TimecodeReadFailure.None));
            Assert.That(ms, Is.EqualTo(1795888800123L));
        });
    }

    [Test]
    public void BlendOfTwoFrames_IsRefused_NeverMisread()
    {
        const int w = 640, h = 360;
        var a = new byte[w * h];
        var b = new byte[w * h];
        var mix = new byte[w * h];
        var random = new Random(3);
        for (var i = 0; i < 200; i++)
        {
            var t = T0 + random.Next(0, 1_000_000);
            TimecodeFrame.Draw(a, w, h, t);
            TimecodeFrame.Draw(b, w, h, t + 40);
            var weight = random.NextDouble();
            for (var p = 0; p < mix.Length; p++) mix[p] = (byte)((a[p] * weight) + (b[p] * (1 - weight)));
            var failure = TimecodeFrame.TryRead(mix, w, h, out var ms);
            if (failure == TimecodeReadFailure.None) Assert.That(ms, Is.EqualTo(t).Or.EqualTo(t + 40), $"weight {weight}");
        }
    }

    [Test]
    public async Task ReadBack_Through500kbpsEncodeScaledTo360p_DecodesEveryFrameExactly()
    {
        const int frames = 100;
        var dir = Directory.CreateTempSubdirectory("timecode-");
        try
        {
            var master = Path.Combine(dir.FullName, "master.mkv");
            var renderer = new TimecodeRenderer(new TimecodeRenderOptions { Output = master, Bitrate = "8M" });
            await renderer.RenderAsync(new SteppingClock(T0, 40), frames, realTime: false, CancellationToken.None);

            var chain = Path.Combine(dir.FullName, "chain-360p-500k.mp4");
            FFmpegCli.Ffmpeg("-v", "error", "-y", "-i", master, "-vf", "scale=640:360", "-c:v", "libx264", "-preset", "veryfast",
                "-b:v", "500k", "-maxrate", "500k", "-bufsize", "500k", chain).EnsureSuccess("500 kb/s 360p encode");
            var probe = FFmpegCli.Ffprobe("-v", "error", "-count_frames", "-select_streams", "v:0",
                "-show_entries", "stream=nb_read_frames,width,height,bit_rate", "-of", "csv=p=0", chain).EnsureSuccess("ffprobe").StdOut.Trim().Split(',');
            Assert.That(probe[0..2], Is.EqualTo(new[] { "640", "360" }));
            Assert.That(int.Parse(probe[3], CultureInfo.InvariantCulture), Is.EqualTo(frames), "ffprobe's frame count");
            Assert.That(int.Parse(probe[2], CultureInfo.InvariantCulture), Is.LessThan(650_000), "the encode kept to about 500 kb/s");

            var reader = new TimecodeReader(new TimecodeReadOptions { Input = chain });
            var seen = new List<TimecodeObservation>();
            reader.FrameRead += seen.Add;
            var recorder = new LatencyRecorder("timecode", DateTimeOffset.UtcNow);
            await reader.ReadAsync(new SteppingClock(T0 + 200, 40), recorder, CancellationToken.None);

            var keep = Environment.GetEnvironmentVariable("CATEVENING_KEEP_TIMECODE");
            if (!string.IsNullOrEmpty(keep)) File.Copy(chain, keep, overwrite: true);
            Assert.Multiple(() =>
            {
                Assert.That(seen, Has.Count.EqualTo(frames));
                Assert.That(seen.Where(o => o.Failure != TimecodeReadFailure.None), Is.Empty);
                Assert.That(seen.Select(o => o.CodeMilliseconds - (T0 + (40 * o.Index))), Is.All.EqualTo(0), "error against the time stamped into each frame");
                Assert.That(recorder.Summarize().P50Milliseconds, Is.EqualTo(199.5), "latency = arrival − code − half the code's millisecond step");
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Live over UDP, one encode sent straight to reader A and through a relay holding every datagram back 300 ms to
    /// reader B. What holds on any load: every frame B reads was coded at least 300 ms before (the relay cannot
    /// deliver early), every frame A reads was coded before it was read, and FFmpeg's probe backlog is counted, not
    /// measured. How close B's median comes to A's + 300 ms is a precision figure decided by how fast this machine
    /// decodes at the time (under load both readers fall behind by seconds): benchmarks/probe-precision.sh measures it.
    /// Readability is ReadBack_Through500kbpsEncodeScaledTo360p's claim: over UDP a reader that falls behind may lose
    /// datagrams, and a damaged frame is then (rightly) unreadable.
    /// </summary>
    [Test]
    [NonParallelizable]
    public async Task LivePath_ThroughUdpRelayHolding300ms_MeasuresEveryFrameThroughItAtLeast300msLate()
    {
        var portA = FreeUdpPort();
        var portB = FreeUdpPort();
        using var relay = new UdpDelayRelay(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, portB), TimeSpan.FromMilliseconds(300), TimeSpan.Zero);
        // One encode, sent twice with FFmpeg's tee muxer: straight to viewer A, and through the relay to viewer B.
        var renderer = new TimecodeRenderer(new TimecodeRenderOptions
        {
            Width = 640,
            Height = 360,
            Bitrate = "500k",
            Format = "tee",
            Output = $"[f=mpegts]udp://127.0.0.1:{portA}?pkt_size=1316|[f=mpegts]udp://127.0.0.1:{relay.LocalEndPoint.Port}?pkt_size=1316",
        });
        var a = new LatencyRecorder("timecode", DateTimeOffset.UtcNow);
        var b = new LatencyRecorder("timecode", DateTimeOffset.UtcNow);
        // Both readers measure until each has Wanted frames past its backlog, at most a minute (only a hang takes that).
        const int Wanted = 75;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var readerA = new TimecodeReader(new TimecodeReadOptions { Input = $"udp://127.0.0.1:{portA}" });
        var readerB = new TimecodeReader(new TimecodeReadOptions { Input = $"udp://127.0.0.1:{portB}" });
        void StopWhenBothHaveEnough(TimecodeObservation _)
        {
            if (a.Count >= Wanted && b.Count >= Wanted) stop.Cancel();
        }
        readerA.FrameRead += StopWhenBothHaveEnough;
        readerB.FrameRead += StopWhenBothHaveEnough;
        var readA = readerA.ReadAsync(HostClock.Instance, a, stop.Token);
        var readB = readerB.ReadAsync(HostClock.Instance, b, stop.Token);
        // Datagrams sent before a reader's FFmpeg has bound its port are lost: start rendering once both listen.
        await WaitUntilUdpPortsAreBound([portA, portB], TimeSpan.FromSeconds(60));
        await renderer.RenderAsync(HostClock.Instance, null, realTime: true, stop.Token);
        await Task.WhenAll(readA, readB);
        var sa = a.Summarize();
        var sb = b.Summarize();
        await TestContext.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"direct: {sa.Count} frames, median {sa.P50Milliseconds:0.0} ms (p95 {sa.P95Milliseconds:0.0}); through the 300 ms relay: {sb.Count} frames, median {sb.P50Milliseconds:0.0} ms (p95 {sb.P95Milliseconds:0.0}, min {sb.MinMilliseconds:0.0}); " +
            $"moved {sb.P50Milliseconds - sa.P50Milliseconds:0.0} ms; backlog {a.GetCounter("backlog_frames")} / {b.GetCounter("backlog_frames")}, unreadable {a.GetCounter("unreadable_frames")} / {b.GetCounter("unreadable_frames")}"));
        Assert.Multiple(() =>
        {
            Assert.That(sa.Count, Is.GreaterThanOrEqualTo(Wanted));
            Assert.That(sb.Count, Is.GreaterThanOrEqualTo(Wanted));
            // latency = arrival − code − 0.5 ms (the code holds whole milliseconds, rounded down).
            Assert.That(sb.MinMilliseconds, Is.GreaterThanOrEqualTo(299.5), "no frame through the relay is read sooner than 300 ms after it was coded");
            Assert.That(sa.MinMilliseconds, Is.GreaterThanOrEqualTo(-0.5), "no frame is read before it was coded");
            // A live reader calls the backlog drained only after SettledFrames frames in a row: those are counted apart.
            Assert.That(a.GetCounter("backlog_frames"), Is.GreaterThanOrEqualTo(TimecodeReader.SettledFrames), "FFmpeg's probe backlog is counted, not measured");
            Assert.That(b.GetCounter("backlog_frames"), Is.GreaterThanOrEqualTo(TimecodeReader.SettledFrames));
        });
    }

    /// <summary>Waits until every port in <paramref name="ports"/> has a UDP socket bound on this host (Linux /proc/net).</summary>
    private static async Task WaitUntilUdpPortsAreBound(int[] ports, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var bound = new HashSet<int>();
            foreach (var table in new[] { "/proc/net/udp", "/proc/net/udp6" })
            {
                if (!File.Exists(table)) continue;
                // "  sl  local_address rem_address ...": the local address is ADDRESS:PORT, both in hex.
                foreach (var line in File.ReadLines(table).Skip(1))
                {
                    var local = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
                    bound.Add(int.Parse(local.AsSpan(local.IndexOf(':', StringComparison.Ordinal) + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
            if (ports.All(bound.Contains)) return;
            if (DateTime.UtcNow > deadline) Assert.Fail($"no reader bound UDP port(s) {string.Join(", ", ports.Where(p => !bound.Contains(p)))} within {timeout}");
            await Task.Delay(20);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
