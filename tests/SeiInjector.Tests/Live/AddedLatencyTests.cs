using System.Diagnostics;
using System.Globalization;
using System.Text;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

public class AddedLatencyTests
{
    private static long Micros(double us) => (long)(us * Stopwatch.Frequency / 1_000_000);

    [Test]
    public void Percentiles_AreNearestRankOverTheSamples()
    {
        var latency = new AddedLatency();
        for (var i = 1; i <= 100; i++) latency.Record(Micros(i * 10));
        var s = latency.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(s.Count, Is.EqualTo(100));
            Assert.That(s.P50.TotalMicroseconds, Is.EqualTo(500).Within(0.01));
            Assert.That(s.P99.TotalMicroseconds, Is.EqualTo(990).Within(0.01));
            Assert.That(s.Max.TotalMicroseconds, Is.EqualTo(1000).Within(0.01));
        });
    }

    [Test]
    public async Task Histogram_IsCumulative_WithEverySampleInPlusInf()
    {
        var latency = new AddedLatency();
        latency.Record(Micros(40));
        latency.Record(Micros(100));
        latency.Record(Micros(700));
        latency.Record(Micros(2_000_000));
        using var text = new MemoryStream();
        await latency.Metrics.CollectAndExportAsTextAsync(text);
        var buckets = Encoding.UTF8.GetString(text.ToArray()).Split('\n')
            .Where(l => l.StartsWith("catevening_added_latency_seconds_bucket{le=", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToList();
        var bounds = AddedLatency.BucketBounds;
        Assert.Multiple(() =>
        {
            Assert.That(buckets, Has.Count.EqualTo(bounds.Count + 1), "every bound and +Inf");
            Assert.That(buckets[bounds.ToList().IndexOf(0.00005)], Is.EqualTo(1));
            Assert.That(buckets[bounds.ToList().IndexOf(0.0001)], Is.EqualTo(2), "a sample equal to a bound is in that bucket");
            Assert.That(buckets[bounds.ToList().IndexOf(0.001)], Is.EqualTo(3));
            Assert.That(buckets[bounds.Count - 1], Is.EqualTo(3));
            Assert.That(buckets[bounds.Count], Is.EqualTo(4));
            Assert.That(buckets, Is.Ordered);
        });
    }

    // Samples reach the window StagingSize at a time: whatever the count, the percentiles are those of exactly the most
    // recent min(count, WindowSize) samples, staged or copied (brute force by sorting as the oracle).
    [TestCase(1)]
    [TestCase(AddedLatency.StagingSize - 1)]
    [TestCase(AddedLatency.StagingSize)]
    [TestCase(AddedLatency.StagingSize + 1)]
    [TestCase(AddedLatency.WindowSize - 1)]
    [TestCase(AddedLatency.WindowSize)]
    [TestCase(AddedLatency.WindowSize + 1)]
    [TestCase(AddedLatency.WindowSize + AddedLatency.StagingSize + 17)]
    [TestCase(3 * AddedLatency.WindowSize + 5)]
    public void Percentiles_AreThoseOfTheMostRecentSamples_StagedOrNot(int count)
    {
        var latency = new AddedLatency();
        // A value that says when it was recorded, shuffled so that recent is not simply largest.
        static long Value(int i) => 1 + (i * 7919L % 100_003);
        for (var i = 0; i < count; i++) latency.Record(Value(i));
        var recent = Enumerable.Range(Math.Max(0, count - AddedLatency.WindowSize), Math.Min(count, AddedLatency.WindowSize)).Select(Value).Order().ToArray();
        static TimeSpan Ticks(long t) => TimeSpan.FromSeconds(t / (double)Stopwatch.Frequency);
        var s = latency.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(s.Count, Is.EqualTo(count));
            Assert.That(s.WindowCount, Is.EqualTo(recent.Length));
            Assert.That(s.Max, Is.EqualTo(Ticks(recent[^1])));
            Assert.That(s.P99, Is.EqualTo(Ticks(recent[Math.Clamp((int)Math.Ceiling(0.99 * recent.Length), 1, recent.Length) - 1])));
            Assert.That(s.P50, Is.EqualTo(Ticks(recent[Math.Clamp((int)Math.Ceiling(0.50 * recent.Length), 1, recent.Length) - 1])));
        });
    }

    [Test]
    public void Percentiles_FollowTheRecentWindowOnly()
    {
        var latency = new AddedLatency();
        for (var i = 0; i < AddedLatency.WindowSize; i++) latency.Record(Micros(5000));
        for (var i = 0; i < AddedLatency.WindowSize; i++) latency.Record(Micros(10));
        var s = latency.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(s.P99.TotalMicroseconds, Is.EqualTo(10).Within(0.01));
            Assert.That(s.Count, Is.EqualTo(2L * AddedLatency.WindowSize));
            Assert.That(s.WindowCount, Is.EqualTo(AddedLatency.WindowSize));
        });
    }

    // The added latency is the injector's own time (read to the muxer); the muxer's write call (muxing and the socket
    // send, which a relay pays alike) is measured apart, and both are exported from the one registry.
    [Test]
    public async Task PacketMonitor_SplitsOwnTimeFromTheWriteCall_BothInOneRegistry()
    {
        var monitor = new PacketMonitor();
        var now = Stopwatch.GetTimestamp();
        monitor.Written(now - (3 * Stopwatch.Frequency), now - Stopwatch.Frequency, 1000);
        var own = monitor.Latency.Snapshot();
        var write = monitor.WriteTime.Snapshot();
        using var text = new MemoryStream();
        await monitor.Latency.Metrics.CollectAndExportAsTextAsync(text);
        var exposition = Encoding.UTF8.GetString(text.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(own.Max, Is.EqualTo(TimeSpan.FromSeconds(2)), "read to handed over: exactly the two seconds between them");
            Assert.That(write.Max, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)).And.LessThan(TimeSpan.FromSeconds(60)), "handed over to now");
            Assert.That((monitor.Packets, monitor.Bytes), Is.EqualTo((1L, 1000L)));
            Assert.That(exposition, Does.Contain("catevening_added_latency_seconds_count 1"));
            Assert.That(exposition, Does.Contain(PacketMonitor.WriteTimeMetric + "_count 1"));
            Assert.That(exposition, Does.Contain("catevening_added_latency_seconds_bucket{le=\"1\"} 0"), "2 s is beyond the last finite bound");
        });
    }

    // The pipeline passes the clock reading it took as the write returned (one clock read per packet fewer): the write
    // time is exactly the span between the two readings, for fresh and for cached packets.
    [Test]
    public void PacketMonitor_TakesTheCallersWriteReturnReading()
    {
        var monitor = new PacketMonitor();
        monitor.Written(Micros(100), Micros(130), Micros(1130), 500);
        monitor.WrittenLate(Micros(2000), Micros(2007), 300);
        var own = monitor.Latency.Snapshot();
        var write = monitor.WriteTime.Snapshot();
        Assert.Multiple(() =>
        {
            Assert.That(own.Max.TotalMicroseconds, Is.EqualTo(30).Within(0.01), "read to handed over");
            Assert.That(own.Count, Is.EqualTo(1), "a cached packet stays out of the added latency");
            Assert.That(write.Max.TotalMicroseconds, Is.EqualTo(1000).Within(0.01), "handed over to the write's return");
            Assert.That(write.P50.TotalMicroseconds, Is.EqualTo(7).Within(0.01));
            Assert.That((monitor.Packets, monitor.Bytes), Is.EqualTo((2L, 800L)));
        });
    }

    // Recording takes no lock: a reader that takes snapshots while the writer records only ever sees recorded values
    // and a count that never goes back. Bounded by count (200,000 samples), not by time.
    [Test]
    public void Snapshot_WhileTheWriterRecords_SeesOnlyRecordedValues()
    {
        var latency = new AddedLatency();
        const int Samples = 200_000;
        using var done = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            for (var i = 0; i < Samples; i++) latency.Record(Micros(i % 2 == 0 ? 10 : 20));
            done.Set();
        });
        writer.Start();
        var snapshots = 0;
        long lastCount = 0;
        var bad = new List<string>();
        while (!done.IsSet || snapshots == 0)
        {
            var s = latency.Snapshot();
            snapshots++;
            if (s.Count < lastCount) bad.Add($"count went back from {lastCount} to {s.Count}");
            lastCount = s.Count;
            if (s.WindowCount > 0 && (s.Max.TotalMicroseconds is < 9.99 or > 20.01 || s.P50.TotalMicroseconds is < 9.99 or > 20.01))
                bad.Add($"a value never recorded: p50 {s.P50.TotalMicroseconds} µs, max {s.Max.TotalMicroseconds} µs");
            if (snapshots > 1_000_000) break;
        }
        Assert.That(writer.Join(TimeSpan.FromSeconds(60)), Is.True, "the writer finished");
        Assert.Multiple(() =>
        {
            Assert.That(bad, Is.Empty);
            Assert.That(latency.Snapshot().Count, Is.EqualTo(Samples));
            Assert.That(latency.Snapshot().WindowCount, Is.EqualTo(AddedLatency.WindowSize));
        });
    }

    // Selection instead of a sort: the same nearest-rank answer as sorting, for every rank, on random, skewed,
    // all-equal, sorted and reversed samples.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    [TestCase(1000)]
    [TestCase(AddedLatency.WindowSize)]
    public void Select_GivesTheKthSmallest_AsSortingWould(int n)
    {
        var random = new Random(n);
        long[][] inputs =
        [
            [.. Enumerable.Range(0, n).Select(_ => random.NextInt64(0, 1_000_000))],
            [.. Enumerable.Range(0, n).Select(_ => (long)random.Next(0, 4))],
            [.. Enumerable.Repeat(42L, n)],
            [.. Enumerable.Range(0, n).Select(i => (long)i)],
            [.. Enumerable.Range(0, n).Select(i => (long)(n - i))],
        ];
        foreach (var input in inputs)
        {
            var sorted = input.Order().ToArray();
            int[] ranks = n < 50 ? [.. Enumerable.Range(0, n)] : [0, 1, n / 2, (int)Math.Ceiling(0.99 * n) - 1, n - 2, n - 1];
            foreach (var k in ranks)
            {
                var copy = (long[])input.Clone();
                Assert.That(AddedLatency.Select(copy, k), Is.EqualTo(sorted[k]), $"rank {k} of {n}");
                Assert.That(copy.Order(), Is.EqualTo(sorted), "a permutation of the input");
            }
        }
    }

    [Test]
    public void Empty_ReportsZeros()
    {
        var s = new AddedLatency().Snapshot();
        Assert.That((s.Count, s.P50, s.P99), Is.EqualTo((0L, TimeSpan.Zero, TimeSpan.Zero)));
    }

    // The histogram is kept by the recording thread and handed to prometheus-net at each collection: whatever was
    // recorded between collections, the exposition's buckets, count and sum are those of every sample so far.
    [Test]
    public async Task Histogram_AcrossCollections_HasEverySampleOnce_WithTheExactSum()
    {
        var latency = new AddedLatency();
        double[] first = [30, 50, 51, 99, 100, 700, 2_000_000];
        double[] second = [10, 100, 100, 250, 260, 1_000_001];
        foreach (var us in first) latency.Record(Micros(us));
        var one = await Exposition(latency);
        foreach (var us in second) latency.Record(Micros(us));
        var two = await Exposition(latency);
        var three = await Exposition(latency);
        var all = first.Concat(second).ToArray();
        Assert.Multiple(() =>
        {
            AssertMatches(one, first);
            AssertMatches(two, all);
            AssertMatches(three, all);
        });

        static void AssertMatches(Dictionary<string, double> exposition, double[] micros)
        {
            Assert.That(exposition["count"], Is.EqualTo(micros.Length));
            Assert.That(exposition["sum"], Is.EqualTo(micros.Sum() / 1e6).Within(1e-9), "the sum of the samples, not of bucket midpoints");
            foreach (var bound in AddedLatency.BucketBounds)
                Assert.That(exposition[bound.ToString(CultureInfo.InvariantCulture)], Is.EqualTo(micros.Count(us => us / 1e6 <= bound + 1e-12)), $"le={bound}");
            Assert.That(exposition["+Inf"], Is.EqualTo(micros.Length));
        }
    }

    // A reader collecting while the recording thread records (the metrics endpoint scraping a live run) never sees a
    // bucket count without its sum: at the end the count and the sum are exactly what was recorded. Bounded by count.
    [Test]
    public async Task Histogram_CollectedWhileRecording_EndsExact()
    {
        var latency = new AddedLatency();
        const int Samples = 300_000;
        using var done = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            for (var i = 0; i < Samples; i++) latency.Record(Micros(i % 3 == 0 ? 40 : 300));
            done.Set();
        });
        writer.Start();
        var collections = 0;
        while (!done.IsSet && collections < 10_000)
        {
            var e = await Exposition(latency);
            collections++;
            // Every sample is 40 or 300 µs: a mean that mixed a count with another moment's sum would leave a bucket
            // these two values never fall in.
            Assert.That(e["0.0001"] - e["5E-05"], Is.Zero, "nothing between 50 and 100 µs");
        }
        Assert.That(writer.Join(TimeSpan.FromSeconds(60)), Is.True, "the writer finished");
        var end = await Exposition(latency);
        var slow = Samples - ((Samples + 2) / 3);
        Assert.Multiple(() =>
        {
            Assert.That(end["count"], Is.EqualTo(Samples));
            Assert.That(end["5E-05"], Is.EqualTo((Samples + 2) / 3));
            Assert.That(end["sum"], Is.EqualTo((((Samples + 2) / 3 * 40.0) + (slow * 300.0)) / 1e6).Within(1e-6));
        });
        TestContext.Out.WriteLine($"{collections} collections while recording");
    }

    // The histogram's lines as (le bound | "count" | "sum") → value.
    private static async Task<Dictionary<string, double>> Exposition(AddedLatency latency)
    {
        using var text = new MemoryStream();
        await latency.Metrics.CollectAndExportAsTextAsync(text);
        var result = new Dictionary<string, double>();
        foreach (var line in Encoding.UTF8.GetString(text.ToArray()).Split('\n'))
        {
            if (!line.StartsWith(AddedLatency.AddedLatencyMetric, StringComparison.Ordinal)) continue;
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            if (line.StartsWith(AddedLatency.AddedLatencyMetric + "_count", StringComparison.Ordinal)) result["count"] = value;
            else if (line.StartsWith(AddedLatency.AddedLatencyMetric + "_sum", StringComparison.Ordinal)) result["sum"] = value;
            else
            {
                var le = line[(line.IndexOf("le=\"", StringComparison.Ordinal) + 4)..line.IndexOf("\"}", StringComparison.Ordinal)];
                result[le == "+Inf" ? le : double.Parse(le, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)] = value;
            }
        }
        return result;
    }
}
