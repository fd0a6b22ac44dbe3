using System.Buffers.Binary;
using CatEvening.Tests.Shared;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// The inputs of the field cases (../shared/cases, H1-H5) and variants, made at test time with the ffmpeg CLI and the
/// two helper scripts of the cases (flvcat.py, tsnopts.py) ported here byte for byte, plus a corrupter for the fuzz kind.
/// </summary>
internal static class FieldMedia
{
    /// <summary>A 320x240 x264 (or x265) clip at <paramref name="rate"/> fps (25 unless given) with AAC audio, made once per run.</summary>
    public static string Clip(string name, double seconds, string format, string[]? videoArgs = null, string[]? outputArgs = null, int rate = 25)
    {
        videoArgs ??= ["-c:v", "libx264", "-preset", "veryfast"];
        return TestMedia.GetOrMake($"field-{name}.{Extension(format)}", path =>
            FFmpegCli.Ffmpeg([
                "-v", "error", "-y",
                "-f", "lavfi", "-i", $"testsrc2=size=320x240:rate={rate}:duration={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                "-f", "lavfi", "-i", $"sine=frequency=440:sample_rate=48000:duration={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                .. videoArgs, "-g", "25", "-c:a", "aac", .. outputArgs ?? [], "-f", format, path,
            ]).EnsureSuccess($"making {name}"));
    }

    private static string Extension(string format) => format switch { "mpegts" => "ts", "hevc" => "h265", _ => format };

    /// <summary>
    /// flvcat.py: <paramref name="b"/>'s tags after <paramref name="a"/>'s (b's header and onMetaData dropped); with
    /// <paramref name="restart"/> b keeps its own timestamps from 0 (a backwards jump), else they follow a's.
    /// </summary>
    public static byte[] FlvConcat(byte[] a, byte[] b, bool restart)
    {
        var output = new List<byte>(a.Length + b.Length);
        output.AddRange(a.AsSpan(0, FlvHeaderLength(a)).ToArray());
        long last = 0;
        foreach (var (type, ts, body) in FlvTags(a))
        {
            output.AddRange(FlvTag(type, ts, body));
            last = Math.Max(last, ts);
        }
        var shift = restart ? 0 : last + 40;
        foreach (var (type, ts, body) in FlvTags(b))
            if (type != 18) output.AddRange(FlvTag(type, ts + shift, body));
        return [.. output];
    }

    /// <summary>Rewrites every FLV tag's timestamp with <paramref name="map"/> (all 32 bits, extended byte included).</summary>
    public static byte[] FlvRetime(byte[] flv, Func<int, long, long> map)
    {
        var output = new List<byte>(flv.Length);
        output.AddRange(flv.AsSpan(0, FlvHeaderLength(flv)).ToArray());
        var i = 0;
        foreach (var (type, ts, body) in FlvTags(flv)) output.AddRange(FlvTag(type, map(i++, ts), body));
        return [.. output];
    }

    /// <summary>The FLV without the video tags that carry frames (AVCPacketType 1); its AVC sequence header, the audio
    /// and the metadata kept.</summary>
    public static byte[] FlvWithoutVideoFrames(byte[] flv)
    {
        var output = new List<byte>(flv.Length);
        output.AddRange(flv.AsSpan(0, FlvHeaderLength(flv)).ToArray());
        foreach (var (type, ts, body) in FlvTags(flv))
            if (!(type == 9 && body.Length > 1 && body[1] == 1)) output.AddRange(FlvTag(type, ts, body));
        return [.. output];
    }

    /// <summary>
    /// The FLV with the first AVCC NAL length of the chosen video frames (0-based among the tags with AVCPacketType 1) set
    /// to <paramref name="length"/>: a length past the packet's end, as a broken encoder or relay may send.
    /// </summary>
    public static byte[] FlvNalLength(byte[] flv, IReadOnlySet<int> frames, uint length = 0x7fff_ff00)
    {
        var output = new List<byte>(flv.Length);
        output.AddRange(flv.AsSpan(0, FlvHeaderLength(flv)).ToArray());
        var n = 0;
        foreach (var (type, ts, body) in FlvTags(flv))
        {
            // AVCVIDEOPACKET: frame type and codec, AVCPacketType, composition time (3 bytes), then the first NAL's length.
            if (type == 9 && body.Length > 9 && body[1] == 1 && frames.Contains(n++)) BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(5), length);
            output.AddRange(FlvTag(type, ts, body));
        }
        return [.. output];
    }

    /// <summary>Index among the FLV tags of the <paramref name="n"/>th video tag (type 9) carrying a frame.</summary>
    public static int FlvVideoTag(byte[] flv, int n)
    {
        var i = 0;
        foreach (var (type, _, body) in FlvTags(flv))
        {
            if (type == 9 && body.Length > 1 && body[1] == 1 && n-- == 0) return i;
            i++;
        }
        throw new ArgumentOutOfRangeException(nameof(n));
    }

    private static int FlvHeaderLength(byte[] d) => (int)BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(5)) + 4;

    private static IEnumerable<(byte Type, long Ts, byte[] Body)> FlvTags(byte[] d)
    {
        var off = FlvHeaderLength(d);
        while (off + 11 <= d.Length)
        {
            var type = d[off];
            var size = (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3];
            var ts = (long)((uint)((d[off + 4] << 16) | (d[off + 5] << 8) | d[off + 6]) | ((uint)d[off + 7] << 24));
            yield return (type, ts, d.AsSpan(off + 11, size).ToArray());
            off += 11 + size + 4;
        }
    }

    private static byte[] FlvTag(byte type, long ts, byte[] body)
    {
        var tag = new byte[11 + body.Length + 4];
        tag[0] = type;
        tag[1] = (byte)(body.Length >> 16); tag[2] = (byte)(body.Length >> 8); tag[3] = (byte)body.Length;
        tag[4] = (byte)(ts >> 16); tag[5] = (byte)(ts >> 8); tag[6] = (byte)ts; tag[7] = (byte)(ts >> 24);
        body.CopyTo(tag, 11);
        BinaryPrimitives.WriteUInt32BigEndian(tag.AsSpan(11 + body.Length), (uint)(11 + body.Length));
        return tag;
    }

    /// <summary>
    /// tsnopts.py: removes PTS/DTS from the chosen video PES headers (PTS_DTS_flags := 00, the timestamp bytes become
    /// 0xFF stuffing). <paramref name="corrupt"/> instead writes this 33-bit value into both PTS and DTS of those PES.
    /// </summary>
    public static byte[] TsPesTimestamps(byte[] ts, int pid, IReadOnlySet<int> which, long? corrupt = null) =>
        EditPesHeaders(ts, pid, which, (d, _, pes) =>
        {
            var flagsAt = pes + 7;
            var headerLength = d[pes + 8];
            var flags = d[flagsAt] & 0xc0;
            if (flags == 0) return;
            if (corrupt is { } value)
            {
                WritePesTimestamp(d, pes + 9, flags == 0xc0 ? 3 : 2, value);
                if (flags == 0xc0) WritePesTimestamp(d, pes + 14, 1, value);
            }
            else
            {
                d[flagsAt] &= 0x3f;
                for (var j = 0; j < headerLength; j++) d[pes + 9 + j] = 0xff;
            }
        });

    /// <summary>
    /// The chosen video PES keep their PTS and lose their DTS (PTS_DTS_flags '11' becomes '10', the PTS prefix '0011'
    /// becomes '0010', the DTS bytes become 0xFF stuffing, the header length kept), as a muxer that writes PTS only does.
    /// </summary>
    public static byte[] TsPesPtsOnly(byte[] ts, int pid, IReadOnlySet<int> which) =>
        EditPesHeaders(ts, pid, which, (d, k, pes) =>
        {
            var flagsAt = pes + 7;
            if ((d[flagsAt] & 0xc0) != 0xc0) throw new InvalidDataException($"video PES {k} has no DTS to take away");
            d[flagsAt] = (byte)((d[flagsAt] & 0x3f) | 0x80);
            d[pes + 9] = (byte)((d[pes + 9] & 0x0f) | 0x20);
            for (var j = 0; j < 5; j++) d[pes + 14 + j] = 0xff;
        });

    // A copy of `ts` with `edit(copy, k, offset)` applied to each chosen PES of `pid` (k counts that PID's PES from 0;
    // offset is where its packet_start_code_prefix 00 00 01 is; ISO/IEC 13818-1 2.4.3.2 and 2.4.3.6).
    private static byte[] EditPesHeaders(byte[] ts, int pid, IReadOnlySet<int> which, Action<byte[], int, int> edit)
    {
        var d = (byte[])ts.Clone();
        var k = -1;
        for (var off = 0; off + 188 <= d.Length; off += 188)
        {
            if (d[off] != 0x47 || (((d[off + 1] & 0x1f) << 8) | d[off + 2]) != pid || (d[off + 1] & 0x40) == 0) continue;
            k++;
            if (!which.Contains(k)) continue;
            // adaptation_field_control bit 1: an adaptation field (its length byte first) before the payload.
            var i = 4 + ((d[off + 3] & 0x20) != 0 ? 1 + d[off + 4] : 0);
            if (d[off + i] != 0 || d[off + i + 1] != 0 || d[off + i + 2] != 1) throw new InvalidDataException($"no PES start at {off + i}");
            edit(d, k, off + i);
        }
        return d;
    }

    // ISO/IEC 13818-1 2.4.3.7: '001x' prefix, PTS[32..30], marker, PTS[29..15], marker, PTS[14..0], marker.
    private static void WritePesTimestamp(byte[] d, int at, int prefix, long value)
    {
        d[at] = (byte)((prefix << 4) | (int)(((value >> 30) & 7) << 1) | 1);
        d[at + 1] = (byte)(value >> 22);
        d[at + 2] = (byte)((((value >> 15) & 0x7f) << 1) | 1);
        d[at + 3] = (byte)(value >> 7);
        d[at + 4] = (byte)(((value & 0x7f) << 1) | 1);
    }
}
