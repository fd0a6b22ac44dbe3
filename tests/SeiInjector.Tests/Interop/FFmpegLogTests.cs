using System.Net;
using System.Net.Sockets;
using CatEvening.FFmpegInterop;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Interop;

/// <summary>
/// FFmpeg's own log lines reach the operator through <see cref="FFmpegLog"/>: without object addresses, and a line
/// repeated by a link retried every few hundred milliseconds written once per window with the count of its repeats
/// (an ingest outage printed two raw FFmpeg lines per attempt). FFmpeg itself is the oracle for the line's text: a
/// real connection refused on loopback.
/// </summary>
[NonParallelizable]
public class FFmpegLogTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Now;
        public void Advance(TimeSpan by) => Now += by.Ticks;
    }

    [TestCase("[tcp @ 0x563d81bc69c0] Connection to tcp://127.0.0.1:1 failed: Connection refused", "[tcp] Connection to tcp://127.0.0.1:1 failed: Connection refused")]
    [TestCase("[flv @ 0x55aa] [h264 @ 0x7fe0bc004840] no frame!", "[flv] [h264] no frame!")]
    [TestCase("no prefix at all", "no prefix at all")]
    [TestCase("[in#0 @ 0x1] text @ 0xzz] kept", "[in#0] text @ 0xzz] kept")]
    [TestCase("[x @ 0x] empty address kept", "[x @ 0x] empty address kept")]
    [TestCase("ends with @ 0x12", "ends with @ 0x12")]
    public void Addresses_AreDropped_OnlyWhereTheyCloseAPrefix(string line, string expected) =>
        Assert.That(FFmpegLog.WithoutAddresses(line), Is.EqualTo(expected));

    [Test]
    public void RepeatedLine_IsWrittenOncePerWindow_WithTheCountOfWhatWasHeldBack()
    {
        var clock = new ManualClock();
        var filter = new RepeatedLineFilter(TimeSpan.FromSeconds(30), clock);
        var written = new List<string?>
        {
            filter.Admit("a"),
            filter.Admit("b"),
        };
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            written.Add(filter.Admit("a"));
        }
        clock.Advance(TimeSpan.FromSeconds(25));
        written.Add(filter.Admit("a"));       // 30 s after the first: written, with the 5 held back
        clock.Advance(TimeSpan.FromSeconds(40));
        written.Add(filter.Admit("a"));       // nothing held back since: the line alone
        written.Add(filter.Admit("b"));
        Assert.That(written, Is.EqualTo(new[] { "a", "b", null, null, null, null, null, "a (and 5 more like it in the 30 s before)", "a", "b" }));
    }

    [Test]
    public void ManyDistinctLines_StayBounded_AndAreAllWritten()
    {
        var filter = new RepeatedLineFilter(TimeSpan.FromSeconds(30), new ManualClock());
        var written = Enumerable.Range(0, RepeatedLineFilter.Capacity * 3).Select(i => filter.Admit("line " + i)).ToList();
        Assert.That(written, Is.All.Not.Null);
    }

    [Test]
    public void RefusedConnection_RetriedFourTimes_IsOneLineInOurWords_ThenCountedAfterTheWindow()
    {
        var port = ClosedLoopbackPort();
        var lines = new List<string>();
        var clock = new ManualClock();
        FFmpegLibrary.EnsureLoaded();
        var previousSink = FFmpegLog.Sink;
        var previousFilter = FFmpegLog.SwapFilter(new RepeatedLineFilter(TimeSpan.FromSeconds(30), clock));
        FFmpegLog.Sink = line =>
        {
            if (line.Contains($":{port}", StringComparison.Ordinal)) lock (lines) lines.Add(line);
        };
        try
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                Assert.Throws<FFmpegException>(() => MediaInput.Open($"tcp://127.0.0.1:{port}", "flv", TimeSpan.FromSeconds(10)));
                clock.Advance(TimeSpan.FromSeconds(1));
            }
            clock.Advance(TimeSpan.FromSeconds(30));
            Assert.Throws<FFmpegException>(() => MediaInput.Open($"tcp://127.0.0.1:{port}", "flv", TimeSpan.FromSeconds(10)));
        }
        finally
        {
            FFmpegLog.Sink = previousSink;
            FFmpegLog.SwapFilter(previousFilter);
        }
        Assert.Multiple(() =>
        {
            Assert.That(lines, Has.Count.EqualTo(2), string.Join("\n", lines));
            Assert.That(lines[0], Does.StartWith("ffmpeg: [tcp] Connection to tcp://127.0.0.1:" + port).And.Contain("Connection refused"));
            Assert.That(lines, Has.None.Contain(" @ 0x"));
            Assert.That(lines[^1], Does.StartWith(lines[0]).And.EndWith("(and 3 more like it in the 34 s before)"));
            // Only around connecting: the packet loop's trace-level av_log calls (two a packet in FLV) stay native.
            Assert.That(FFmpegLog.IsCapturing, Is.False, "FFmpeg's default callback is back after the open");
        });
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
