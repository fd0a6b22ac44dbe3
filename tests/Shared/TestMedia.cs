namespace CatEvening.Tests.Shared;

/// <summary>The video codec configurations the tests exercise, each made by the real encoder.</summary>
public enum VideoProfile
{
    /// <summary>x264 baseline: CAVLC, no B-frames.</summary>
    H264Baseline,
    /// <summary>x264 main: CABAC, B-frames.</summary>
    H264Main,
    /// <summary>x264 high with a B-pyramid.</summary>
    H264HighBPyramid,
    /// <summary>x264 high with four slices per frame.</summary>
    H264Slices,
    /// <summary>x264 high, interlaced (field-coded, top field first).</summary>
    H264Interlaced,
    /// <summary>x264 high10, 10-bit 4:2:0.</summary>
    H264High10,
    /// <summary>x265 main.</summary>
    H265Main,
    /// <summary>x265 main10.</summary>
    H265Main10,
}

/// <summary>The containers a clip may be wrapped in.</summary>
public enum Container
{
    /// <summary>Raw elementary stream in Annex B byte-stream form (.h264 / .h265), no audio.</summary>
    AnnexB,
    /// <summary>MPEG-TS with AAC audio (Annex B video).</summary>
    MpegTs,
    /// <summary>MP4 with AAC audio (length-prefixed video, avcC/hvcC).</summary>
    Mp4,
    /// <summary>Matroska with AAC audio (length-prefixed video).</summary>
    Mkv,
    /// <summary>FLV with AAC audio (length-prefixed video; H.264 only on FFmpeg 5.1).</summary>
    Flv,
}

/// <summary>
/// Short real clips made once per test run with the ffmpeg CLI (x264/x265), shared by every test process.
/// They live in <c>.test-media/</c> at the repository root (or <c>$CATEVENING_TEST_MEDIA</c>); <c>make test</c>
/// empties that folder first, so each run makes its media afresh.
/// </summary>
public static class TestMedia
{
    /// <summary>Frames per clip: 2 s at 25 fps, enough for two GOPs and the B-frame reordering.</summary>
    public const int FrameCount = 50;

    /// <summary>Frame rate of every clip.</summary>
    public const int FrameRate = 25;

    public static IEnumerable<VideoProfile> AllProfiles => Enum.GetValues<VideoProfile>();

    public static bool IsHevc(VideoProfile p) => p is VideoProfile.H265Main or VideoProfile.H265Main10;

    /// <summary>Every (profile, container) pair that FFmpeg 5.1 can mux.</summary>
    public static IEnumerable<(VideoProfile, Container)> AllCombinations() =>
        from p in AllProfiles
        from c in Enum.GetValues<Container>()
        where !(c == Container.Flv && IsHevc(p))
        select (p, c);

    public static string Directory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("CATEVENING_TEST_MEDIA");
            var dir = string.IsNullOrEmpty(env) ? Path.Combine(RepositoryRoot, ".test-media") : env;
            System.IO.Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>The folder holding CatEvening.sln, found by walking up from the test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "CatEvening.sln"))) return d.FullName;
            throw new InvalidOperationException("CatEvening.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Path of the clip, made now under a cross-process lock if this run has not made it yet.</summary>
    public static string Get(VideoProfile profile, Container container)
    {
        var name = $"{profile}.{Extension(profile, container)}";
        return GetOrMake(name, path => Make(profile, container, path));
    }

    /// <summary>
    /// Path of a file in the media folder, made by <paramref name="make"/> under a cross-process lock when absent.
    /// <paramref name="make"/> writes to the path it is given; the file is renamed into place only when complete.
    /// </summary>
    public static string GetOrMake(string name, Action<string> make)
    {
        var path = Path.Combine(Directory, name);
        if (File.Exists(path)) return path;
        using var gate = AcquireLock(path + ".lock");
        if (File.Exists(path)) return path;
        var tmp = Path.Combine(Directory, "tmp-" + Guid.NewGuid().ToString("N") + Path.GetExtension(name));
        try
        {
            make(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return path;
    }

    private static FileStream AcquireLock(string lockPath)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                // The lock file stays (make test empties the folder): with DeleteOnClose the holder unlinks it before it
                // lets go, so a process that opened the old file just before could lock it while a third creates and
                // locks a new one, and two processes would both hold "the" lock.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static string Extension(VideoProfile p, Container c) => c switch
    {
        Container.AnnexB => IsHevc(p) ? "h265" : "h264",
        Container.MpegTs => "ts",
        Container.Mp4 => "mp4",
        Container.Mkv => "mkv",
        Container.Flv => "flv",
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    private static string[] EncoderArgs(VideoProfile p) => p switch
    {
        VideoProfile.H264Baseline => ["-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
        VideoProfile.H264Main => ["-c:v", "libx264", "-profile:v", "main", "-pix_fmt", "yuv420p", "-bf", "2"],
        VideoProfile.H264HighBPyramid => ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-bf", "3", "-x264-params", "b-pyramid=normal"],
        VideoProfile.H264Slices => ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-x264-params", "slices=4"],
        VideoProfile.H264Interlaced => ["-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-flags", "+ildct+ilme", "-x264-params", "interlaced=1:tff=1"],
        VideoProfile.H264High10 => ["-c:v", "libx264", "-profile:v", "high10", "-pix_fmt", "yuv420p10le"],
        VideoProfile.H265Main => ["-c:v", "libx265", "-profile:v", "main", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error:bframes=3"],
        VideoProfile.H265Main10 => ["-c:v", "libx265", "-profile:v", "main10", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=error"],
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    private static void Make(VideoProfile p, Container c, string output)
    {
        var args = new List<string> { "-v", "error", "-y",
            "-f", "lavfi", "-i", $"testsrc2=size=320x240:rate={FrameRate}:duration={FrameCount / (double)FrameRate}" };
        if (c != Container.AnnexB)
            args.AddRange(["-f", "lavfi", "-i", $"sine=frequency=440:sample_rate=48000:duration={FrameCount / (double)FrameRate}"]);
        args.AddRange(EncoderArgs(p));
        args.AddRange(["-g", "25", "-preset", "veryfast"]);
        if (c != Container.AnnexB) args.AddRange(["-c:a", "aac", "-b:a", "64k"]);
        args.AddRange(c switch
        {
            Container.AnnexB => new[] { "-f", IsHevc(p) ? "hevc" : "h264" },
            Container.MpegTs => ["-f", "mpegts"],
            Container.Mp4 => ["-f", "mp4"],
            Container.Mkv => ["-f", "matroska"],
            Container.Flv => ["-f", "flv"],
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        });
        args.Add(output);
        FFmpegCli.Ffmpeg([.. args]).EnsureSuccess($"making {p} in {c}");
    }
}
