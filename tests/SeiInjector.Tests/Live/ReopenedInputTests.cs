using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Tests.Pipeline;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// BUG 3: the same publisher reconnects to nginx-rtmp while the injector pulls from it. nginx announces audio first to a
/// player that joins a publisher already sending and video first to one that waited for it, so the reopened input's
/// streams come in the other order: the output was opened again (a file output truncated to the second session). The
/// streams are now matched by kind and codec parameters, the output kept, and a file output is never opened again.
/// FFmpeg is the oracle: every frame of both sessions decodes to the clip's frames (framemd5), every packet read is in
/// the file. Every wait is on a condition (a link event, the server's log) with a bound only a hang reaches.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ReopenedInputTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private string _dir = "";
    private SigningKey _key = null!;

    [OneTimeSetUp]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("catevening-reopen-").FullName;
        _key = SigningKey.Generate(3);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        _key.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [TestCase("mpegts", "ts")]
    [TestCase("flv", "flv")]
    public void SamePublisherReconnects_StreamsAnnouncedInTheOtherOrder_FileOutputKept_BothSessionsWritten(string format, string extension)
    {
        var clip = FieldMedia.Clip("reopen-4s", 4, "flv");
        using var server = NginxRtmp.StartPrivate();
        var output = Path.Combine(_dir, $"both.{extension}");
        // The first session is joined while its publisher sends (audio first), the second waited for (video first).
        using var first = FFmpegPublisher.Start(clip, server.Url("s"), "flv", loop: false);
        server.WaitForPublishers("s", 1, Patience);
        using var run = Run(server.Url("s"), output, format);
        run.WaitFor(e => e == "down Input", 1, "the first session to end", first);
        server.WaitForPlayers("s", 2, Patience);
        using var second = FFmpegPublisher.Start(clip, server.Url("s"), "flv", loop: false);
        run.WaitFor(e => e == "down Input", 2, "the second session to end", second);
        var report = run.Stop();

        var clipFrames = Frames(clip);
        var written = Frames(output);
        Assert.Multiple(() =>
        {
            Assert.That(run.Log, Does.Contain("announces its streams in another order"), "nginx swapped the streams (the case under test)");
            Assert.That(run.Log, Does.Not.Contain("differ"), "the output was not opened again");
            Assert.That(run.Events.Count(e => e == "up Output"), Is.EqualTo(1), "the output opened once");
            Assert.That(report.DroppedPackets + report.SkippedPackets, Is.Zero, "every packet read was written");
            Assert.That(PacketCount(output), Is.EqualTo(report.Packets), "the file holds every packet written, of both sessions");
            Assert.That(StreamKinds(output), Is.EqualTo(new[] { "audio aac", "video h264" }).Or.EqualTo(new[] { "video h264", "audio aac" }));
            Assert.That(SplitIntoTwoClipEnds(written, clipFrames), Is.Not.Null,
                $"decoded video: the end of the clip (session 1, joined late) then the clip again (session 2); {written.Count} frames, clip {clipFrames.Count}");
            AssertDtsIncreasing(output);
        });
    }

    // A file output whose reopened input's video cannot go on in it (another picture size: another configuration) is not
    // opened again (that would truncate it): the run stops, saying so, and the file keeps the first session, closed properly.
    [Test]
    public void ReconnectedPublisherWithOtherVideo_FileOutput_NeverTruncated_RunStopsSayingSo()
    {
        var clip = FieldMedia.Clip("reopen-4s", 4, "flv");
        var other = FieldMedia.Clip("reopen-4s-640", 4, "flv", ["-c:v", "libx264", "-preset", "veryfast", "-s", "640x360"]);
        using var server = NginxRtmp.StartPrivate();
        var output = Path.Combine(_dir, "kept.ts");
        using var run = Run(server.Url("t"), output, "mpegts");
        using var second = PublishTwice(server, "t", run, clip, other, "the first session to end");
        var error = run.Failure(Patience);
        Assert.Multiple(() =>
        {
            Assert.That(error, Is.TypeOf<InjectionException>());
            Assert.That(error?.Message, Does.Contain("cannot take the new video stream").And.Contain("overwrite"));
            Assert.That(Frames(output), Is.EqualTo(Frames(clip)), "the file holds the first session, every frame");
            AssertDtsIncreasing(output);
        });
    }

    // Field test (2026-12-01): a live input that ended before its first video frame (a publisher gone within its first GOP,
    // or one that sent only audio) ended the run with exit 1, even mid-show after a reconnect. It is a drop: the next
    // publisher goes live.
    [Test]
    public void LiveInputEndingBeforeItsFirstVideoFrame_IsADrop_TheNextPublisherGoesLive()
    {
        var audioOnly = FieldMedia.Clip("audio-only-3s", 3, "flv", ["-vn"]);
        var clip = FieldMedia.Clip("reopen-4s", 4, "flv");
        using var server = NginxRtmp.StartPrivate();
        var output = Path.Combine(_dir, "after-audio.ts");
        using var run = Run(server.Url("a"), output, "mpegts");
        using var second = PublishTwice(server, "a", run, audioOnly, clip, "the audio-only session to end");
        run.WaitFor(e => e == "down Input", 2, "the second session to end", second);
        var report = run.Stop();
        Assert.Multiple(() =>
        {
            Assert.That(run.Events.Count(e => e == "up Output"), Is.EqualTo(1), "the output opened once, with the second session");
            Assert.That(Frames(output), Is.EqualTo(Frames(clip)), "the second session, every frame");
            Assert.That(report.Packets, Is.GreaterThan(0));
        });
    }

    [TestCase("out.ts", true)]
    [TestCase("/srv/show/out.flv", true)]
    [TestCase("file:out.ts", true)]
    [TestCase(@"C:\show\out.ts", true)]
    [TestCase("pipe:1", false)]
    [TestCase("rtmp://127.0.0.1/live/s", false)]
    [TestCase("srt://127.0.0.1:9000", false)]
    [TestCase("udp://127.0.0.1:1234", false)]
    public void IsFileUrl_TellsAFileFromAProtocol(string url, bool file) => Assert.That(MediaOutput.IsFileUrl(url), Is.EqualTo(file));

    // The frames' md5 split as the end of the clip followed by the clip's end again: the split, or null.
    private static int? SplitIntoTwoClipEnds(List<string> written, List<string> clip)
    {
        for (var i = 1; i < written.Count; i++)
            if (IsClipEnd(written.Take(i).ToList(), clip) && IsClipEnd(written.Skip(i).ToList(), clip) && written.Count - i > clip.Count / 2) return i;
        return null;

        static bool IsClipEnd(List<string> part, List<string> clip) => part.Count <= clip.Count && clip.Skip(clip.Count - part.Count).SequenceEqual(part);
    }

    // A publisher that comes back: FIRST is published once the run plays STREAM; when that session has ended at the
    // injector and the run plays again, SECOND is started and returned.
    private static FFmpegPublisher PublishTwice(NginxRtmp server, string stream, Session run, string first, string second, string firstEnds)
    {
        server.WaitForPlayers(stream, 1, Patience);
        using (var publisher = FFmpegPublisher.Start(first, server.Url(stream), "flv", loop: false))
            run.WaitFor(e => e == "down Input", 1, firstEnds, publisher);
        server.WaitForPlayers(stream, 2, Patience);
        return FFmpegPublisher.Start(second, server.Url(stream), "flv", loop: false);
    }

    private Session Run(string input, string output, string format)
    {
        var links = new Links();
        var log = new ConcurrentQueue<string>();
        var book = new CueBook(new CueBookOptions { StreamId = "reopen" });
        var pipeline = new InjectionPipeline(new PipelineOptions
        {
            InputUrl = input, OutputUrl = output, OutputFormat = format, ReconnectLinks = true, IoTimeout = TimeSpan.FromSeconds(30),
            Log = log.Enqueue,
        }, new CueSeiSource(book, new MessageSigner(_key)), links);
        var stop = new CancellationTokenSource();
        return new Session(Task.Run(() => pipeline.Run(stop.Token)), stop, links, log);
    }

    private static List<string> Frames(string path)
    {
        var r = FFmpegCli.Ffmpeg("-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "framemd5", "-").EnsureSuccess($"framemd5 of {path}");
        return r.StdOut.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(',').Last().Trim()).ToList();
    }

    private static List<JsonElement> Packets(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "packet=stream_index,dts", "-of", "json", path).EnsureSuccess("ffprobe packets");
        return JsonDocument.Parse(r.StdOut).RootElement.GetProperty("packets").EnumerateArray().ToList();
    }

    private static long PacketCount(string path) => Packets(path).Count;

    private static List<string> StreamKinds(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json", path).EnsureSuccess("ffprobe streams");
        return JsonDocument.Parse(r.StdOut).RootElement.GetProperty("streams").EnumerateArray()
            .Select(s => $"{s.GetProperty("codec_type").GetString()} {s.GetProperty("codec_name").GetString()}").ToList();
    }

    private static void AssertDtsIncreasing(string path)
    {
        foreach (var group in Packets(path).Where(p => p.TryGetProperty("dts", out _)).GroupBy(p => p.GetProperty("stream_index").GetInt32()))
        {
            var dts = group.Select(p => p.GetProperty("dts").GetInt64()).ToList();
            Assert.That(dts.Zip(dts.Skip(1)).All(p => p.Second > p.First), Is.True, $"stream {group.Key}: DTS strictly increasing");
        }
    }

    private sealed class Links : ILinkObserver
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public void Up(MediaDirection side, string url, bool reopened) => Events.Enqueue($"up {side}");

        public void Down(MediaDirection side, string reason, TimeSpan retryIn) => Events.Enqueue($"down {side}");
    }

    private sealed class Session(Task<PipelineReport> run, CancellationTokenSource stop, Links links, ConcurrentQueue<string> log) : IDisposable
    {
        public string Log => string.Join("\n", log);

        public List<string> Events => [.. links.Events];

        public void WaitFor(Func<string, bool> match, int count, string what, FFmpegPublisher publisher)
        {
            var deadline = Stopwatch.StartNew();
            while (links.Events.Count(match) < count)
            {
                if (deadline.Elapsed > Patience || run.IsCompleted) Assert.Fail($"timed out waiting for {what} (publisher exited: {publisher.HasExited}); events {string.Join(", ", links.Events)}\n{Log}");
                // Poll interval of the recorded events; the condition decides.
                run.Wait(TimeSpan.FromMilliseconds(50));
            }
        }

        public PipelineReport Stop()
        {
            stop.Cancel();
            Assert.That(run.Wait(Patience), Is.True, "the run stops when cancelled");
            return run.Result;
        }

        public Exception? Failure(TimeSpan patience)
        {
            try
            {
                run.Wait(patience);
            }
            catch (AggregateException e)
            {
                return e.InnerException;
            }
            return null;
        }

        public void Dispose()
        {
            stop.Cancel();
            try
            {
                run.Wait(Patience);
            }
            catch (AggregateException)
            {
            }
            stop.Dispose();
        }
    }
}
