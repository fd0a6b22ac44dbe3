using System.Diagnostics;
using CatEvening.SeiReader.Bitstream;

namespace CatEvening.Benchmarks.Bitstream;

/// <summary>
/// Real x264 streams for the bitstream benchmarks, made once with the ffmpeg CLI and kept in
/// <c>artifacts/bench-media/</c> (every benchmark process reuses them).
/// </summary>
internal static class BenchmarkMedia
{
    /// <summary>
    /// 720p, 6 s, CABAC, B-frames, film grain noise so that the encoder spends bits like a real camera feed:
    /// about 85 MB, far larger than the caches, so throughput is bound by memory as it is on a live server.
    /// </summary>
    public static byte[] NoisyAnnexB() => Load("x264-720p-noisy.h264",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=6", "-vf", "noise=alls=30:allf=t",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-g", "50", "-bf", "2", "-f", "h264");

    /// <summary>720p, 4 s, CABAC, B-frames, a clean picture at the default quality: access units of a few to tens of KB.</summary>
    public static byte[] CleanAnnexB() => Load("x264-720p-clean.h264",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=4",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-bf", "2", "-f", "h264");

    /// <summary>The access units of an Annex B stream, as slices of it.</summary>
    public static List<ArraySegment<byte>> AccessUnits(byte[] stream)
    {
        var units = new List<ArraySegment<byte>>();
        var reader = new AnnexBAccessUnitReader(stream, VideoCodec.H264);
        int offset = 0;
        while (reader.Read(out ReadOnlySpan<byte> unit) == ReadStatus.Success)
        {
            units.Add(new ArraySegment<byte>(stream, offset, unit.Length));
            offset += unit.Length;
        }
        return units;
    }

    /// <summary>The access units reframed with 4-byte lengths, as a demuxer of MP4/MKV/FLV hands them out.</summary>
    public static List<byte[]> LengthPrefixedPackets(byte[] stream) => AccessUnits(stream).Select(unit =>
    {
        NalFramingConverter.TryGetConvertedLength(unit, VideoCodec.H264, NalFraming.AnnexB, NalFraming.LengthPrefixed4, out int length, out _, out _);
        var packet = new byte[length];
        NalFramingConverter.TryConvert(unit, VideoCodec.H264, NalFraming.AnnexB, NalFraming.LengthPrefixed4, packet, out _, out _, out _);
        return packet;
    }).ToList();

    private static byte[] Load(string name, params string[] encoderArgs)
    {
        var dir = Path.Combine(RepositoryRoot(), "artifacts", "bench-media");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        if (!File.Exists(path))
        {
            var tmp = path + "." + Environment.ProcessId + ".tmp";
            var psi = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "-hide_banner", "-nostdin", "-v", "error", "-y" }.Concat(encoderArgs).Append(tmp)) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg failed making {name}: {err}");
            File.Move(tmp, path, overwrite: true);
        }
        return File.ReadAllBytes(path);
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CatEvening.sln"))) return d.FullName;
        throw new InvalidOperationException("CatEvening.sln not found above " + AppContext.BaseDirectory);
    }
}
