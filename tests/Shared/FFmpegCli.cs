using System.Diagnostics;
using System.Text;

namespace CatEvening.Tests.Shared;

/// <summary>Runs the ffmpeg/ffprobe command-line tools, the oracle of these tests.</summary>
public static class FFmpegCli
{
    /// <summary>Result of one tool run.</summary>
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        /// <summary>Throws with the tool's own words when it failed.</summary>
        public Result EnsureSuccess(string what)
        {
            if (ExitCode != 0)
                throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{StdErr}");
            return this;
        }
    }

    private static readonly Lazy<(string Release, Version AvFormat)> s_version = new(() =>
    {
        var text = Ffmpeg("-version").EnsureSuccess("ffmpeg -version").StdOut;
        var release = System.Text.RegularExpressions.Regex.Match(text, @"^ffmpeg version (\S+)").Groups[1].Value;
        var avformat = System.Text.RegularExpressions.Regex.Match(text, @"libavformat\s+(\d+)\.\s*(\d+)\.");
        return (release, new Version(int.Parse(avformat.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(avformat.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)));
    });

    /// <summary>The ffmpeg CLI's release as it prints it, e.g. <c>7.1.5-0+deb13u1</c>.</summary>
    public static string Release => s_version.Value.Release;

    /// <summary>
    /// True when the ffmpeg CLI muxes and demuxes HEVC in FLV (enhanced RTMP/FLV: FFmpeg 6.1, libavformat 60.16, and
    /// later).
    /// </summary>
    public static bool FlvCarriesHevc => s_version.Value.AvFormat >= new Version(60, 16);

    /// <summary>Why HEVC-in-FLV tests are skipped here, naming the FFmpeg release.</summary>
    public static string NoHevcInFlvReason =>
        $"FFmpeg {Release} (libavformat {s_version.Value.AvFormat}) has no HEVC in FLV: enhanced RTMP/FLV came with FFmpeg 6.1 (libavformat 60.16)";

    public static Result Ffmpeg(params string[] args) => Run("ffmpeg", ["-hide_banner", "-nostdin", .. args]);

    public static Result Ffprobe(params string[] args) => Run("ffprobe", ["-hide_banner", .. args]);

    /// <summary>Runs a program to completion, capturing both streams without dead-locking on full pipes.</summary>
    public static Result Run(string program, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Decoded-frame checksums (<c>-f framemd5</c>) of the first video stream, one line per frame.</summary>
    public static IReadOnlyList<string> VideoFrameMd5(string path)
    {
        var r = Ffmpeg("-v", "error", "-i", path, "-map", "0:v:0", "-f", "framemd5", "-").EnsureSuccess($"framemd5 of {path}");
        return r.StdOut.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(',').Last().Trim()).ToList();
    }

    /// <summary>Packet checksums (<c>-c copy -f framemd5</c>) of the first audio stream: byte-identical audio has equal lists.</summary>
    public static IReadOnlyList<string> AudioPacketMd5(string path)
    {
        var r = Ffmpeg("-v", "error", "-i", path, "-map", "0:a:0", "-c", "copy", "-f", "framemd5", "-").EnsureSuccess($"audio framemd5 of {path}");
        return r.StdOut.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
    }
}
