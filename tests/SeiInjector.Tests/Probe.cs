using System.Globalization;
using System.Text.Json;
using CatEvening.Tests.Shared;

namespace CatEvening.SeiInjector.Tests;

/// <summary>What ffprobe says about a file: the oracle for placement and side data.</summary>
internal static class Probe
{
    internal const string UnregisteredSei = "H.26[45] User Data Unregistered SEI message";

    /// <summary>Video packets in decode order: pts_time and dts_time as ffprobe prints them ("N/A" when absent).</summary>
    public static List<(string Pts, string Dts)> VideoPackets(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,dts_time", "-of", "csv=p=0", path)
            .EnsureSuccess($"ffprobe packets of {path}");
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().Split(','))
            .Select(f => (f[0], f.Length > 1 ? f[1] : "N/A"))
            .ToList();
    }

    /// <summary>Every packet of every stream, in file order, as ffprobe reads them: stream index and raw PTS/DTS in the
    /// stream's time base (null when absent).</summary>
    public static List<(int Stream, long? Pts, long? Dts)> Packets(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-show_entries", "packet=stream_index,pts,dts", "-of", "json", path).EnsureSuccess($"ffprobe packets of {path}");
        using var json = JsonDocument.Parse(r.StdOut);
        static long? Stamp(JsonElement p, string name) => p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
        return json.RootElement.GetProperty("packets").EnumerateArray()
            .Select(p => (p.GetProperty("stream_index").GetInt32(), Stamp(p, "pts"), Stamp(p, "dts")))
            .ToList();
    }

    /// <summary>Decoded video frames in presentation order: pts_time and how many user_data_unregistered side data entries each has.</summary>
    public static List<(string Pts, int Unregistered)> VideoFrames(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_frames", "-show_entries", "frame=pts_time:frame_side_data=side_data_type", "-of", "json", path)
            .EnsureSuccess($"ffprobe frames of {path}");
        using var json = JsonDocument.Parse(r.StdOut);
        return json.RootElement.GetProperty("frames").EnumerateArray()
            .Select(f => (
                f.TryGetProperty("pts_time", out var pts) ? pts.GetString() ?? "N/A" : "N/A",
                f.TryGetProperty("side_data_list", out var list)
                    ? list.EnumerateArray().Count(s => s.TryGetProperty("side_data_type", out var type) && type.GetString() == UnregisteredSei)
                    : 0))
            .ToList();
    }

    public static double Seconds(string ffprobeTime) => double.Parse(ffprobeTime, CultureInfo.InvariantCulture);
}
