using System.Text.Json;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The <c>GET /v1/status</c> JSON as the console, the benchmarks' scripts and operators read it.</summary>
public class LiveStatusJsonTests
{
    private static LiveStatus Status(AddedLatencySnapshot? writeTime) =>
        new(LinkState.Connected, LinkState.Reconnecting, 0, 1, 9000, 0.1, 3, 5, 1234, 2, new CueCounts(1, 2, 3, 4, 5, 6),
            new AddedLatencySnapshot(7, 5, TimeSpan.FromMilliseconds(0.25), TimeSpan.FromMilliseconds(1.5), TimeSpan.FromMilliseconds(2)))
        {
            WriteTime = writeTime,
        };

    [Test]
    public void ToJson_AddedLatencyAndWriteTime_EachHaveCountWindowAndPercentilesInMilliseconds()
    {
        var json = JsonDocument.Parse(Status(new AddedLatencySnapshot(9, 8, TimeSpan.FromMilliseconds(0.5), TimeSpan.FromMilliseconds(3), TimeSpan.FromMilliseconds(4))).ToJson());
        var added = json.RootElement.GetProperty("added_latency");
        var write = json.RootElement.GetProperty("write_time");
        Assert.Multiple(() =>
        {
            Assert.That(added.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"),
                Is.EqualTo(new[] { "packets=7", "window=5", "p50_ms=0.25", "p99_ms=1.5", "max_ms=2" }));
            Assert.That(write.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"),
                Is.EqualTo(new[] { "packets=9", "window=8", "p50_ms=0.5", "p99_ms=3", "max_ms=4" }));
        });
    }

    [Test]
    public void ToJson_WithoutWriteTime_LeavesTheObjectOut()
    {
        var json = JsonDocument.Parse(Status(writeTime: null).ToJson());
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.TryGetProperty("write_time", out _), Is.False);
            Assert.That(json.RootElement.GetProperty("added_latency").GetProperty("packets").GetInt64(), Is.EqualTo(7));
        });
    }

    [Test]
    public void ToJson_SchedulerSlice_InMilliseconds_OnlyWhenTheRunSetsOrTunesIt()
    {
        var tuned = JsonDocument.Parse((Status(null) with { SchedulerSlice = TimeSpan.FromMilliseconds(1.4) }).ToJson());
        var untouched = JsonDocument.Parse(Status(null).ToJson());
        Assert.Multiple(() =>
        {
            Assert.That(tuned.RootElement.GetProperty("scheduler_slice_ms").GetDouble(), Is.EqualTo(1.4));
            Assert.That(untouched.RootElement.TryGetProperty("scheduler_slice_ms", out _), Is.False);
        });
    }

    [Test]
    public void CueTally_InStatusAndInTheAuditLogsStoppedLine_IsTheSameObject()
    {
        string[] expected = ["pending=1", "active=2", "delivered=3", "ended=6", "expired=4", "cancelled=5"];
        var status = JsonDocument.Parse(Status(writeTime: null).ToJson()).RootElement.GetProperty("cues");
        var path = Path.Combine(Path.GetTempPath(), "status-json-" + Guid.NewGuid().ToString("N") + ".jsonl");
        try
        {
            using (var audit = AuditLog.Open(path)) audit.Stopped("test", new CueCounts(1, 2, 3, 4, 5, 6));
            var stopped = JsonDocument.Parse(File.ReadLines(path).Last()).RootElement;
            Assert.Multiple(() =>
            {
                Assert.That(status.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"), Is.EqualTo(expected));
                Assert.That(stopped.GetProperty("event").GetString(), Is.EqualTo("stopped"));
                Assert.That(stopped.GetProperty("cues").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetRawText()}"), Is.EqualTo(expected));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }
}
