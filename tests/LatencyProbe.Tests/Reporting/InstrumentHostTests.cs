using System.Text.Json;
using CatEvening.LatencyProbe.Instruments;
using CatEvening.LatencyProbe.Reporting;
using Spectre.Console;

namespace CatEvening.LatencyProbe.Tests.Reporting;

[TestFixture]
public sealed class InstrumentHostTests
{
    [TestCase("90s", 90)]
    [TestCase("500ms", 0.5)]
    [TestCase("5m", 300)]
    [TestCase("1h", 3600)]
    [TestCase("12", 12)]
    [TestCase("00:01:30", 90)]
    public void Duration_Parses(string text, double seconds)
    {
        Assert.Multiple(() =>
        {
            Assert.That(RunLimits.TryParseDuration(text, out var d), Is.True);
            Assert.That(d.TotalSeconds, Is.EqualTo(seconds).Within(1e-9));
        });
    }

    [TestCase("")]
    [TestCase("soon")]
    [TestCase("-5s")]
    [TestCase("0")]
    [TestCase("NaNs")]
    public void Duration_Malformed_IsRefused(string text) => Assert.That(RunLimits.TryParseDuration(text, out _), Is.False);

    [Test]
    public async Task Count_StopsTheInstrument_AndTheReportHoldsExactlyThatMany()
    {
        var recorder = new LatencyRecorder("test", DateTimeOffset.UtcNow);
        var json = Path.Combine(Path.GetTempPath(), $"host-{Guid.NewGuid():N}.json");
        var stoppedByLimit = false;
        try
        {
            var report = await InstrumentHost.RunAsync(recorder, new RunLimits(null, 5), new ReportOutputs(json, null, null, null, LiveView: false), async token =>
            {
                for (var i = 0; i < 1000; i++)
                {
                    // Two samples per step, so the limit is crossed in the middle of a step.
                    recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), i, 0));
                    recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), i, 0));
                    try
                    {
                        await Task.Delay(10, token);
                    }
                    catch (OperationCanceledException)
                    {
                        stoppedByLimit = true;
                        throw;
                    }
                }
            }, CancellationToken.None);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
            Assert.Multiple(() =>
            {
                Assert.That(stoppedByLimit, Is.True);
                Assert.That(report.Samples, Has.Count.EqualTo(5));
                Assert.That(doc.RootElement.GetProperty("samples").GetInt32(), Is.EqualTo(5));
            });
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Test]
    public async Task Duration_StopsTheInstrument()
    {
        var recorder = new LatencyRecorder("test", DateTimeOffset.UtcNow);
        var instrumentCancelled = false;
        // Without the 300 ms limit the instrument waits forever: ending at all is the behaviour, and a minute is
        // what only a hang takes on any load.
        await InstrumentHost.RunAsync(recorder, new RunLimits(TimeSpan.FromMilliseconds(300), null), new ReportOutputs(null, null, null, null, false),
            async token =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                catch (OperationCanceledException)
                {
                    instrumentCancelled = true;
                    throw;
                }
            }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.That(instrumentCancelled, Is.True, "the limit cancels the instrument");
    }

    [Test]
    public async Task LiveView_NotOnATerminal_WritesPlainStatusLines()
    {
        var recorder = new LatencyRecorder("device", DateTimeOffset.UtcNow);
        recorder.Add(new LatencySample(UnixTime.NowMicroseconds(), 83.25, 0.02));
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        using (new LiveConsoleView(recorder, console, TimeSpan.FromMilliseconds(50)))
        {
            // The view redraws every 50 ms; a minute without a line is a hang, not a slow machine.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!output.ToString().Contains("n=1", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20);
        }
        Assert.That(output.ToString(), Does.Contain("device: current 83.3 ms | p50 83.3 ms").Or.Contain("device: current 83.2 ms | p50 83.2 ms"));
    }
}
