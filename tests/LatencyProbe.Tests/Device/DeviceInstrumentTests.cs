using CatEvening.LatencyProbe.Device;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Tests.Device;

/// <summary>The instrument end to end over a pseudo-terminal standing in for the probe's USB serial port.</summary>
[TestFixture]
[Platform(Include = "Linux", Reason = "the pseudo-terminal comes from glibc's openpty")]
public sealed class DeviceInstrumentTests
{
    private sealed class Session : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = new();
        private readonly Task _run;

        public Session(string port)
        {
            Recorder = new LatencyRecorder("device", DateTimeOffset.UtcNow);
            Instrument = new DeviceInstrument(new DeviceOptions { PortName = port, MaxDelay = TimeSpan.FromMilliseconds(400), ReconnectInterval = TimeSpan.FromMilliseconds(100) },
                Recorder, TextWriter.Synchronized(Log));
            _run = Instrument.RunAsync(_cts.Token);
        }

        public LatencyRecorder Recorder { get; }

        public DeviceInstrument Instrument { get; }

        public StringWriter Log { get; } = new();

        /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after a minute, which only a hang takes.</summary>
        public async Task WaitUntil(Func<bool> condition, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(condition))] string what = "")
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}\n{Log}");
                await Task.Delay(25);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _cts.CancelAsync();
            await _run;
            _cts.Dispose();
        }
    }

    [Test]
    public async Task KnownDelays_WithMissedAndExtraEdges_GiveTheMedianWithinHalfAMillisecond()
    {
        using var pty = new PseudoTerminal();
        await using var session = new Session(pty.SlavePath);
        await session.WaitUntil(() => session.Log.ToString().Contains("reading", StringComparison.Ordinal));
        pty.WriteLine("H test-probe 1.0");
        pty.WriteLine("# photodiodes calibrated");
        var random = new Random(11);
        var delays = new List<long>();
        long t = 4_294_000_000; // the 32-bit counter wraps during the run
        for (var i = 0; i < 60; i++)
        {
            var delay = 83_000 + random.Next(-3000, 3000);
            var screen = (t + delay) % (1L << 32);
            pty.WriteLine($"E 0 {t % (1L << 32)}");
            if (i % 10 == 5) pty.WriteLine($"E 1 {(t + 250_000) % (1L << 32)}");
            if (i % 10 == 7) pty.WriteLine("E 1 bogus");
            if (i % 10 != 3)
            {
                pty.WriteLine($"E 1 {screen}");
                delays.Add(delay);
            }
            t += 500_000;
        }
        pty.WriteLine($"E 0 {t % (1L << 32)}");
        await session.WaitUntil(() => session.Recorder.Count >= delays.Count);
        var s = session.Recorder.Summarize();
        var expected = LatencySummary.Percentile([.. delays.Order().Select(d => d / 1000.0)], 0.5);
        Assert.Multiple(() =>
        {
            Assert.That(s.Count, Is.EqualTo(delays.Count), session.Log.ToString());
            Assert.That(s.P50Milliseconds, Is.EqualTo(expected).Within(0.5));
            Assert.That(s.MaxMilliseconds, Is.LessThan(86.1));
            Assert.That(session.Recorder.GetCounter("unmatched_flashes"), Is.EqualTo(6));
            Assert.That(session.Recorder.GetCounter("unmatched_screen_edges"), Is.EqualTo(6));
            Assert.That(session.Recorder.GetCounter("malformed_lines"), Is.EqualTo(6));
            Assert.That(session.Recorder.ToReport(DateTimeOffset.UtcNow).Properties, Does.Contain(new KeyValuePair<string, string>("device", "test-probe 1.0")));
        });
    }

    [Test]
    public async Task Unplugging_KeepsTheSamples_AndReadsTheDeviceAgainWhenItComesBack()
    {
        var dir = Directory.CreateTempSubdirectory("probe-");
        var link = Path.Combine(dir.FullName, "ttyACM0");
        try
        {
            var first = new PseudoTerminal();
            File.CreateSymbolicLink(link, first.SlavePath);
            await using var session = new Session(link);
            await session.WaitUntil(() => session.Log.ToString().Contains("reading", StringComparison.Ordinal));
            first.WriteLine("H test-probe 1.0");
            for (var i = 0; i < 5; i++)
            {
                first.WriteLine($"E 0 {(i * 500_000) + 1_000_000}");
                first.WriteLine($"E 1 {(i * 500_000) + 1_070_000}");
            }
            // A flash past the last window decides it: five samples prove every line was read before the unplug
            // (a pseudo-terminal's unread input is dropped when its master closes).
            first.WriteLine("E 0 3500000");
            await session.WaitUntil(() => session.Recorder.Count >= 5);
            first.Dispose();
            await session.WaitUntil(() => session.Recorder.GetCounter("disconnects") >= 1);

            using var second = new PseudoTerminal();
            File.Delete(link);
            File.CreateSymbolicLink(link, second.SlavePath);
            await session.WaitUntil(() => session.Log.ToString().Contains("is back", StringComparison.Ordinal));
            second.WriteLine("H test-probe 1.0");
            for (var i = 0; i < 5; i++)
            {
                // The device restarted: its clock starts again near zero.
                second.WriteLine($"E 0 {(i * 500_000) + 10_000}");
                second.WriteLine($"E 1 {(i * 500_000) + 100_000}");
            }
            second.WriteLine("E 0 5000000");
            await session.WaitUntil(() => session.Recorder.Count >= 10);
            var report = session.Recorder.ToReport(DateTimeOffset.UtcNow);
            Assert.Multiple(() =>
            {
                Assert.That(report.Samples.Select(x => x.LatencyMilliseconds), Is.EqualTo(Enumerable.Repeat(70.0, 5).Concat(Enumerable.Repeat(90.0, 5))), session.Log.ToString());
                Assert.That(session.Recorder.GetCounter("disconnects"), Is.EqualTo(1));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
