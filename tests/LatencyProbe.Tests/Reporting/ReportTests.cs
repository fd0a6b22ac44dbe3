using System.Net.Sockets;
using System.Text.Json;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Tests.Reporting;

[TestFixture]
public sealed class ReportTests
{
    private static LatencyReport SampleReport(int count = 100)
    {
        var start = new DateTimeOffset(2026, 11, 28, 18, 0, 0, TimeSpan.Zero);
        var recorder = new LatencyRecorder("device", start);
        for (var i = 1; i <= count; i++)
            recorder.Add(new LatencySample(UnixTime.FromDateTimeOffset(start.AddSeconds(i * 0.5)), i, i % 7 == 0 ? 0.25 : 0.01));
        recorder.Increment("unmatched_flashes", 3);
        recorder.SetProperty("device", "probe 1.0");
        return recorder.ToReport(start.AddMinutes(1));
    }

    [Test]
    public void Summary_OfOneToHundred_HasTheType7Percentiles()
    {
        var s = SampleReport().Summary;
        Assert.Multiple(() =>
        {
            Assert.That(s.Count, Is.EqualTo(100));
            Assert.That(s.P50Milliseconds, Is.EqualTo(50.5));
            Assert.That(s.P95Milliseconds, Is.EqualTo(95.05).Within(1e-9));
            Assert.That(s.P99Milliseconds, Is.EqualTo(99.01).Within(1e-9));
            Assert.That(s.MinMilliseconds, Is.EqualTo(1));
            Assert.That(s.MaxMilliseconds, Is.EqualTo(100));
            Assert.That(s.MeanMilliseconds, Is.EqualTo(50.5));
            Assert.That(s.UncertaintyMilliseconds, Is.EqualTo(0.25));
            Assert.That(s.CurrentMilliseconds, Is.EqualTo(100));
        });
    }

    [Test]
    public void Json_HasTheSharedFieldsAndTheRawSamples()
    {
        using var stream = new MemoryStream();
        ReportWriter.WriteJson(SampleReport(), stream);
        using var doc = JsonDocument.Parse(stream.ToArray());
        var root = doc.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("instrument").GetString(), Is.EqualTo("device"));
            Assert.That(root.GetProperty("samples").GetInt32(), Is.EqualTo(100));
            Assert.That(root.GetProperty("p50_ms").GetDouble(), Is.EqualTo(50.5));
            Assert.That(root.GetProperty("p95_ms").GetDouble(), Is.EqualTo(95.05));
            Assert.That(root.GetProperty("p99_ms").GetDouble(), Is.EqualTo(99.01));
            Assert.That(root.GetProperty("min_ms").GetDouble(), Is.EqualTo(1));
            Assert.That(root.GetProperty("max_ms").GetDouble(), Is.EqualTo(100));
            Assert.That(root.GetProperty("mean_ms").GetDouble(), Is.EqualTo(50.5));
            Assert.That(root.GetProperty("uncertainty_ms").GetDouble(), Is.EqualTo(0.25));
            Assert.That(root.GetProperty("counters").GetProperty("unmatched_flashes").GetInt64(), Is.EqualTo(3));
            Assert.That(root.GetProperty("properties").GetProperty("device").GetString(), Is.EqualTo("probe 1.0"));
            Assert.That(root.GetProperty("raw_samples").GetArrayLength(), Is.EqualTo(100));
            Assert.That(root.GetProperty("raw_samples")[6].GetProperty("latency_ms").GetDouble(), Is.EqualTo(7));
            Assert.That(root.GetProperty("raw_samples")[6].GetProperty("uncertainty_ms").GetDouble(), Is.EqualTo(0.25));
            Assert.That(root.GetProperty("raw_samples")[0].GetProperty("utc").GetString(), Is.EqualTo("2026-11-28T18:00:00.500Z"));
        });
    }

    [Test]
    public void Json_WithoutSamples_WritesNullFigures()
    {
        using var stream = new MemoryStream();
        ReportWriter.WriteJson(SampleReport(0), stream);
        using var doc = JsonDocument.Parse(stream.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(doc.RootElement.GetProperty("samples").GetInt32(), Is.Zero);
            Assert.That(doc.RootElement.GetProperty("p50_ms").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public void Csv_HasAHeaderAndOneRowPerSample()
    {
        var writer = new StringWriter();
        ReportWriter.WriteCsv(SampleReport(3), writer);
        Assert.That(writer.ToString(), Is.EqualTo(
            "utc,unix_us,latency_ms,uncertainty_ms\n" +
            "2026-11-28T18:00:00.500Z,1795888800500000,1,0.01\n" +
            "2026-11-28T18:00:01.000Z,1795888801000000,2,0.01\n" +
            "2026-11-28T18:00:01.500Z,1795888801500000,3,0.01\n"));
    }

    [Test]
    public void Png_IsAPictureOfTheRequestedSize()
    {
        var path = Path.Combine(Path.GetTempPath(), $"probe-plot-{Guid.NewGuid():N}.png");
        try
        {
            ReportPlot.SavePng(SampleReport(), path, 800, 600);
            var bytes = File.ReadAllBytes(path);
            Assert.Multiple(() =>
            {
                Assert.That(bytes.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
                Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), Is.EqualTo(800));
                Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)), Is.EqualTo(600));
                Assert.That(bytes, Has.Length.GreaterThan(10_000), "a blank picture compresses to almost nothing");
            });
            var keep = Environment.GetEnvironmentVariable("CATEVENING_KEEP_PLOT");
            if (!string.IsNullOrEmpty(keep)) File.Copy(path, keep, overwrite: true);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ConsoleLine_ShowsEveryFigure()
    {
        var report = SampleReport();
        Assert.That(LiveConsoleView.FormatLine("device", report.Summary, report.Counters),
            Is.EqualTo("device: current 100.0 ms | p50 50.5 ms | p95 95.1 ms | p99 99.0 ms | min 1.0 ms | max 100.0 ms | ±0.3 ms | n=100 | unmatched_flashes=3"));
    }

    internal static int FreeTcpPort()
    {
        using var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }
}
