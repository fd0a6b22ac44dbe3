using System.Globalization;
using System.Text;
using System.Text.Json;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// The messages survive FFmpeg remuxing into MP4, and the reader finds them in the packets exactly as FFmpeg's MP4
/// demuxer hands them over (length-prefixed, with the avcC/hvcC codec configuration), read back with
/// <c>ffprobe -show_packets -show_data</c>.
/// </summary>
public class RemuxedMp4Tests
{
    [TestCase(VideoProfile.H264HighBPyramid)]
    [TestCase(VideoProfile.H265Main)]
    public void Mp4FromFFmpeg_LengthPrefixedWithCodecConfiguration_GivesEveryCueAtItsCarrier(VideoProfile profile)
    {
        var clip = DemuxedClip.Load(profile);
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var carriers = new[] { 4, 17, 33 };
        var dir = Directory.CreateTempSubdirectory("catevening-mp4");
        try
        {
            var es = Path.Combine(dir.FullName, clip.Codec == VideoCodec.H264 ? "in.h264" : "in.h265");
            using (var output = File.Create(es))
                for (var i = 0; i < clip.Packets.Count; i++)
                {
                    var data = clip.Packets[i].Data;
                    output.Write(carriers.Contains(i)
                        ? DemuxedClip.Splice(data, clip.Codec, NalFraming.AnnexB, signer.Sign(TestKeys.Cue(seq: i, cueId: $"cue-{i}", offset: 3600 * i)))
                        : data);
                }
            var mp4 = Path.Combine(dir.FullName, "out.mp4");
            FFmpegCli.Ffmpeg("-v", "error", "-y", "-r", "25", "-i", es, "-c", "copy", mp4).EnsureSuccess("remux to MP4");

            var stream = JsonDocument.Parse(FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "stream=extradata,time_base",
                "-show_data", "-of", "json", mp4).EnsureSuccess("ffprobe stream").StdOut).RootElement.GetProperty("streams")[0];
            var tb = stream.GetProperty("time_base").GetString()!.Split('/');
            var timeBase = new TimeBase(int.Parse(tb[0], CultureInfo.InvariantCulture), int.Parse(tb[1], CultureInfo.InvariantCulture));
            var config = CodecConfiguration.Parse(clip.Codec, FromHexdump(stream.GetProperty("extradata").GetString()!));
            Assert.That(config.Framing.IsAnnexB, Is.False, "MP4 carries length-prefixed NAL units");

            var packets = JsonDocument.Parse(FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,data",
                "-show_data", "-of", "json", mp4).EnsureSuccess("ffprobe packets").StdOut).RootElement.GetProperty("packets").EnumerateArray()
                .Select(p => (Data: FromHexdump(p.GetProperty("data").GetString()!), Pts: p.GetProperty("pts").GetInt64(), Dts: p.GetProperty("dts").GetInt64()))
                .ToList();
            Assert.That(packets, Has.Count.EqualTo(clip.Packets.Count));

            var reader = CueReader.FromCodecConfiguration(new MessageVerifier(new KeyRing(key.PublicKey)), config, timeBase, utcNowMicros: () => TestKeys.Now);
            var received = new List<(int Index, CueReceivedEventArgs Event)>();
            var index = 0;
            reader.CueReceived += (_, e) => received.Add((index, e));
            for (; index < packets.Count; index++) reader.Feed(packets[index].Data, packets[index].Pts, packets[index].Dts);

            Assert.That(received.Select(r => r.Index), Is.EqualTo(carriers));
            foreach (var (i, e) in received)
                Assert.Multiple(() =>
                {
                    Assert.That(e.Cue.CueId, Is.EqualTo($"cue-{i}"));
                    Assert.That(e.CarrierPts, Is.EqualTo(packets[i].Pts));
                    Assert.That(e.TargetPts, Is.EqualTo(packets[i].Pts + TimeBase.Rescale(3600 * i, TimeBase.Mpeg90kHz, timeBase)));
                });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Bytes of an ffprobe <c>-show_data</c> hexdump ("00000000: 0000 0019 67f4 ...  ascii").</summary>
    private static byte[] FromHexdump(string dump)
    {
        var hex = new StringBuilder();
        foreach (var line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            hex.Append(line.Substring(10, Math.Min(39, line.Length - 10)).Replace(" ", "", StringComparison.Ordinal));
        return Convert.FromHexString(hex.ToString());
    }
}
