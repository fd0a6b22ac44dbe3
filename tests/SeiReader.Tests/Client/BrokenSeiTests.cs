using System.Text.Json;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Tests.Bitstream;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// Issue 10, H14: an encoder's malformed SEI NAL unit or <c>sei_message()</c> anywhere in the access unit (before,
/// between and after ours, and after the slices) is skipped and counted, and every CatEvening message is still found,
/// in both codecs and both framings. FFmpeg's decoder (ffprobe side data) is the oracle for how many user-data
/// messages the stream carries.
/// </summary>
public class BrokenSeiTests
{
    private static readonly SigningKey Key = TestKeys.Key1();
    private static readonly MessageSigner Signer = new(Key);

    [OneTimeTearDown]
    public void DisposeKey() => Key.Dispose();

    /// <summary>Every kind of broken SEI NAL unit (without framing), each with the number of malformed reports it gives.</summary>
    internal static IReadOnlyList<(string Kind, byte[] Nal)> BrokenSeiNals(VideoCodec codec)
    {
        byte[] header = codec == VideoCodec.H264 ? [0x06] : [0x4e, 0x01];
        byte[] foreign = [0x05, 0x14, .. Enumerable.Range(0x11, 16).Select(b => (byte)b), 1, 2, 3, 4];
        return
        [
            ("payload type, no size (H14 recipe)", [.. header, 0x05]),
            ("size 526 past the NAL end (H14 recipe)", [.. header, 0x05, 0xff, 0xff, 0x10, 0x41, 0x42, 0x80]),
            ("payload type running off the end", [.. header, 0xff, 0xff]),
            ("size byte missing after ff", [.. header, 0x05, 0xff]),
            ("user data shorter than its UUID", [.. header, 0x05, 0x03, 0x01, 0x02, 0x03, 0x80]),
            ("good foreign user data, then a broken message", [.. header, .. foreign, 0x05, 0x40, 0x01, 0x80]),
            ("size past the end of a big NAL", [.. header, 0x05, 0xff, 0xff, 0xff, 0xff, 0x00, .. Enumerable.Repeat((byte)0x55, 300), 0x80]),
        ];
    }

    [TestCase(VideoProfile.H264Main, false)]
    [TestCase(VideoProfile.H264Main, true)]
    [TestCase(VideoProfile.H265Main, false)]
    [TestCase(VideoProfile.H265Main, true)]
    public void Feed_BrokenSeiBeforeBetweenAndAfterOurs_FindsEveryMessage_AndCountsEachBrokenOne(VideoProfile profile, bool lengthPrefixed)
    {
        var clip = DemuxedClip.Load(profile);
        var broken = BrokenSeiNals(clip.Codec);
        var framing = lengthPrefixed ? NalFraming.LengthPrefixed4 : NalFraming.AnnexB;
        var options = new VerifierOptions();
        options.StreamIds.Add(TestKeys.StreamId);
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey), options), clip.Codec, framing, clip.TimeBase, utcNowMicros: () => TestKeys.Now);
        var heartbeats = new List<long>();
        reader.HeartbeatReceived += (_, e) => heartbeats.Add(e.Heartbeat.SequenceNumber);
        var annexB = new List<byte[]>();
        var brokenOnly = new List<byte[]>();
        byte[]? previous = null;
        for (var i = 0; i < clip.Packets.Count; i++)
        {
            var p = clip.Packets[i];
            var ours = Signer.Sign(TestKeys.Heartbeat(seq: 100 + i));
            // Before ours, between ours and a copy of the previous frame's message (a repeat), after ours, after the slices.
            byte[][] kinds = [.. Enumerable.Range(i, 4).Select(k => broken[k % broken.Count].Nal)];
            var au = Compose(p.Data, clip.Codec, ours, previous, kinds[0], kinds[1], kinds[2], kinds[3]);
            brokenOnly.Add(Compose(p.Data, clip.Codec, null, null, kinds[0], kinds[1], kinds[2], kinds[3]));
            previous = ours;
            annexB.Add(au);
            reader.Feed(lengthPrefixed ? DemuxedClip.ToLengthPrefixed(au, clip.Codec) : au, p.Pts, p.Dts);
        }
        var brokenPerAu = 4;
        Assert.Multiple(() =>
        {
            Assert.That(heartbeats, Is.EqualTo(Enumerable.Range(100, clip.Packets.Count).Select(i => (long)i)));
            Assert.That(reader.Statistics.Accepted, Is.EqualTo(clip.Packets.Count));
            Assert.That(reader.Statistics.Repeats, Is.EqualTo(clip.Packets.Count - 1));
            Assert.That(reader.Statistics.MalformedSei, Is.EqualTo(brokenPerAu * clip.Packets.Count));
        });
        Assert.That(CountUserDataFFmpegExports(annexB, clip.Codec) - CountUserDataFFmpegExports(brokenOnly, clip.Codec),
            Is.EqualTo(2 * clip.Packets.Count - 1), "FFmpeg exports every one of ours too");
    }

    // Fresh tester's H14 variant: units whose NAL header is unreadable (forbidden_zero_bit set, an H.265 header cut to one
    // byte or with TemporalId 0, an empty unit) before ours, between ours and the repeat, and after the slices. They made
    // the rest of the access unit unreadable: 0 of 133 messages found, where FFmpeg found every one. Each is now counted
    // as malformed and passed over.
    [TestCase(VideoProfile.H264Main, false)]
    [TestCase(VideoProfile.H264Main, true)]
    [TestCase(VideoProfile.H265Main, false)]
    [TestCase(VideoProfile.H265Main, true)]
    public void Feed_UnitsWithUnreadableHeadersAroundOurs_FindsEveryMessage_AndCountsEachUnit(VideoProfile profile, bool lengthPrefixed)
    {
        var clip = DemuxedClip.Load(profile);
        byte[][] unreadable = clip.Codec == VideoCodec.H264
            ? [[0x86, 0x05, 0x01, 0x80], [0x80], [0xE5, 0x88, 0x84]]
            : [[0x4E], [0x4E, 0x00, 0x05], [0xCE, 0x01, 0x05], [0x50]];
        var framing = lengthPrefixed ? NalFraming.LengthPrefixed4 : NalFraming.AnnexB;
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey)), clip.Codec, framing, clip.TimeBase, utcNowMicros: () => TestKeys.Now);
        var heartbeats = new List<long>();
        reader.HeartbeatReceived += (_, e) => heartbeats.Add(e.Heartbeat.SequenceNumber);
        byte[]? previous = null;
        for (var i = 0; i < clip.Packets.Count; i++)
        {
            var p = clip.Packets[i];
            var ours = Signer.Sign(TestKeys.Heartbeat(seq: 100 + i));
            var nals = new List<byte[]>();
            var walk = new NalUnitReader(p.Data, clip.Codec, NalFraming.AnnexB);
            while (walk.Read(out var nal) == ReadStatus.Success) nals.Add(p.Data.AsSpan(nal.Offset, nal.Length).ToArray());
            var firstVcl = nals.FindIndex(n => clip.Codec == VideoCodec.H264 ? (n[0] & 0x1f) is >= 1 and <= 5 : (n[0] >> 1 & 0x3f) < 32);
            byte[] Sei(byte[] payload) => UserDataUnregisteredReaderTests.Strip(Nals.SeiNalWithPayload(clip.Codec, payload));
            var middle = new List<byte[]> { unreadable[i % unreadable.Length], Sei(ours), unreadable[(i + 1) % unreadable.Length] };
            if (previous is not null) middle.Add(Sei(previous));
            nals.InsertRange(firstVcl, middle);
            nals.Add(unreadable[(i + 2) % unreadable.Length]);
            previous = ours;
            var au = Nals.AnnexB([.. nals]);
            reader.Feed(lengthPrefixed ? DemuxedClip.ToLengthPrefixed(au, clip.Codec) : au, p.Pts, p.Dts);
        }
        Assert.Multiple(() =>
        {
            Assert.That(heartbeats, Is.EqualTo(Enumerable.Range(100, clip.Packets.Count).Select(i => (long)i)));
            Assert.That(reader.Statistics.Repeats, Is.EqualTo(clip.Packets.Count - 1));
            Assert.That(reader.Statistics.MalformedSei, Is.EqualTo(3 * clip.Packets.Count), "each unreadable unit counted once");
        });
    }

    [Test]
    public void Feed_BrokenNalFramingAfterOurs_StillReportsOurs_AndCountsTheBreakOnce()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey)), clip.Codec, NalFraming.LengthPrefixed4, clip.TimeBase, utcNowMicros: () => TestKeys.Now);
        var got = 0;
        reader.HeartbeatReceived += (_, _) => got++;
        var p = clip.Packets[3];
        var au = DemuxedClip.ToLengthPrefixed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Heartbeat(seq: 1))), clip.Codec);
        byte[] truncated = [.. au, 0x00, 0x00, 0x10, 0x00, 0x06, 0x05];
        reader.Feed(truncated, p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(got, Is.EqualTo(1));
            Assert.That(reader.Statistics.MalformedSei, Is.EqualTo(1));
        });
    }

    /// <summary>The access unit with <paramref name="ours"/> (when given; and <paramref name="second"/>, when given, in its own SEI
    /// NAL) spliced in, and four broken SEI NAL units: before ours, between, after ours, and after the last slice.</summary>
    internal static byte[] Compose(byte[] accessUnit, VideoCodec codec, byte[]? ours, byte[]? second, byte[] before, byte[] between, byte[] after, byte[] trailing)
    {
        var nals = new List<byte[]>();
        var reader = new NalUnitReader(accessUnit, codec, NalFraming.AnnexB);
        while (reader.Read(out var nal) == ReadStatus.Success) nals.Add(accessUnit.AsSpan(nal.Offset, nal.Length).ToArray());
        var firstVcl = nals.FindIndex(n => codec == VideoCodec.H264 ? (n[0] & 0x1f) is >= 1 and <= 5 : (n[0] >> 1 & 0x3f) < 32);
        byte[] Sei(byte[] payload) => UserDataUnregisteredReaderTests.Strip(Nals.SeiNalWithPayload(codec, payload));
        var middle = new List<byte[]> { before };
        if (ours is not null) middle.Add(Sei(ours));
        middle.Add(between);
        if (second is not null) middle.Add(Sei(second));
        middle.Add(after);
        nals.InsertRange(firstVcl, middle);
        // After the slices H.265 carries suffix SEI (type 40, header 50 01).
        nals.Add(codec == VideoCodec.H265 ? [0x50, 0x01, .. trailing.AsSpan(2)] : trailing);
        return Nals.AnnexB([.. nals]);
    }

    /// <summary>How many user_data_unregistered messages FFmpeg's decoder exports as frame side data.</summary>
    internal static int CountUserDataFFmpegExports(IEnumerable<byte[]> accessUnits, VideoCodec codec)
    {
        var path = Path.Combine(TestMedia.Directory, $"broken-sei-{Guid.NewGuid():N}.{(codec == VideoCodec.H264 ? "h264" : "h265")}");
        File.WriteAllBytes(path, [.. accessUnits.SelectMany(a => a)]);
        try
        {
            var json = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_frames", "-show_entries", "frame=side_data_list", "-of", "json", path)
                .EnsureSuccess("ffprobe side data").StdOut;
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.GetProperty("frames").EnumerateArray()
                .Where(f => f.TryGetProperty("side_data_list", out _))
                .SelectMany(f => f.GetProperty("side_data_list").EnumerateArray())
                .Count(s => s.GetProperty("side_data_type").GetString()!.Contains("User Data Unregistered", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
