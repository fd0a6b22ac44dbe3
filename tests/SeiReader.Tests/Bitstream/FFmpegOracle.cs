using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CatEvening.Tests.Shared;

namespace CatEvening.SeiReader.Tests.Bitstream;

/// <summary>What FFmpeg itself says about a stream: the judge of the real-stream tests.</summary>
internal static partial class FFmpegOracle
{
    /// <summary>One packet as <c>trace_headers</c> prints it: its size and the NAL units it holds (type, TemporalId).</summary>
    public sealed record TracedPacket(int Size, bool IsKey, List<(int Type, int TemporalId)> Nals);

    /// <summary>The traced stream: NAL units of the extradata, then every packet.</summary>
    public sealed record Trace(List<(int Type, int TemporalId)> Extradata, List<TracedPacket> Packets);

    [GeneratedRegex(@"\] Packet: (\d+) bytes(, key frame)?")]
    private static partial Regex PacketLine();

    [GeneratedRegex(@"\] \d+\s+nal_unit_type\s+[01]+ = (\d+)$")]
    private static partial Regex NalTypeLine();

    [GeneratedRegex(@"\] \d+\s+nuh_temporal_id_plus1\s+[01]+ = (\d+)$")]
    private static partial Regex TemporalIdLine();

    // 5.1 prints the UUID on a line of its own after "side data - User Data Unregistered:"; 7.1 on that same line.
    [GeneratedRegex(@"(?:\] |: )UUID=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")]
    private static partial Regex UuidLine();

    [GeneratedRegex(@"\] User Data=([0-9a-f]*)$")]
    private static partial Regex UserDataLine();

    [GeneratedRegex(@"\] n:\s*\d+ pts:")]
    private static partial Regex FrameLine();

    /// <summary>Runs <c>ffmpeg -v verbose -i PATH -c copy -bsf:v trace_headers -f null -</c> and reads its NAL list.</summary>
    public static Trace TraceHeaders(string path)
    {
        var r = FFmpegCli.Ffmpeg("-nostats", "-v", "verbose", "-i", path, "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-")
            .EnsureSuccess("trace_headers of " + path);
        var extradata = new List<(int, int)>();
        var packets = new List<TracedPacket>();
        var current = extradata;
        foreach (var line in r.StdErr.Split('\n'))
        {
            if (!line.Contains("[trace_headers @", StringComparison.Ordinal)) continue;
            var text = line.TrimEnd();
            Match m;
            if ((m = PacketLine().Match(text)).Success)
            {
                var packet = new TracedPacket(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Success, []);
                packets.Add(packet);
                current = packet.Nals;
            }
            else if ((m = NalTypeLine().Match(text)).Success)
            {
                current.Add((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), 0));
            }
            else if ((m = TemporalIdLine().Match(text)).Success)
            {
                current[^1] = (current[^1].Item1, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) - 1);
            }
        }
        return new Trace(extradata, packets);
    }

    /// <summary>The video packets of a container, as the demuxer hands them out (<c>-c copy -f data</c> + packet sizes).</summary>
    public static List<byte[]> DemuxedPackets(string path, string workDirectory)
    {
        var raw = Path.Combine(workDirectory, Path.GetFileName(path) + ".packets");
        FFmpegCli.Ffmpeg("-v", "error", "-y", "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "data", raw).EnsureSuccess("packets of " + path);
        var sizes = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", path)
            .EnsureSuccess("packet sizes of " + path).StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s.Split(',')[0], CultureInfo.InvariantCulture)).ToList();
        var bytes = File.ReadAllBytes(raw);
        if (sizes.Sum() != bytes.Length)
            throw new InvalidOperationException($"ffprobe packet sizes add up to {sizes.Sum()} but ffmpeg wrote {bytes.Length} bytes");
        var packets = new List<byte[]>();
        int pos = 0;
        foreach (var size in sizes)
        {
            packets.Add(bytes[pos..(pos + size)]);
            pos += size;
        }
        return packets;
    }

    /// <summary>The codec extradata of the first video stream (<c>ffprobe -show_streams -show_data</c>).</summary>
    public static byte[] Extradata(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_streams", "-show_data", path).EnsureSuccess("extradata of " + path);
        var hex = new System.Text.StringBuilder();
        bool inside = false;
        foreach (var line in r.StdOut.Split('\n'))
        {
            if (line.StartsWith("extradata=", StringComparison.Ordinal)) { inside = true; continue; }
            if (!inside) continue;
            // "00000000: 014d 400d ffe1 0018 674d 400d eca0 a0fd  .M@....." : 8 groups of 4 hex digits from column 10.
            if (line.Length < 10 || line[8] != ':') break;
            hex.Append(line.AsSpan(10, Math.Min(40, line.Length - 10)).ToString().Replace(" ", "", StringComparison.Ordinal));
        }
        return Convert.FromHexString(hex.ToString());
    }

    /// <summary>
    /// Decodes <paramref name="path"/> through <c>-vf showinfo</c> and returns, per frame in output order, every
    /// user_data_unregistered side data as (UUID hex, user data hex).
    /// </summary>
    public static List<List<(string Uuid, string Data)>> UserDataPerFrame(string path)
    {
        var r = FFmpegCli.Ffmpeg("-nostats", "-v", "info", "-i", path, "-map", "0:v:0", "-vf", "showinfo", "-f", "null", "-").EnsureSuccess("showinfo of " + path);
        var frames = new List<List<(string, string)>>();
        string? uuid = null;
        foreach (var line in r.StdErr.Split('\n'))
        {
            var text = line.TrimEnd();
            Match m;
            if (FrameLine().IsMatch(text)) frames.Add([]);
            else if ((m = UuidLine().Match(text)).Success) uuid = m.Groups[1].Value.Replace("-", "", StringComparison.Ordinal);
            else if ((m = UserDataLine().Match(text)).Success && uuid != null)
            {
                frames[^1].Add((uuid, m.Groups[1].Value));
                uuid = null;
            }
        }
        return frames;
    }

    /// <summary>The <c>side_data_type</c> ffprobe gives a user_data_unregistered SEI's frame side data (5.1 to 9.x).</summary>
    public const string UserDataSideDataType = "H.26[45] User Data Unregistered SEI message";

    /// <summary>Number of frames for which <c>ffprobe -show_frames -of json</c> reports user_data_unregistered side data.</summary>
    public static (int Frames, int WithUserData) ProbeUserDataFrames(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_frames", "-show_entries", "frame=media_type:frame_side_data", "-of", "json", path)
            .EnsureSuccess("show_frames of " + path);
        var frames = JsonDocument.Parse(r.StdOut).RootElement.GetProperty("frames").EnumerateArray().ToList();
        var withUserData = frames.Count(f => f.TryGetProperty("side_data_list", out var list)
            && list.EnumerateArray().Any(s => s.TryGetProperty("side_data_type", out var type) && type.GetString() == UserDataSideDataType));
        return (frames.Count, withUserData);
    }
}
