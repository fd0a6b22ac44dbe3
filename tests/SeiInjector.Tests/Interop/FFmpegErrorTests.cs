using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Interop;

/// <summary>
/// Which side failed is part of the error, set where the call was made; the codes that mean "do not retry" are
/// FFmpeg's own (its <c>av_strerror</c> is the oracle for every constant); the input owns its context from birth.
/// </summary>
public partial class FFmpegErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Test]
    public void MissingInputFile_IsAnInputError_ThatNoRetryMends()
    {
        var e = Assert.Throws<FFmpegException>(() => MediaInput.Open("/nonexistent/clip.flv", null, Timeout))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Direction, Is.EqualTo(MediaDirection.Input));
            Assert.That(e.ErrorCode, Is.EqualTo(AvError.NoSuchFile));
            Assert.That(e.IsPermanent, Is.True);
        });
    }

    // A codec the muxer cannot carry (PCM 24-bit in FLV, on every FFmpeg release) fails the same way on every attempt: a
    // permanent output error naming the codec, so a live output stops with it instead of retrying the header forever.
    [Test]
    public void HeaderOfAMuxerThatCannotCarryTheCodec_IsAPermanentOutputError_NamingIt()
    {
        var input = TestMedia.GetOrMake("pcm24-for-flv.mkv", path => FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=1",
            "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-c:a", "pcm_s24le", "-f", "matroska", "-y", path).EnsureSuccess("the input"));
        using var source = MediaInput.Open(input, null, Timeout);
        var path = Path.Combine(TestMedia.Directory, $"pcm24-{Guid.NewGuid():N}.flv");
        using var output = MediaOutput.Create(path, "flv", Timeout);
        foreach (var stream in source.Streams) output.AddCopyOf(stream);
        var e = Assert.Throws<FFmpegException>(output.WriteHeader)!;
        File.Delete(path);
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.Contain("cannot carry pcm_s24le (stream #1)"));
            Assert.That(e.Direction, Is.EqualTo(MediaDirection.Output));
            Assert.That(e.IsPermanent, Is.True);
        });
    }

    [Test]
    public void UnknownFormatNames_AreErrorsOfTheirOwnSide()
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<FFmpegException>(() => MediaInput.Open(clip, "no-such-demuxer", Timeout))!.Direction, Is.EqualTo(MediaDirection.Input));
            Assert.That(Assert.Throws<FFmpegException>(() => MediaOutput.Create("/tmp/x.flv", "no-such-muxer", Timeout))!.Direction, Is.EqualTo(MediaDirection.Output));
        });
    }

    // The check a run makes before opening its input agrees with Create: what Create accepts passes, what it refuses is
    // refused with the same message, as a permanent output error.
    [TestCase("/tmp/out.flv", null)]
    [TestCase("/tmp/out.ts", null)]
    [TestCase("/tmp/out.mp4", null)]
    [TestCase("rtmp://127.0.0.1:1935/live/key", null)]
    [TestCase("pipe:1", "mpegts")]
    [TestCase("/tmp/out.xyz", null)]
    [TestCase("/tmp/out.flv", "no-such-muxer")]
    [TestCase("pipe:1", null)]
    [TestCase("srt://127.0.0.1:9000?mode=caller", null)]
    [TestCase("udp://127.0.0.1:9000", null)]
    [TestCase("tcp://127.0.0.1:9000", null)]
    [TestCase("RTMP://127.0.0.1/live/key", null)]
    [TestCase("/tmp/frame-%03d.png", null)]
    [TestCase("/tmp/OUT.FLV", null)]
    public void CheckFormat_AgreesWithCreate(string url, string? format)
    {
        FFmpegException? created = null;
        try
        {
            MediaOutput.Create(url, format, Timeout).Dispose();
        }
        catch (FFmpegException e)
        {
            created = e;
        }
        FFmpegException? checkedError = null;
        try
        {
            MediaOutput.CheckFormat(url, format);
        }
        catch (FFmpegException e)
        {
            checkedError = e;
        }
        Assert.Multiple(() =>
        {
            Assert.That(checkedError is null, Is.EqualTo(created is null), "the check passes exactly where Create succeeds");
            if (created is null || checkedError is null) return;
            Assert.That(checkedError.Message, Is.EqualTo(created.Message));
            Assert.That(checkedError.Direction, Is.EqualTo(MediaDirection.Output));
            Assert.That(checkedError.IsPermanent, Is.True);
        });
    }

    // The operation text says "opening output", as the old message-parsing guess wanted, but the direction does not
    // depend on it: an output whose URL looks like an input's is still the output.
    [Test]
    public void OutputFolderThatDoesNotExist_IsAnOutputError_ThatNoRetryMends()
    {
        using var input = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, Timeout);
        using var output = MediaOutput.Create("/nonexistent/folder/out.flv", null, Timeout);
        foreach (var stream in input.Streams) output.AddCopyOf(stream);
        var e = Assert.Throws<FFmpegException>(output.WriteHeader)!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Direction, Is.EqualTo(MediaDirection.Output));
            Assert.That(e.ErrorCode, Is.EqualTo(AvError.NoSuchFile));
            Assert.That(e.IsPermanent, Is.True);
        });
    }

    [Test]
    public void RefusedOutputConnection_IsAnOutputError_WorthAnotherAttempt()
    {
        using var input = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, Timeout);
        // A port held bound but not listening refuses every connection, and no other process can listen on it meanwhile
        // (a port probed free and released could be taken by another test assembly running at the same time).
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        held.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var output = MediaOutput.Create($"rtmp://127.0.0.1:{((IPEndPoint)held.LocalEndPoint!).Port}/live/nobody-listens", null, Timeout);
        foreach (var stream in input.Streams) output.AddCopyOf(stream);
        var e = Assert.Throws<FFmpegException>(output.WriteHeader)!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Direction, Is.EqualTo(MediaDirection.Output));
            Assert.That(e.IsPermanent, Is.False, e.Message);
        });
    }

    [Test]
    public void PacketTheMuxerRefuses_IsAnOutputError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"catevening-direction-{Guid.NewGuid():N}.flv");
        try
        {
            using var input = MediaInput.Open(TestMedia.Get(VideoProfile.H264Main, Container.Flv), null, Timeout);
            using var output = MediaOutput.Create(path, null, Timeout);
            foreach (var stream in input.Streams) output.AddCopyOf(stream);
            output.WriteHeader();
            using var packet = new Packet();
            while (input.Read(packet) == ReadResult.Packet && packet.StreamIndex != 0) packet.Unref();
            packet.RescaleTimestamps(input.Streams[0].TimeBase, output.Streams[0].TimeBase);
            packet.Dts = packet.Pts = 1000;
            output.Write(packet);
            packet.Dts = packet.Pts = 10; // backwards: FLV's muxer refuses a DTS that goes back
            var e = Assert.Throws<FFmpegException>(() => output.Write(packet))!;
            Assert.That(e.Direction, Is.EqualTo(MediaDirection.Output), e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TryAgain_IsThisPlatformsEagain()
    {
        // strerror(EAGAIN) reads the same in glibc, musl and Darwin's libc; strerror(11) on macOS is "Resource deadlock
        // avoided" and strerror(35) on Linux is too: a value from the wrong errno.h names the wrong error.
        Assert.Multiple(() =>
        {
            Assert.That(Marshal.GetPInvokeErrorMessage(-AvError.TryAgain), Is.EqualTo("Resource temporarily unavailable"));
            Assert.That(AvError.Describe(AvError.TryAgain), Is.EqualTo("Resource temporarily unavailable"));
            Assert.That(AvError.Describe(AvError.NotImplemented), Is.EqualTo("Function not implemented"));
        });
    }

    [TestCase(AvError.NotPermitted, "Operation not permitted")]
    [TestCase(AvError.NoSuchFile, "No such file or directory")]
    [TestCase(AvError.AccessDenied, "Permission denied")]
    [TestCase(AvError.InvalidArgument, "Invalid argument")]
    [TestCase(AvError.ProtocolNotFound, "Protocol not found")]
    [TestCase(AvError.DemuxerNotFound, "Demuxer not found")]
    [TestCase(AvError.MuxerNotFound, "Muxer not found")]
    [TestCase(AvError.OptionNotFound, "Option not found")]
    [TestCase(AvError.HttpBadRequest, "Server returned 400 Bad Request")]
    [TestCase(AvError.HttpUnauthorized, "Server returned 401 Unauthorized (authorization failed)")]
    [TestCase(AvError.HttpForbidden, "Server returned 403 Forbidden (access denied)")]
    [TestCase(AvError.HttpNotFound, "Server returned 404 Not Found")]
    public void ConfigurationErrors_AreFFmpegsCodes_AndAreNotRetried(int code, string ffmpegText)
    {
        Assert.Multiple(() =>
        {
            Assert.That(AvError.Describe(code), Is.EqualTo(ffmpegText));
            Assert.That(AvError.IsConfigurationError(code), Is.True);
            Assert.That(new FFmpegException("opening output x", code, ffmpegText, MediaDirection.Output).IsPermanent, Is.True);
        });
    }

    [TestCase(AvError.EndOfFile, "End of file")]
    [TestCase(AvError.PatchWelcome, "Not yet implemented in FFmpeg, patches welcome")]
    [TestCase(AvError.Exit, "Immediate exit requested")]
    [TestCase(-32, "Broken pipe")]
    [TestCase(-5, "Input/output error")]
    [TestCase(-1094995529, "Invalid data found when processing input")]
    public void LinkAndDataErrors_AreWorthAnotherAttempt(int code, string ffmpegText)
    {
        Assert.Multiple(() =>
        {
            Assert.That(AvError.Describe(code), Is.EqualTo(ffmpegText));
            Assert.That(AvError.IsConfigurationError(code), Is.False);
            Assert.That(AvError.IsConfigurationError(AvError.TryAgain), Is.False);
        });
    }

    // Before the fix, an option that failed between avformat_alloc_context and avformat_open_input leaked the context
    // (a few kilobytes each time). The C heap in use (glibc's mallinfo2, every arena) must not grow with the failures.
    // mallinfo2 sees the whole process, and threads other tests left running (FFmpeg, the crypto library, servers)
    // allocate too: a leak grows the heap in every round, that noise does not, so the smallest of three rounds' growth
    // is what the failures cost. 3000 failures leaking even 500 bytes each would grow every round by 1.5 MB.
    [Test]
    public void FailingOptionWhileOpening_FreesTheFormatContext()
    {
        Assume.That(OperatingSystem.IsLinux(), "mallinfo2 is glibc's");
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        FFmpegException? error = null;
        void Fail(int times)
        {
            for (var i = 0; i < times; i++)
                error = Assert.Throws<FFmpegException>(() => MediaInput.Open(clip, null, Timeout, analyzeDuration: TimeSpan.FromSeconds(-1)));
        }
        long Settled()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return HeapInUse();
        }
        const int PerRound = 3000;
        Fail(200);
        var rounds = new List<long>();
        for (var round = 0; round < 3; round++)
        {
            var before = Settled();
            Fail(PerRound);
            rounds.Add(Settled() - before);
        }
        Assert.Multiple(() =>
        {
            Assert.That(error!.Direction, Is.EqualTo(MediaDirection.Input));
            Assert.That(error.Message, Does.Contain("analyzeduration"));
            Assert.That(rounds.Min(), Is.LessThan(PerRound * 500),
                $"the C heap grew in every round of {PerRound} failed opens: {string.Join(", ", rounds)} bytes");
        });
    }

    private static long HeapInUse()
    {
        var info = MallInfo2();
        return (long)(info.Uordblks + info.Hblkhd);
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo MallInfo2();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }
}
