using System.Net;
using System.Net.Sockets;
using CatEvening.FFmpegInterop;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Interop;

/// <summary>
/// The managed RTMP client against the real nginx-rtmp, with FFmpeg's own RTMP client as the oracle: what one publishes
/// the other reads back packet for packet, frames identical (<c>-f framemd5</c>), timestamps past the 24-bit field
/// included; failures name the side and the cause, and a stalled server times out.
/// </summary>
/// <remarks>nginx-rtmp starts each player's timestamps where it joined (the first packet it sends is at 0), so
/// timestamps are compared from each stream's first packet: a wrong extended timestamp on the publishing leg would
/// still show as wrong spacing.</remarks>
[TestFixture]
[NonParallelizable]
public class RtmpClientTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);

    private sealed record ReadPacket(int Stream, long Pts, long Dts, bool Key, string Md5);

    // Reads every packet of the stream until it ends (the publisher's unpublish ends a play with end of file).
    private static List<ReadPacket> ReadAll(MediaInput input)
    {
        var packets = new List<ReadPacket>();
        using var packet = new Packet();
        for (var i = 0; i < 100_000 && input.Read(packet) == ReadResult.Packet; i++)
        {
            packets.Add(new ReadPacket(packet.StreamIndex, packet.Pts, packet.Dts, packet.IsKeyframe,
                Convert.ToHexString(System.Security.Cryptography.MD5.HashData(packet.Data))));
            packet.Unref();
        }
        return packets;
    }

    // Each stream's timestamps from its first packet's DTS.
    private static List<ReadPacket> Relative(List<ReadPacket> packets, int stream)
    {
        var mine = packets.Where(p => p.Stream == stream).ToList();
        var first = mine.Count > 0 ? mine[0].Dts : 0;
        return mine.Select(p => p with { Pts = p.Pts - first, Dts = p.Dts - first }).ToList();
    }

    private static List<ReadPacket> ReadFile(string path)
    {
        using var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30));
        return ReadAll(input);
    }

    [TestCase(0, RtmpClient.Managed)]
    [TestCase(16_777, RtmpClient.Managed)]   // 4 h 39 min: the timestamps cross 0xFFFFFF ms and travel as extended timestamps
    [TestCase(0, RtmpClient.FFmpeg)]
    public void Play_ReadsWhatFFmpegPublished_PacketForPacket(int startSeconds, RtmpClient client)
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        var source = Shifted(clip, startSeconds);
        using var server = NginxRtmp.StartShared();
        var stream = "managed-play-" + Guid.NewGuid().ToString("N")[..8];
        var players = server.ErrorLog.Split('\n').Count(l => l.Contains($"play: name='{stream}'", StringComparison.Ordinal));
        var read = Task.Run(() =>
        {
            using var input = MediaInput.Open(server.Url(stream), null, TimeSpan.FromSeconds(60), rtmpClient: client);
            return (input.FormatName, Packets: ReadAll(input));
        });
        server.WaitForPlayers(stream, players + 1, EventTimeout);
        FFmpegCli.Ffmpeg("-v", "error", "-re", "-i", source, "-c", "copy", "-f", "flv", server.Url(stream)).EnsureSuccess("publishing");
        Assert.That(read.Wait(EventTimeout), Is.True, "the managed player did not end with the stream:\n" + server.ErrorLog);
        var expected = ReadFile(source);
        var (format, packets) = read.Result;
        Assert.Multiple(() =>
        {
            Assert.That(format, Does.Contain("flv"));
            Assert.That(Relative(packets, 0), Is.EqualTo(Relative(expected, 0)), "video packets");
            Assert.That(Relative(packets, 1), Is.EqualTo(Relative(expected, 1)), "audio packets");
        });
    }

    // CI, 2026-12-02: nginx-rtmp sends a joining player its metadata as an anonymous object listing audiocodecid 0. The
    // managed client took that for the stream list and announced audio in the FLV header of a video-only stream, so
    // FFmpeg's FLV demuxer waited for audio: the probe of the open read for up to 90 s (the whole of a 16 s publication
    // in latency-probe's reconnect test) instead of 5 s. FFmpeg's client takes only an ECMA array for that.
    [Test]
    public void Play_JoiningAVideoOnlyStreamMidStream_HandsTheDemuxerTheHeaderAndMetadataFFmpegsClientDoes()
    {
        using var server = NginxRtmp.StartShared();
        var stream = "managed-join-" + Guid.NewGuid().ToString("N")[..8];
        using var publisher = FFmpegPublisher.Start(VideoOnly(), server.Url(stream));
        server.WaitForPublishers(stream, 1, EventTimeout);
        // The FLV header (13 bytes) and nginx's first two data messages to a joining player (|RtmpSampleAccess, then its
        // metadata object), each an 11-byte tag header, the body and a 4-byte back pointer. Media follows from a keyframe,
        // at a moment that differs between the two players, so it is not compared.
        var managed = FirstFlvTags(ReadFlvBytes(server.Url(stream), RtmpClient.Managed, 4096), 2);
        var ffmpeg = FirstFlvTags(ReadFlvBytes(server.Url(stream), RtmpClient.FFmpeg, 4096), 2);
        Assert.Multiple(() =>
        {
            Assert.That(System.Text.Encoding.ASCII.GetString(ffmpeg), Does.Contain("onMetaData"), "the oracle's first tags hold the stream's metadata");
            Assert.That(managed[4], Is.EqualTo(0x01), "FLV header flags (audio 4, video 1) of a video-only stream");
            Assert.That(Convert.ToHexString(managed), Is.EqualTo(Convert.ToHexString(ffmpeg)));
        });
    }

    [Test]
    public void Play_BothClientsFromTheFirstPacket_HandTheDemuxerTheSameBytes()
    {
        // Both players wait before the publisher comes, so nginx sends each the same messages: the two FLV byte streams,
        // every tag to the end of the stream, must be identical.
        using var server = NginxRtmp.StartShared();
        var stream = "managed-bytes-" + Guid.NewGuid().ToString("N")[..8];
        var players = server.ErrorLog.Split('\n').Count(l => l.Contains($"play: name='{stream}'", StringComparison.Ordinal));
        var managed = Task.Run(() => ReadFlvBytes(server.Url(stream), RtmpClient.Managed, int.MaxValue));
        var ffmpeg = Task.Run(() => ReadFlvBytes(server.Url(stream), RtmpClient.FFmpeg, int.MaxValue));
        server.WaitForPlayers(stream, players + 2, EventTimeout);
        FFmpegCli.Ffmpeg("-v", "error", "-re", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-c", "copy", "-f", "flv", server.Url(stream))
            .EnsureSuccess("publishing");
        Assert.That(Task.WaitAll([managed, ffmpeg], EventTimeout), Is.True, "a player did not end with the stream:\n" + server.ErrorLog);
        Assert.Multiple(() =>
        {
            Assert.That(ffmpeg.Result, Has.Length.GreaterThan(50_000), "the oracle read the stream");
            Assert.That(managed.Result.Length, Is.EqualTo(ffmpeg.Result.Length), "bytes");
            Assert.That(managed.Result.AsSpan().SequenceEqual(ffmpeg.Result), Is.True,
                $"first difference at byte {managed.Result.AsSpan().CommonPrefixLength(ffmpeg.Result)}");
        });
    }

    [TestCase(RtmpClient.Managed)]
    [TestCase(RtmpClient.FFmpeg)]
    public void Open_WhoseStreamProbeOutlastsTheIoTimeout(RtmpClient client)
    {
        // An 8 s probe of a live stream paced in real time takes 8 s; the I/O timeout is 3 s. The managed client counts
        // the timeout from the last bytes that arrived (FFmpeg's rw_timeout), so the open succeeds; FFmpeg's client is
        // stopped 3 s into the call, and the open says so instead of handing over an input whose reads would all fail.
        using var server = NginxRtmp.StartShared();
        var stream = "managed-probe-" + Guid.NewGuid().ToString("N")[..8];
        using var publisher = FFmpegPublisher.Start(VideoOnly(), server.Url(stream));
        server.WaitForPublishers(stream, 1, EventTimeout);
        var url = server.Url(stream);
        if (client == RtmpClient.Managed)
        {
            using var input = MediaInput.Open(url, null, TimeSpan.FromSeconds(3), analyzeDuration: TimeSpan.FromSeconds(8), rtmpClient: client);
            using var packet = new Packet();
            var read = 0;
            for (; read < 300 && input.Read(packet) == ReadResult.Packet; read++) packet.Unref();
            Assert.That(read, Is.EqualTo(300), "the probed packets and the live ones after them");
        }
        else
        {
            var e = Assert.Throws<FFmpegException>(() => MediaInput.Open(url, null, TimeSpan.FromSeconds(3), analyzeDuration: TimeSpan.FromSeconds(8), rtmpClient: client))!;
            Assert.Multiple(() =>
            {
                Assert.That(e.Message, Does.StartWith($"reading stream information of {url}: no progress for 3 s (I/O timeout)"));
                Assert.That((e.Direction, e.IsPermanent), Is.EqualTo((MediaDirection.Input, false)));
            });
        }
    }

    // The H.264 clip without its audio (stream copy).
    private static string VideoOnly()
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        return TestMedia.GetOrMake($"{Path.GetFileNameWithoutExtension(clip)}-video-only.flv", path =>
            FFmpegCli.Ffmpeg("-v", "error", "-i", clip, "-map", "0:v", "-c", "copy", "-f", "flv", "-y", path).EnsureSuccess("dropping the audio of " + clip));
    }

    // The FLV header and the first COUNT tags of an FLV byte stream.
    private static byte[] FirstFlvTags(byte[] flv, int count)
    {
        var end = 13;
        for (var i = 0; i < count; i++)
        {
            Assert.That(flv.Length, Is.GreaterThanOrEqualTo(end + 11), $"the header of tag {i + 1}");
            var size = (flv[end + 1] << 16) | (flv[end + 2] << 8) | flv[end + 3];
            end += 11 + size + 4;
            Assert.That(flv.Length, Is.GreaterThanOrEqualTo(end), $"tag {i + 1} whole");
        }
        return flv[..end];
    }

    // The FLV byte stream one client hands FFmpeg's demuxer, until the stream ends or maxBytes were read: the managed
    // play session, or FFmpeg's rtmp protocol read through avio_open2/avio_read.
    private static unsafe byte[] ReadFlvBytes(string url, RtmpClient client, int maxBytes)
    {
        FFmpegLibrary.EnsureLoaded();
        using var guard = new InterruptGuard(TimeSpan.FromSeconds(60));
        guard.Arm();
        var bytes = new MemoryStream();
        var buffer = new byte[64 * 1024];
        if (client == RtmpClient.Managed)
        {
            Assert.That(CatEvening.FFmpegInterop.Rtmp.RtmpUrl.TryParse(url, out var parsed), Is.True);
            using var session = CatEvening.FFmpegInterop.Rtmp.RtmpPlaySession.Open(parsed, guard, url);
            for (var i = 0; i < 1_000_000 && bytes.Length < maxBytes; i++)
            {
                guard.Arm();
                var count = session.Read(buffer);
                if (count == 0) break;
                bytes.Write(buffer, 0, count);
            }
            return bytes.ToArray();
        }
        nint io = 0;
        var opened = CatEvening.FFmpegInterop.Native.AvFormat.avio_open2(ref io, url, 1 /* AVIO_FLAG_READ */, guard.Native, 0);
        Assert.That(opened, Is.GreaterThanOrEqualTo(0), $"FFmpeg's rtmp protocol opening {url}: {AvError.Describe(opened)}");
        try
        {
            for (var i = 0; i < 1_000_000 && bytes.Length < maxBytes; i++)
            {
                guard.Arm();
                int count;
                fixed (byte* p = buffer) count = CatEvening.FFmpegInterop.Native.AvFormat.avio_read(io, p, buffer.Length);
                if (count <= 0) break;
                bytes.Write(buffer, 0, count);
            }
        }
        finally
        {
            CatEvening.FFmpegInterop.Native.AvFormat.avio_closep(ref io);
        }
        return bytes.ToArray();
    }

    [TestCase(0, RtmpClient.Managed)]
    [TestCase(16_777, RtmpClient.Managed)]
    [TestCase(16_777, RtmpClient.FFmpeg)]
    public void Publish_IsReadBackByFFmpeg_FramesIdentical(int startSeconds, RtmpClient client)
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        var source = Shifted(clip, startSeconds);
        using var server = NginxRtmp.StartShared();
        var stream = "managed-publish-" + Guid.NewGuid().ToString("N")[..8];
        var pulled = Path.Combine(Path.GetTempPath(), $"catevening-managed-{Guid.NewGuid():N}.flv");
        var players = server.ErrorLog.Split('\n').Count(l => l.Contains($"play: name='{stream}'", StringComparison.Ordinal));
        var reader = Task.Run(() => FFmpegCli.Ffmpeg("-v", "error", "-rw_timeout", "60000000", "-i", server.Url(stream), "-c", "copy", "-f", "flv", "-y", pulled));
        try
        {
            server.WaitForPlayers(stream, players + 1, EventTimeout);
            Publish(source, server.Url(stream), client);
            Assert.That(reader.Wait(EventTimeout), Is.True, "ffmpeg did not end with the stream:\n" + server.ErrorLog);
            reader.Result.EnsureSuccess("pulling");
            var expected = ReadFile(source);
            var got = ReadFile(pulled);
            Assert.Multiple(() =>
            {
                Assert.That(FFmpegCli.VideoFrameMd5(pulled), Is.EqualTo(FFmpegCli.VideoFrameMd5(source)));
                Assert.That(Relative(got, 0).Select(p => (p.Pts, p.Dts)), Is.EqualTo(Relative(expected, 0).Select(p => (p.Pts, p.Dts))), "video timestamps");
                Assert.That(got.Where(p => p.Stream == 1).Select(p => p.Md5), Is.EqualTo(expected.Where(p => p.Stream == 1).Select(p => p.Md5)), "audio packets");
            });
        }
        finally
        {
            File.Delete(pulled);
        }
    }

    // An output nothing is written to (the injector's input is down) finds out that the server closed the link without a
    // write: the managed client, which owns the socket. FFmpeg's protocol cannot be asked; its next write finds out.
    [TestCase(RtmpClient.Managed)]
    [TestCase(RtmpClient.FFmpeg)]
    public void IdleOutput_ServerGoneMeanwhile_IsFoundWithoutAWrite(RtmpClient client)
    {
        using var server = NginxRtmp.StartPrivate();
        using var source = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, TimeSpan.FromSeconds(5));
        using var output = MediaOutput.Create(server.Url("idle"), "flv", TimeSpan.FromSeconds(10), client);
        output.AddCopyOf(source.Streams[0]);
        output.WriteHeader();
        server.WaitForPublishers("idle", 1, EventTimeout);
        Assert.DoesNotThrow(output.CheckIdleLink, "the server is up");
        server.Stop();
        if (client == RtmpClient.FFmpeg)
        {
            Assert.DoesNotThrow(output.CheckIdleLink, "FFmpeg's protocol: nothing to ask");
            return;
        }
        // Stop returns once nginx exited, so its close has reached this socket (loopback); checked a bounded number of
        // times all the same, as the check is meant to be called repeatedly.
        FFmpegException? found = null;
        for (var i = 0; i < 500 && found is null; i++)
        {
            try
            {
                output.CheckIdleLink();
                Thread.Sleep(10);
            }
            catch (FFmpegException e)
            {
                found = e;
            }
        }
        Assert.That(found, Is.Not.Null, "the server's close was never found");
        Assert.Multiple(() =>
        {
            Assert.That((found!.Direction, found.IsPermanent), Is.EqualTo((MediaDirection.Output, false)));
            Assert.That(found.Message, Does.Contain("checking the idle output rtmp://").And.Match("closed the connection|reset"));
        });
    }

    [Test]
    public void RefusedConnection_FailsOnItsSide_WorthARetry_NamingTheCause()
    {
        var port = NginxRtmp.FreeTcpPort();
        var input = Assert.Throws<FFmpegException>(() => MediaInput.Open($"rtmp://127.0.0.1:{port}/live/x", null, TimeSpan.FromSeconds(5)))!;
        using var output = MediaOutput.Create($"rtmp://127.0.0.1:{port}/live/x", null, TimeSpan.FromSeconds(5));
        using var source = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, TimeSpan.FromSeconds(5));
        output.AddCopyOf(source.Streams[0]);
        var write = Assert.Throws<FFmpegException>(output.WriteHeader)!;
        Assert.Multiple(() =>
        {
            Assert.That((input.Direction, write.Direction), Is.EqualTo((MediaDirection.Input, MediaDirection.Output)));
            Assert.That(input.IsPermanent || write.IsPermanent, Is.False, "a server that is down may come back");
            Assert.That(input.Message, Does.Contain("opening input rtmp://127.0.0.1").And.Contain("refused").IgnoreCase);
            Assert.That(write.Message, Does.Contain("opening output rtmp://127.0.0.1").And.Contain("refused").IgnoreCase);
        });
    }

    // Field test (2026-12-01): a stale session still publishing the name made FFmpeg's client fail with EPERM, which is
    // not retried, so the injector exited 1; the managed client named the refusal and retried.
    [TestCase(RtmpClient.Managed)]
    [TestCase(RtmpClient.FFmpeg)]
    public void NameAlreadyPublishing_IsARefusalWorthARetry(RtmpClient client)
    {
        using var server = NginxRtmp.StartShared();
        var stream = "squatted-" + Guid.NewGuid().ToString("N")[..8];
        using var squatter = FFmpegPublisher.Start(TestMedia.Get(VideoProfile.H264Main, Container.Flv), server.Url(stream));
        server.WaitForPublishers(stream, 1, EventTimeout);
        using var source = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, TimeSpan.FromSeconds(5));
        using var output = MediaOutput.Create(server.Url(stream), null, TimeSpan.FromSeconds(10), client);
        output.AddCopyOf(source.Streams[0]);
        var e = Assert.Throws<FFmpegException>(output.WriteHeader)!;
        Assert.Multiple(() =>
        {
            Assert.That((e.Direction, e.IsPermanent), Is.EqualTo((MediaDirection.Output, false)));
            if (client == RtmpClient.Managed) Assert.That(e.Message, Does.Contain("NetStream.Publish.BadName"));
        });
    }

    [Test]
    public void ServerThatNeverAnswers_TimesOut_AndACancelStopsAWaitingOpen()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var url = $"rtmp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/live/x";
        var timeout = Assert.Throws<FFmpegException>(() => MediaInput.Open(url, null, TimeSpan.FromSeconds(1)))!;
        Assert.That(timeout.WasInterrupted, Is.True);
        Assert.That(timeout.Message, Does.StartWith($"opening input {url}: no progress for 1 s (I/O timeout)"));

        using var cancel = new CancellationTokenSource();
        var open = Task.Run(() => MediaInput.Open(url, null, TimeSpan.FromMinutes(10), cancellation: cancel.Token));
        Assert.That(open.Wait(TimeSpan.FromMilliseconds(300)), Is.False, "nothing answers, so the open waits");
        cancel.Cancel();
        var cancelled = Assert.Throws<AggregateException>(() => open.Wait(EventTimeout))!.InnerException as FFmpegException;
        Assert.That(cancelled?.Message, Does.StartWith($"opening input {url}: cancelled"));
    }

    [Test]
    public void ConnectThatGetsNoAnswer_IsStoppedByTheTimeout()
    {
        // A listener that never accepts, its queue filled: the kernel drops further SYNs, so a connect waits for an
        // answer that does not come (as with a firewalled host) until the client gives up.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(endpoint);
            }
            var url = $"rtmp://127.0.0.1:{endpoint.Port}/live/x";
            var open = Task.Run(() => MediaInput.Open(url, null, TimeSpan.FromSeconds(1)));
            Assert.That(open.ContinueWith(_ => { }).Wait(TimeSpan.FromSeconds(30)), Is.True, "the open did not stop within 30 s of its 1 s timeout");
            var e = open.Exception?.InnerException as FFmpegException;
            Assert.That(e?.Message, Does.StartWith($"opening input {url}: no progress for 1 s (I/O timeout)"));
        }
        finally
        {
            foreach (var filler in fillers) filler.Dispose();
        }
    }

    // Writes every packet of a file to an output, as the injector's stream copy does.
    private static void Publish(string path, string url, RtmpClient client)
    {
        using var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30));
        using var output = MediaOutput.Create(url, "flv", TimeSpan.FromSeconds(30), client);
        foreach (var s in input.Streams) output.AddCopyOf(s);
        output.WriteHeader();
        using var packet = new Packet();
        var started = System.Diagnostics.Stopwatch.StartNew();
        long? first = null;
        while (input.Read(packet) == ReadResult.Packet)
        {
            var inStream = input.Streams[packet.StreamIndex];
            var outStream = output.Streams[packet.StreamIndex];
            // Real time, as a live source sends (nginx-rtmp drops nothing either way; the reader sees a live stream).
            var ms = packet.Dts * 1000 * inStream.TimeBase.Numerator / inStream.TimeBase.Denominator;
            first ??= ms;
            var wait = ms - first.Value - started.ElapsedMilliseconds;
            if (wait > 0) Thread.Sleep((int)Math.Min(wait, 1000));
            packet.RescaleTimestamps(inStream.TimeBase, outStream.TimeBase);
            output.Write(packet);
            packet.Unref();
        }
        output.WriteTrailer();
    }

    // The clip with every timestamp moved later by whole seconds (stream copy).
    private static string Shifted(string clip, int seconds)
    {
        if (seconds == 0) return clip;
        return TestMedia.GetOrMake($"{Path.GetFileNameWithoutExtension(clip)}-at{seconds}s.flv", path =>
            FFmpegCli.Ffmpeg("-v", "error", "-i", clip, "-c", "copy", "-output_ts_offset", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-f", "flv", "-y", path).EnsureSuccess("shifting " + clip));
    }
}
