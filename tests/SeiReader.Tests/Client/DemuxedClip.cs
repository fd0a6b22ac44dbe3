using System.Globalization;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>One demuxed packet: its bytes (Annex B) and timestamps, as a player's demuxer hands them over.</summary>
internal sealed record Packet(byte[] Data, long Pts, long Dts);

/// <summary>
/// A real x264/x265 clip (TestMedia MP4) demuxed the way a player would: FFmpeg copies the video to Annex B
/// (<c>-bsf:v h264_mp4toannexb</c> / <c>hevc_mp4toannexb</c>) and ffprobe lists each packet's PTS and DTS in decode
/// order, in the MP4 track's time base. The core's <see cref="AnnexBAccessUnitReader"/> cuts the elementary stream
/// into the same packets.
/// </summary>
internal sealed class DemuxedClip
{
    private DemuxedClip(VideoCodec codec, TimeBase timeBase, IReadOnlyList<Packet> packets)
    {
        Codec = codec;
        TimeBase = timeBase;
        Packets = packets;
    }

    internal VideoCodec Codec { get; }
    internal TimeBase TimeBase { get; }
    internal IReadOnlyList<Packet> Packets { get; }

    internal static DemuxedClip Load(VideoProfile profile)
    {
        var mp4 = TestMedia.Get(profile, Container.Mp4);
        var hevc = TestMedia.IsHevc(profile);
        var codec = hevc ? VideoCodec.H265 : VideoCodec.H264;
        var es = TestMedia.GetOrMake($"{profile}.demuxed.{(hevc ? "h265" : "h264")}", path =>
            FFmpegCli.Ffmpeg("-v", "error", "-y", "-i", mp4, "-map", "0:v:0", "-c:v", "copy", "-bsf:v", hevc ? "hevc_mp4toannexb" : "h264_mp4toannexb",
                "-f", hevc ? "hevc" : "h264", path).EnsureSuccess("demuxing to Annex B"));
        var tb = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "stream=time_base", "-of", "csv=p=0", mp4)
            .EnsureSuccess("time base").StdOut.Trim().Split('/');
        var times = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts", "-of", "csv=p=0", mp4)
            .EnsureSuccess("packet times").StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        var data = File.ReadAllBytes(es);
        var units = new List<byte[]>();
        var reader = new AnnexBAccessUnitReader(data, codec);
        while (reader.Read(out var au) == ReadStatus.Success) units.Add(au.ToArray());
        Assert.That(units, Has.Count.EqualTo(times.Count), "the Annex B cut gives FFmpeg's packets");
        var packets = units.Select((u, i) => new Packet(u, times[i][0], times[i][1])).ToList();
        return new DemuxedClip(codec, new TimeBase(int.Parse(tb[0], CultureInfo.InvariantCulture), int.Parse(tb[1], CultureInfo.InvariantCulture)), packets);
    }

    /// <summary>The packet with <paramref name="sei"/> (payloads of user_data_unregistered, one SEI NAL) spliced in.</summary>
    internal static byte[] Splice(byte[] accessUnit, VideoCodec codec, NalFraming framing, params byte[][] payloads)
    {
        var measure = SeiNalWriter.CreateMeasuring(codec, framing);
        foreach (var p in payloads) measure.WriteMessage(5, p);
        var nal = new byte[measure.Complete()];
        var writer = new SeiNalWriter(nal, codec, framing);
        foreach (var p in payloads) writer.WriteMessage(5, p);
        writer.Complete();
        var output = new byte[accessUnit.Length + nal.Length];
        var result = AccessUnitSplicer.Splice(accessUnit, codec, framing, nal, output);
        Assert.That(result.IsSpliced, Is.True, result.ToString());
        return output.AsSpan(0, result.BytesWritten).ToArray();
    }

    /// <summary>The packet converted to 4-byte length prefixes (as MP4/FLV/MKV carry it).</summary>
    internal static byte[] ToLengthPrefixed(byte[] annexB, VideoCodec codec)
    {
        Assert.That(NalFramingConverter.TryGetConvertedLength(annexB, codec, NalFraming.AnnexB, NalFraming.LengthPrefixed4, out var length, out _, out _), Is.EqualTo(ReadStatus.Success));
        var output = new byte[length];
        Assert.That(NalFramingConverter.TryConvert(annexB, codec, NalFraming.AnnexB, NalFraming.LengthPrefixed4, output, out var written, out _, out _), Is.EqualTo(ReadStatus.Success));
        return output.AsSpan(0, written).ToArray();
    }
}
