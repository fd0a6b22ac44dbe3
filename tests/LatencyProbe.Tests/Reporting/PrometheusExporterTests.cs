using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using CatEvening.LatencyProbe.Reporting;

namespace CatEvening.LatencyProbe.Tests.Reporting;

/// <summary>
/// <c>latency-probe --metrics</c>: the real endpoint scraped over loopback and its text parsed as Prometheus reads
/// format 0.0.4. The names, types and label sets are those of the hand-written exporter before prometheus-net.
/// </summary>
[TestFixture]
public sealed partial class PrometheusExporterTests
{
    private const int SampleCount = 10_000;
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 18, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// 1, 2, ... <see cref="SampleCount"/> ms in a fixed shuffled order, so that a sample's value in ms is its rank;
    /// every 7th has an uncertainty of 0.25 ms, the others 0.01 ms.
    /// </summary>
    private static LatencySample[] KnownSamples()
    {
        var values = Enumerable.Range(1, SampleCount).ToArray();
        new Random(20261130).Shuffle(values);
        return [.. values.Select((ms, i) => new LatencySample(UnixTime.FromDateTimeOffset(Start.AddMilliseconds(i * 40)), ms, ms % 7 == 0 ? 0.25 : 0.01))];
    }

    private static async Task<string> Scrape(PrometheusExporter exporter, string path = "metrics")
    {
        using var http = new HttpClient { BaseAddress = exporter.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await http.GetAsync(path);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), path);
        Assert.That(response.Content.Headers.ContentType!.ToString(), Does.StartWith("text/plain; version=0.0.4"));
        return await response.Content.ReadAsStringAsync();
    }

    [Test]
    public async Task Scrape_OfAKnownSampleSet_HasTheNamesAndLabelsOfBefore_ExactSumAndCount_QuantilesWithinTheRankError()
    {
        var samples = KnownSamples();
        var recorder = new LatencyRecorder("device", Start);
        // Half before the exporter starts: those must be counted too, and none twice.
        foreach (var sample in samples.AsSpan(0, SampleCount / 2)) recorder.Add(sample);
        using var exporter = new PrometheusExporter(recorder, "127.0.0.1", 0);
        foreach (var sample in samples.AsSpan(SampleCount / 2)) recorder.Add(sample);
        recorder.Increment("unmatched_flashes", 3);
        recorder.Increment("missed_screen_edges");

        var exposition = Exposition.Parse(await Scrape(exporter));

        var expectedSum = 0.0;
        foreach (var sample in samples) expectedSum += sample.LatencyMilliseconds / 1000;
        var device = new Dictionary<string, string> { ["instrument"] = "device" };
        Assert.Multiple(() =>
        {
            Assert.That(exposition.Types, Is.EquivalentTo(new Dictionary<string, string>
            {
                ["latency_probe_latency_seconds"] = "summary",
                ["latency_probe_current_latency_seconds"] = "gauge",
                ["latency_probe_min_latency_seconds"] = "gauge",
                ["latency_probe_max_latency_seconds"] = "gauge",
                ["latency_probe_uncertainty_seconds"] = "gauge",
                ["latency_probe_events_total"] = "counter",
            }));
            Assert.That(exposition.Samples.Select(s => s.Key), Is.EquivalentTo(new[]
            {
                "latency_probe_latency_seconds_sum{instrument=\"device\"}",
                "latency_probe_latency_seconds_count{instrument=\"device\"}",
                "latency_probe_latency_seconds{instrument=\"device\",quantile=\"0.5\"}",
                "latency_probe_latency_seconds{instrument=\"device\",quantile=\"0.95\"}",
                "latency_probe_latency_seconds{instrument=\"device\",quantile=\"0.99\"}",
                "latency_probe_current_latency_seconds{instrument=\"device\"}",
                "latency_probe_min_latency_seconds{instrument=\"device\"}",
                "latency_probe_max_latency_seconds{instrument=\"device\"}",
                "latency_probe_uncertainty_seconds{instrument=\"device\"}",
                "latency_probe_events_total{event=\"missed_screen_edges\",instrument=\"device\"}",
                "latency_probe_events_total{event=\"unmatched_flashes\",instrument=\"device\"}",
            }), "every series, its labels sorted by name");
            Assert.That(exposition.Value("latency_probe_latency_seconds_count", device), Is.EqualTo(SampleCount));
            Assert.That(exposition.Value("latency_probe_latency_seconds_sum", device), Is.EqualTo(expectedSum), "the same additions in the same order");
            Assert.That(exposition.Value("latency_probe_current_latency_seconds", device), Is.EqualTo(samples[^1].LatencyMilliseconds / 1000));
            Assert.That(exposition.Value("latency_probe_min_latency_seconds", device), Is.EqualTo(0.001));
            Assert.That(exposition.Value("latency_probe_max_latency_seconds", device), Is.EqualTo(SampleCount / 1000.0));
            Assert.That(exposition.Value("latency_probe_uncertainty_seconds", device), Is.EqualTo(0.25 / 1000));
            Assert.That(exposition.Value("latency_probe_events_total", new() { ["instrument"] = "device", ["event"] = "unmatched_flashes" }), Is.EqualTo(3));
            Assert.That(exposition.Value("latency_probe_events_total", new() { ["instrument"] = "device", ["event"] = "missed_screen_edges" }), Is.EqualTo(1));
            foreach (var q in new[] { 0.5, 0.95, 0.99 })
            {
                var seconds = exposition.Value("latency_probe_latency_seconds", new() { ["instrument"] = "device", ["quantile"] = q.ToString(CultureInfo.InvariantCulture) });
                // A sample's value in ms is its rank: the estimate must be a sample within ±ε·n ranks of q·n.
                var rank = seconds * 1000;
                Assert.That(rank, Is.EqualTo(Math.Round(rank)).Within(1e-6), $"quantile {q} is one of the samples");
                Assert.That(rank, Is.InRange(
                    (q - PrometheusExporter.QuantileRankError) * SampleCount,
                    (q + PrometheusExporter.QuantileRankError) * SampleCount + 1), $"quantile {q}: rank within ±{PrometheusExporter.QuantileRankError}·n");
            }
        });
    }

    [Test]
    public async Task Scrape_BeforeTheFirstSample_HasCountZero_QuantilesNaN_AndNoGauges()
    {
        var recorder = new LatencyRecorder("sei", Start);
        using var exporter = new PrometheusExporter(recorder, "127.0.0.1", 0);

        var exposition = Exposition.Parse(await Scrape(exporter));

        var sei = new Dictionary<string, string> { ["instrument"] = "sei" };
        Assert.Multiple(() =>
        {
            Assert.That(exposition.Value("latency_probe_latency_seconds_count", sei), Is.Zero);
            Assert.That(exposition.Value("latency_probe_latency_seconds_sum", sei), Is.Zero);
            Assert.That(exposition.Value("latency_probe_latency_seconds", new() { ["instrument"] = "sei", ["quantile"] = "0.5" }), Is.NaN);
            Assert.That(exposition.Samples.Keys, Has.None.StartsWith("latency_probe_current_latency_seconds")
                .And.None.StartsWith("latency_probe_min_latency_seconds").And.None.StartsWith("latency_probe_events_total"));
        });
    }

    [Test]
    public async Task Scrape_FollowsTheRecorder_BetweenScrapes()
    {
        var recorder = new LatencyRecorder("timecode", Start);
        using var exporter = new PrometheusExporter(recorder, "127.0.0.1", 0);
        recorder.Add(new LatencySample(UnixTime.FromDateTimeOffset(Start), 80, 0.5));
        recorder.Increment("unreadable_frames");
        var first = Exposition.Parse(await Scrape(exporter));
        recorder.Add(new LatencySample(UnixTime.FromDateTimeOffset(Start.AddSeconds(1)), 40, 0.5));
        recorder.Increment("unreadable_frames", 2);
        var second = Exposition.Parse(await Scrape(exporter));

        var timecode = new Dictionary<string, string> { ["instrument"] = "timecode" };
        var unreadable = new Dictionary<string, string> { ["instrument"] = "timecode", ["event"] = "unreadable_frames" };
        Assert.Multiple(() =>
        {
            Assert.That(first.Value("latency_probe_latency_seconds_count", timecode), Is.EqualTo(1));
            Assert.That(first.Value("latency_probe_events_total", unreadable), Is.EqualTo(1));
            Assert.That(second.Value("latency_probe_latency_seconds_count", timecode), Is.EqualTo(2));
            Assert.That(second.Value("latency_probe_latency_seconds_sum", timecode), Is.EqualTo(0.08 + 0.04));
            Assert.That(second.Value("latency_probe_current_latency_seconds", timecode), Is.EqualTo(0.04));
            Assert.That(second.Value("latency_probe_min_latency_seconds", timecode), Is.EqualTo(0.04));
            Assert.That(second.Value("latency_probe_max_latency_seconds", timecode), Is.EqualTo(0.08));
            Assert.That(second.Value("latency_probe_events_total", unreadable), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Request_ElsewhereThanGetMetrics_Is404()
    {
        using var exporter = new PrometheusExporter(new LatencyRecorder("device", Start), "127.0.0.1", 0);
        using var http = new HttpClient { BaseAddress = exporter.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var wrongPath = await http.GetAsync("nope");
        using var wrongMethod = await http.PostAsync("metrics", new StringContent(""));
        Assert.Multiple(() =>
        {
            Assert.That(wrongPath.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(wrongMethod.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public void Observe_ReplaysEarlierSamples_ThenFollows_UntilDisposed()
    {
        var recorder = new LatencyRecorder("device", Start);
        recorder.Add(new LatencySample(0, 1, 0));
        var seen = new List<double>();
        using (recorder.Observe(s => seen.Add(s.LatencyMilliseconds)))
            recorder.Add(new LatencySample(1, 2, 0));
        recorder.Add(new LatencySample(2, 3, 0));
        Assert.That(seen, Is.EqualTo(new[] { 1.0, 2.0 }));
    }

    /// <summary>Text format 0.0.4 as Prometheus reads it: every sample line under the <c># TYPE</c> of its family.</summary>
    private sealed partial class Exposition
    {
        public Dictionary<string, string> Types { get; } = [];

        /// <summary>Values by series, <c>name{label="value",...}</c> with the labels sorted by name.</summary>
        public Dictionary<string, double> Samples { get; } = [];

        public static Exposition Parse(string text)
        {
            var e = new Exposition();
            Assert.That(text, Does.EndWith("\n"));
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    Assert.That(parts, Has.Length.EqualTo(4), line);
                    Assert.That(e.Types.TryAdd(parts[2], parts[3]), Is.True, $"{parts[2]} typed twice");
                    continue;
                }
                var m = SampleLine().Match(line);
                Assert.That(m.Success, Is.True, $"not a sample line: {line}");
                var name = m.Groups["name"].Value;
                var family = e.Types.Keys.SingleOrDefault(f => name == f
                    || (e.Types[f] == "summary" && (name == f + "_sum" || name == f + "_count")));
                Assert.That(family, Is.Not.Null, $"{name} comes before (or without) its # TYPE");
                var labels = m.Groups["label"].Captures.Select((c, i) => (Name: c.Value, Value: m.Groups["labelValue"].Captures[i].Value))
                    .OrderBy(l => l.Name, StringComparer.Ordinal).ToArray();
                Assert.That(labels.Select(l => l.Name).Distinct().Count(), Is.EqualTo(labels.Length), $"a label repeated: {line}");
                Assert.That(e.Samples.TryAdd(Key(name, labels), ParseValue(m.Groups["value"].Value)), Is.True, $"series twice: {line}");
            }
            return e;
        }

        public double Value(string name, Dictionary<string, string> labels)
        {
            var key = Key(name, [.. labels.Select(l => (l.Key, l.Value)).OrderBy(l => l.Key, StringComparer.Ordinal)]);
            Assert.That(Samples.ContainsKey(key), Is.True, $"no series {key}");
            return Samples[key];
        }

        private static string Key(string name, (string Name, string Value)[] labels) =>
            labels.Length == 0 ? name : $"{name}{{{string.Join(',', labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}}";

        private static double ParseValue(string text) => text switch
        {
            "NaN" => double.NaN,
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };

        [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<labelValue>[^""\\]*)""(,(?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<labelValue>[^""\\]*)"")*\})? (?<value>[-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))$")]
        private static partial Regex SampleLine();
    }
}
