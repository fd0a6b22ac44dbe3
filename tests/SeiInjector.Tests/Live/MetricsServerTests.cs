using System.Diagnostics;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

public class MetricsServerTests
{
    private static LiveStatus Sample()
    {
        var latency = new AddedLatency();
        latency.Record(Stopwatch.Frequency / 10_000);
        latency.Record(Stopwatch.Frequency / 100);
        return new LiveStatus(LinkState.Connected, LinkState.Reconnecting, 0, 3, 180000, 2.0, 50, 90, 65536, 7,
            new CueCounts(1, 2, 3, 4, 5), latency.Snapshot());
    }

    [Test]
    public void Format_IsPrometheusText_WithEveryFamilyTypedOnce()
    {
        var lines = MetricsServer.Format(Sample()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var types = lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(types, Is.Unique);
            Assert.That(lines, Does.Contain("catevening_frames_total 50"));
            Assert.That(lines, Does.Contain("catevening_cues{state=\"expired\"} 4"));
            Assert.That(lines, Does.Contain("catevening_link_up{side=\"output\"} 0"));
            Assert.That(lines, Does.Contain("catevening_reconnects_total{side=\"output\"} 3"));
            Assert.That(lines, Does.Contain("catevening_added_latency_seconds_bucket{le=\"0.0001\"} 1"));
            Assert.That(lines, Does.Contain("catevening_added_latency_seconds_bucket{le=\"+Inf\"} 2"));
            Assert.That(lines, Does.Contain("catevening_added_latency_seconds_count 2"));
            Assert.That(lines.Where(l => !l.StartsWith('#')), Has.All.Match(@"^[a-z_]+(\{[a-z]+=""[^""]*""\})? [0-9.E+-]+$"));
        });
    }

    [Test]
    public async Task Server_ServesTheTextAtSlashMetrics()
    {
        using var server = MetricsServer.Start("127.0.0.1:0", Sample);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var r = await http.GetAsync("metrics");
        var text = await r.Content.ReadAsStringAsync();
        using var wrong = await http.GetAsync("nope");
        Assert.Multiple(() =>
        {
            Assert.That(r.Content.Headers.ContentType!.ToString(), Does.StartWith("text/plain; version=0.0.4"));
            Assert.That(text, Does.Contain("catevening_sei_frames_total 7"));
            Assert.That((int)wrong.StatusCode, Is.EqualTo(404));
        });
    }
}
