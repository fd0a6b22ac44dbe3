using CatEvening.SeiReader.Bitstream;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Bitstream;

/// <summary>
/// The bitstream core against real x264/x265 output, with FFmpeg as the judge: NAL lists against
/// <c>trace_headers</c>, and splicing against <c>framemd5</c>, <c>showinfo</c> and <c>ffprobe -show_frames</c>.
/// </summary>
[NonParallelizable]
public class RealStreamTests
{
    private static readonly byte[] OurUuid = Nals.Uuid;

    private static IEnumerable<VideoProfile> Profiles => TestMedia.AllProfiles;

    private static IEnumerable<TestCaseData> PacketCases =>
        from p in TestMedia.AllProfiles
        from c in new[] { Container.MpegTs, Container.Mp4, Container.Mkv, Container.Flv }
        where !(c == Container.Flv && TestMedia.IsHevc(p))
        select new TestCaseData(p, c);

    private static IEnumerable<TestCaseData> SpliceCases =>
        from p in TestMedia.AllProfiles
        from c in new[] { Container.AnnexB, Container.MpegTs, Container.Mp4 }
        select new TestCaseData(p, c);

    private static VideoCodec CodecOf(VideoProfile profile) => TestMedia.IsHevc(profile) ? VideoCodec.H265 : VideoCodec.H264;

    [TestCaseSource(nameof(Profiles))]
    public void AnnexBFile_AccessUnitsAndNalUnits_MatchTraceHeaders(VideoProfile profile)
    {
        var codec = CodecOf(profile);
        var path = TestMedia.Get(profile, Container.AnnexB);
        var data = File.ReadAllBytes(path);
        var units = SplitAccessUnits(data, codec);
        var trace = FFmpegOracle.TraceHeaders(path);

        Assert.That(units, Has.Count.EqualTo(trace.Packets.Count));
        int ours = 0, theirs = 0;
        for (int i = 0; i < units.Count; i++)
        {
            ours += units[i].Length;
            theirs += trace.Packets[i].Size;
            // FFmpeg's HEVC parser leaves the zero_byte of a 4-byte start code at the end of the previous packet;
            // Annex B B.2 makes it part of the next NAL unit, as we do. Only zero bytes may lie between the two cuts.
            Assert.That(ours, Is.LessThanOrEqualTo(theirs), $"end of access unit {i}");
            Assert.That(data[ours..theirs], Is.All.EqualTo((byte)0), $"end of access unit {i}: ours at {ours}, FFmpeg's at {theirs}");
            Assert.That(NalList(units[i], codec, NalFraming.AnnexB), Is.EqualTo(trace.Packets[i].Nals), $"NAL units of access unit {i}");
        }
        Assert.That(ours, Is.EqualTo(data.Length));
    }

    [TestCaseSource(nameof(PacketCases))]
    public void DemuxedPackets_NalUnitsKeyframesAndConfiguration_MatchTraceHeaders(VideoProfile profile, Container container)
    {
        var codec = CodecOf(profile);
        var path = TestMedia.Get(profile, container);
        var work = WorkDirectory();
        try
        {
            var packets = FFmpegOracle.DemuxedPackets(path, work);
            var config = CodecConfiguration.Parse(codec, FFmpegOracle.Extradata(path));
            var trace = FFmpegOracle.TraceHeaders(path);

            Assert.That(config.Framing, Is.EqualTo(container == Container.MpegTs ? NalFraming.AnnexB : NalFraming.LengthPrefixed4));
            Assert.That(config.NalUnits.Select(n => Describe(NalHeader.Read(codec, n.Span))), Is.EqualTo(trace.Extradata), "extradata NAL units");
            Assert.That(packets, Has.Count.EqualTo(trace.Packets.Count));
            for (int i = 0; i < packets.Count; i++)
            {
                Assert.That(packets[i].Length, Is.EqualTo(trace.Packets[i].Size), $"size of packet {i}");
                Assert.That(NalList(packets[i], codec, config.Framing), Is.EqualTo(trace.Packets[i].Nals), $"NAL units of packet {i}");
                Assert.That(AccessUnitInfo.Read(packets[i], codec, config.Framing).IsKeyframe, Is.EqualTo(trace.Packets[i].IsKey), $"keyframe flag of packet {i}");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestCaseSource(nameof(Profiles))]
    public void Mp4Packets_NalBytes_EqualWhatFFmpegsAnnexBFilterWrites(VideoProfile profile)
    {
        var codec = CodecOf(profile);
        var path = TestMedia.Get(profile, Container.Mp4);
        var work = WorkDirectory();
        try
        {
            var config = CodecConfiguration.Parse(codec, FFmpegOracle.Extradata(path));
            var ours = FFmpegOracle.DemuxedPackets(path, work)
                .SelectMany(p => Nals.ReadAll(p, codec, config.Framing).Select(n => n.GetBytes(p).ToArray()))
                .ToList();
            var annexB = Path.Combine(work, "filtered." + (codec == VideoCodec.H264 ? "h264" : "h265"));
            FFmpegCli.Ffmpeg("-v", "error", "-i", path, "-map", "0:v:0", "-c", "copy",
                "-bsf:v", codec == VideoCodec.H264 ? "h264_mp4toannexb" : "hevc_mp4toannexb",
                "-f", codec == VideoCodec.H264 ? "h264" : "hevc", annexB).EnsureSuccess("mp4toannexb");
            var data = File.ReadAllBytes(annexB);
            // The filter puts the hvcC/avcC NAL units (parameter sets, and x265's SEI) before each keyframe.
            var outOfBand = config.NalUnits.Select(n => Convert.ToHexString(n.Span)).ToHashSet();
            var theirs = Nals.ReadAll(data, codec, NalFraming.AnnexB)
                .Where(n => !n.Header.IsParameterSet && !outOfBand.Contains(Convert.ToHexString(n.GetBytes(data))))
                .Select(n => n.GetBytes(data).ToArray())
                .ToList();
            Assert.That(ours.Where(n => !NalHeader.Read(codec, n).IsParameterSet).ToList(), Is.EqualTo(theirs));
            Assert.That(ours, Has.Count.GreaterThan(TestMedia.FrameCount - 1));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestCaseSource(nameof(SpliceCases))]
    public void Splice_IntoEveryAccessUnit_DecodesToTheSameFramesWithOurSeiOnEach(VideoProfile profile, Container container)
    {
        var codec = CodecOf(profile);
        var path = TestMedia.Get(profile, container);
        var work = WorkDirectory();
        try
        {
            NalFraming framing;
            List<byte[]> units;
            CodecConfiguration? config = null;
            if (container == Container.AnnexB)
            {
                framing = NalFraming.AnnexB;
                units = SplitAccessUnits(File.ReadAllBytes(path), codec);
            }
            else
            {
                config = CodecConfiguration.Parse(codec, FFmpegOracle.Extradata(path));
                framing = config.Framing;
                units = FFmpegOracle.DemuxedPackets(path, work);
            }

            var random = new Random((int)profile * 31 + (int)container);
            var expected = new List<string>();
            var output = new MemoryStream();
            for (int i = 0; i < units.Count; i++)
            {
                var userData = Nals.Hostile(random, SizeFor(i, random));
                expected.Add(Convert.ToHexStringLower(userData));
                var spliced = SpliceOne(units[i], codec, framing, userData);
                Assert.That(FindOurs(spliced, codec, framing), Is.EqualTo(userData), $"our reader finds the payload in access unit {i}");
                if (framing.IsAnnexB)
                {
                    output.Write(spliced);
                    continue;
                }
                if (i == 0)
                {
                    var parameterSets = new byte[config!.GetParameterSetsLength(NalFraming.AnnexB)];
                    config.WriteParameterSets(NalFraming.AnnexB, parameterSets);
                    output.Write(parameterSets);
                }
                NalFramingConverter.TryGetConvertedLength(spliced, codec, framing, NalFraming.AnnexB, out int length, out _, out _);
                var converted = new byte[length];
                Assert.That(NalFramingConverter.TryConvert(spliced, codec, framing, NalFraming.AnnexB, converted, out _, out _, out _), Is.EqualTo(ReadStatus.Success));
                output.Write(converted);
            }
            var splicedPath = Path.Combine(work, "spliced." + (codec == VideoCodec.H264 ? "h264" : "h265"));
            File.WriteAllBytes(splicedPath, output.ToArray());

            var originalFrames = FFmpegCli.VideoFrameMd5(path);
            var splicedFrames = FFmpegCli.VideoFrameMd5(splicedPath);
            var perFrame = FFmpegOracle.UserDataPerFrame(splicedPath);
            var ourUuid = Convert.ToHexStringLower(OurUuid);
            var probe = FFmpegOracle.ProbeUserDataFrames(splicedPath);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(originalFrames, Has.Count.EqualTo(TestMedia.FrameCount));
                Assert.That(splicedFrames, Is.EqualTo(originalFrames), "framemd5 of the spliced stream");
                Assert.That(perFrame, Has.Count.EqualTo(TestMedia.FrameCount));
                Assert.That(perFrame.Select(f => f.Count(u => u.Uuid == ourUuid)), Is.All.EqualTo(1), "one of our messages on every frame");
                Assert.That(perFrame.SelectMany(f => f.Where(u => u.Uuid == ourUuid).Select(u => u.Data)), Is.EquivalentTo(expected), "exact bytes");
                Assert.That(probe, Is.EqualTo((TestMedia.FrameCount, TestMedia.FrameCount)), "ffprobe -show_frames side data on every frame");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestCase(VideoProfile.H264Main, Container.Mp4)]
    [TestCase(VideoProfile.H265Main, Container.MpegTs)]
    public void RealAccessUnit_EveryTruncation_EveryParserReportsWithoutThrowing(VideoProfile profile, Container container)
    {
        var codec = CodecOf(profile);
        var path = TestMedia.Get(profile, container);
        var work = WorkDirectory();
        try
        {
            var config = CodecConfiguration.Parse(codec, FFmpegOracle.Extradata(path));
            var unit = FFmpegOracle.DemuxedPackets(path, work)[0];
            var sei = Nals.SeiNal(codec, config.Framing, [1, 2, 3]);
            var scratch = new byte[unit.Length];
            var destination = new byte[unit.Length + sei.Length];
            int spliced = 0, refused = 0;
            for (int cut = 0; cut <= unit.Length; cut++)
            {
                var part = unit.AsSpan(0, cut);
                var nals = new NalUnitReader(part, codec, config.Framing);
                ReadStatus status;
                while ((status = nals.Read(out _)) == ReadStatus.Success) { }
                Assert.That(status, Is.AnyOf(ReadStatus.EndOfData, ReadStatus.Malformed));
                var walk = new UserDataUnregisteredReader(part, codec, config.Framing, scratch);
                for (int guard = 0; guard < 64 && walk.Read(out _) != ReadStatus.EndOfData; guard++) { }
                AccessUnitInfo.TryRead(part, codec, config.Framing, out _, out _, out _);
                var result = AccessUnitSplicer.Splice(part, codec, config.Framing, sei, destination);
                if (result.IsSpliced) spliced++;
                else
                {
                    refused++;
                    Assert.That(destination.AsSpan(0, cut).SequenceEqual(part), Is.True, "a refused access unit is handed back untouched");
                    Assert.That(result.ToString(), Does.Contain("byte"));
                }
            }
            Assert.That((spliced, refused), Is.Not.EqualTo((0, 0)));
            Assert.That(refused, Is.GreaterThan(0));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [TestCase(VideoProfile.H264Slices)]
    [TestCase(VideoProfile.H265Main)]
    public void AnnexBFile_FedInRandomChunks_SplitsIntoTheSameAccessUnits(VideoProfile profile)
    {
        var codec = CodecOf(profile);
        var data = File.ReadAllBytes(TestMedia.Get(profile, Container.AnnexB));
        var whole = SplitAccessUnits(data, codec);
        var random = new Random(5);
        var chunked = new List<byte[]>();
        int start = 0, end = 0;
        while (true)
        {
            end = Math.Min(data.Length, end + random.Next(1, 3000));
            bool final = end == data.Length;
            var reader = new AnnexBAccessUnitReader(data.AsSpan(start, end - start), codec, final);
            ReadStatus status;
            while ((status = reader.Read(out var unit)) == ReadStatus.Success) chunked.Add(unit.ToArray());
            Assert.That(status, Is.EqualTo(final ? ReadStatus.EndOfData : ReadStatus.NeedMoreData));
            start += reader.BytesConsumed;
            if (final) break;
        }
        Assert.That(chunked, Is.EqualTo(whole));
    }

    /// <summary>Payload sizes that stress the 0xFF coding, then random ones up to 4096 bytes.</summary>
    private static int SizeFor(int index, Random random) => index switch
    {
        0 => 0,
        1 => 254 - 16,
        2 => 255 - 16,
        3 => 256 - 16,
        4 => 510 - 16,
        5 => 511 - 16,
        _ => random.Next(0, 4097 - 16),
    };

    private static byte[] SpliceOne(byte[] accessUnit, VideoCodec codec, NalFraming framing, byte[] userData)
    {
        var measure = SeiNalWriter.CreateMeasuring(codec, framing);
        measure.WriteUserDataUnregistered(OurUuid, userData);
        var sei = new byte[measure.Complete()];
        var writer = new SeiNalWriter(sei, codec, framing);
        writer.WriteUserDataUnregistered(OurUuid, userData);
        writer.Complete();
        var spliced = new byte[accessUnit.Length + sei.Length];
        var result = AccessUnitSplicer.Splice(accessUnit, codec, framing, sei, spliced);
        Assert.That(result.IsSpliced, Is.True, result.ToString());
        var nals = Nals.ReadAll(spliced, codec, framing);
        int ours = nals.FindIndex(n => n.FramedOffset == result.InsertionOffset);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nals[ours].Header.IsPrefixSei, Is.True);
            Assert.That(nals.Take(ours).Select(n => n.Header.StartsPictureData), Is.All.False, "nothing before our SEI is a slice");
            Assert.That(nals[ours + 1].Header.IsVcl, Is.True, "our SEI is right before the first slice");
            Assert.That(nals.Skip(ours).Select(n => n.Header.IsAccessUnitDelimiter), Is.All.False, "never before an AUD");
        }
        return spliced;
    }

    private static byte[]? FindOurs(byte[] accessUnit, VideoCodec codec, NalFraming framing)
    {
        var reader = new UserDataUnregisteredReader(accessUnit, codec, framing, new byte[accessUnit.Length]);
        byte[]? found = null;
        ReadStatus status;
        while ((status = reader.Read(out var message)) == ReadStatus.Success)
        {
            if (message.Uuid.SequenceEqual(OurUuid)) found = message.UserData.ToArray();
        }
        Assert.That(status, Is.EqualTo(ReadStatus.EndOfData), reader.DescribeError());
        return found;
    }

    internal static List<byte[]> SplitAccessUnits(byte[] data, VideoCodec codec)
    {
        var units = new List<byte[]>();
        var reader = new AnnexBAccessUnitReader(data, codec);
        ReadStatus status;
        while ((status = reader.Read(out var unit)) == ReadStatus.Success) units.Add(unit.ToArray());
        Assert.That(status, Is.EqualTo(ReadStatus.EndOfData));
        return units;
    }

    private static List<(int Type, int TemporalId)> NalList(byte[] accessUnit, VideoCodec codec, NalFraming framing) =>
        Nals.ReadAll(accessUnit, codec, framing).Select(n => Describe(n.Header)).ToList();

    private static (int Type, int TemporalId) Describe(NalHeader header) => (header.Type, header.TemporalId);

    private static string WorkDirectory()
    {
        var dir = Path.Combine(TestMedia.Directory, "core-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
