using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

public partial class MetricsServerTests
{
    private static LiveStatus Sample(AddedLatency latency) =>
        new(LinkState.Connected, LinkState.Reconnecting, 0, 3, 180000, 2.0, 50, 90, 65536, 7, new CueCounts(1, 2, 3, 4, 5), latency.Snapshot())
        {
            SchedulerSlice = TimeSpan.FromMilliseconds(100),
        };

    private static AddedLatency TwoPackets()
    {
        var latency = new AddedLatency();
        latency.Record(Stopwatch.Frequency / 10_000);
        latency.Record(Stopwatch.Frequency / 100);
        return latency;
    }

    private static async Task<string> Scrape(Func<LiveStatus> status, AddedLatency latency)
    {
        using var server = MetricsServer.Start("127.0.0.1:0", status, latency);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        return await http.GetStringAsync("metrics");
    }

    /// <summary>
    /// The exposition parsed as Prometheus reads text format 0.0.4: every sample line is <c>name{labels} value</c>
    /// under a <c># TYPE</c> of its family (histograms' <c>_bucket</c>, <c>_sum</c>, <c>_count</c> included), each family
    /// typed once. The names, types and label sets are the contract dashboards were built on before prometheus-net.
    /// </summary>
    [Test]
    public async Task Exposition_Parses_WithTheMetricNamesTypesAndLabelsOfBefore()
    {
        var latency = TwoPackets();
        var text = await Scrape(() => Sample(latency), latency);
        var types = new Dictionary<string, string>();
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.That(types.TryAdd(parts[2], parts[3]), Is.True, $"{parts[2]} typed twice");
                continue;
            }
            var m = SampleLine().Match(line);
            Assert.That(m.Success, Is.True, $"not a sample line: {line}");
            var name = m.Groups["name"].Value;
            var family = types.Keys.SingleOrDefault(f => name == f || (types[f] == "histogram" && name is var n && (n == f + "_bucket" || n == f + "_sum" || n == f + "_count")));
            Assert.That(family, Is.Not.Null, $"{name} comes before (or without) its # TYPE");
            samples[name + m.Groups["labels"].Value] = double.Parse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        Assert.Multiple(() =>
        {
            Assert.That(types, Is.EquivalentTo(new Dictionary<string, string>
            {
                ["catevening_frames_total"] = "counter", ["catevening_packets_total"] = "counter", ["catevening_packets_dropped_total"] = "counter",
                ["catevening_bytes_written_total"] = "counter", ["catevening_sei_frames_total"] = "counter",
                ["catevening_timestamp_discontinuities_total"] = "counter", ["catevening_timestamp_wraps_total"] = "counter",
                ["catevening_timestamps_interpolated_total"] = "counter", ["catevening_packets_skipped_total"] = "counter",
                ["catevening_cues"] = "gauge", ["catevening_link_up"] = "gauge", ["catevening_reconnects_total"] = "counter",
                ["catevening_last_pts_seconds"] = "gauge", ["catevening_added_latency_seconds"] = "histogram",
                ["catevening_scheduler_slice_seconds"] = "gauge",
            }));
            Assert.That(samples["catevening_scheduler_slice_seconds"], Is.EqualTo(0.1));
            Assert.That(samples["catevening_frames_total"], Is.EqualTo(50));
            Assert.That(samples["catevening_sei_frames_total"], Is.EqualTo(7));
            Assert.That(samples["catevening_cues{state=\"expired\"}"], Is.EqualTo(4));
            Assert.That(samples.Keys.Count(k => k.StartsWith("catevening_cues{", StringComparison.Ordinal)), Is.EqualTo(6));
            Assert.That(samples["catevening_link_up{side=\"input\"}"], Is.EqualTo(1));
            Assert.That(samples["catevening_link_up{side=\"output\"}"], Is.EqualTo(0));
            Assert.That(samples["catevening_reconnects_total{side=\"output\"}"], Is.EqualTo(3));
            Assert.That(samples["catevening_last_pts_seconds"], Is.EqualTo(2.0));
            Assert.That(samples["catevening_added_latency_seconds_bucket{le=\"5e-05\"}"], Is.Zero);
            Assert.That(samples["catevening_added_latency_seconds_bucket{le=\"0.0001\"}"], Is.EqualTo(1));
            Assert.That(samples["catevening_added_latency_seconds_bucket{le=\"0.01\"}"], Is.EqualTo(2));
            Assert.That(samples["catevening_added_latency_seconds_bucket{le=\"+Inf\"}"], Is.EqualTo(2));
            Assert.That(samples.Keys.Count(k => k.StartsWith("catevening_added_latency_seconds_bucket", StringComparison.Ordinal)), Is.EqualTo(AddedLatency.BucketBounds.Count + 1));
            Assert.That(samples["catevening_added_latency_seconds_count"], Is.EqualTo(2));
            Assert.That(samples["catevening_added_latency_seconds_sum"], Is.EqualTo(0.0101).Within(1e-9));
        });
    }

    [Test]
    public async Task Counters_FollowTheStatusFromScrapeToScrape_AndLastPtsAppearsWithTheFirstFrame()
    {
        var latency = new AddedLatency();
        var frames = 0L;
        double? pts = null;
        LiveStatus Status() => new(LinkState.Connecting, LinkState.Connecting, 0, 0, null, pts, frames, frames, 0, 0, new CueCounts(0, 0, 0, 0, 0), latency.Snapshot());
        using var server = MetricsServer.Start("127.0.0.1:0", Status, latency);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var before = await http.GetStringAsync("metrics");
        frames = 25;
        pts = 1.0;
        var after = await http.GetStringAsync("metrics");
        Assert.Multiple(() =>
        {
            Assert.That(before, Does.Contain("\ncatevening_frames_total 0\n").And.Not.Contain("\ncatevening_last_pts_seconds "), "no PTS before the first frame");
            Assert.That(before + after, Does.Not.Contain("\ncatevening_scheduler_slice_seconds "), "no slice when the run neither sets nor tunes it");
            Assert.That(after, Does.Contain("\ncatevening_frames_total 25\n").And.Contain("\ncatevening_last_pts_seconds 1\n"));
        });
    }

    [Test]
    public async Task Server_ServesTheTextAtSlashMetrics()
    {
        var latency = TwoPackets();
        using var server = MetricsServer.Start("127.0.0.1:0", () => Sample(latency), latency);
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

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[a-zA-Z_][a-zA-Z0-9_]*=""[^""]*""(,[a-zA-Z_][a-zA-Z0-9_]*=""[^""]*"")*\})? (?<value>[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))$")]
    private static partial Regex SampleLine();
}
