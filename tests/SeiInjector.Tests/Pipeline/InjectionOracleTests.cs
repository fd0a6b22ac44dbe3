using NUnit.Framework;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// Injects into real x264/x265 clips of every profile, in every container FFmpeg 5.1 muxes them in, and lets FFmpeg
/// judge the result: decoded frames, audio packets and timestamps unchanged; our SEI on exactly the carrier frames;
/// cues firing on the first frame at or after their time; signatures verifying, and failing once a bit flips.
/// </summary>
[NonParallelizable]
public class InjectionOracleTests
{
    private static readonly (string Id, MessageKind Kind, double At, double Duration)[] Schedule =
    [
        ("open-at-0.5", MessageKind.InteractionStart, 0.5, 0.6),
        ("custom-at-1.23", MessageKind.Custom, 1.23, 0),
    ];

    private SigningKey _key = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public void CreateKeyAndFolder()
    {
        _key = SigningKey.Generate(7);
        _work = Path.Combine(Path.GetTempPath(), "sei-inject-oracle-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_work);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    public static IEnumerable<TestCaseData> ContainerCases() =>
        TestMedia.AllCombinations()
            .Where(c => c.Item2 != Container.AnnexB)
            .Select(c => new TestCaseData(c.Item1, c.Item2).SetName($"Inject_{c.Item1}_{c.Item2}_FramesAudioAndTimestampsUnchanged_SeiOnExactlyTheCarriers_CuesFireOnTime"));

    [TestCaseSource(nameof(ContainerCases))]
    public void Inject(VideoProfile profile, Container container)
    {
        var input = TestMedia.Get(profile, container);
        var output = Path.Combine(_work, $"{profile}-out{Path.GetExtension(input)}");
        var (source, _) = Run(input, output, HeartbeatPolicy.Every(TimeSpan.FromSeconds(1)));

        var packetsIn = Probe.VideoPackets(input);
        var packetsOut = Probe.VideoPackets(output);
        var framesIn = Probe.VideoFrames(input);
        var framesOut = Probe.VideoFrames(output);
        var carrierPts = source.Carriers.Select(i => packetsOut[(int)i].Pts).ToHashSet();
        var withOurSei = framesOut.Zip(framesIn).Where(f => f.First.Unregistered > f.Second.Unregistered).Select(f => f.First.Pts).ToHashSet();
        var inspected = Inspect(output, _key.PublicKey);
        var firstFrame = Probe.Seconds(packetsOut[0].Pts);

        Assert.Multiple(() =>
        {
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)), "decoded frames");
            Assert.That(AudioPackets(output), Is.EqualTo(AudioPackets(input)), "audio packets: timestamps, sizes, bytes");
            Assert.That(packetsOut, Is.EqualTo(packetsIn), "video packet timestamps");
            Assert.That(source.NotCarriedReasons, Is.Empty);
            Assert.That(source.Carriers, Is.Not.Empty);
            Assert.That(withOurSei, Is.EquivalentTo(carrierPts), "ffprobe finds the user_data_unregistered side data on exactly the carrier frames");
            Assert.That(framesOut.Zip(framesIn).Select(f => f.First.Unregistered - f.Second.Unregistered), Is.All.InRange(0, 1),
                "format version 2: FFmpeg finds one user_data_unregistered message of ours per frame, however many messages ride on it");
            Assert.That(inspected.Select(m => m.Verified), Is.All.True, "every occurrence verifies");
            Assert.That(inspected.Count(m => m.Message is HeartbeatMessage), Is.EqualTo(2), "one heartbeat per second of a 2 s clip");
            foreach (var (id, kind, at, _) in Schedule)
            {
                var first = inspected.First(m => m.Message is CueMessage c && c.CueId == id);
                var expected = framesOut.Select(f => Probe.Seconds(f.Pts)).Where(t => t >= firstFrame + at - 1e-9).Min();
                Assert.That(first.Kind, Is.EqualTo(kind.ToWireName()), id);
                Assert.That(first.First, Is.True, id);
                Assert.That(first.FireTime, Is.EqualTo(expected).Within(1e-6), $"{id}: fires on the first frame at or after {at} s");
                var fireFrame = packetsOut.FindIndex(p => Math.Abs(Probe.Seconds(p.Pts) - expected) < 1e-6);
                Assert.That(first.FrameIndex, Is.LessThanOrEqualTo(fireFrame), $"{id}: decoded no later than the frame it fires on");
            }
        });
    }

    public static IEnumerable<TestCaseData> EveryFrameCases() =>
        new[] { (VideoProfile.H264HighBPyramid, Container.Mp4), (VideoProfile.H265Main, Container.MpegTs), (VideoProfile.H264Interlaced, Container.Mkv), (VideoProfile.H265Main10, Container.Mkv) }
            .Select(c => new TestCaseData(c.Item1, c.Item2).SetName($"HeartbeatEveryFrame_{c.Item1}_{c.Item2}_PutsOurSeiOnEveryFrame"));

    [TestCaseSource(nameof(EveryFrameCases))]
    public void HeartbeatEveryFrame(VideoProfile profile, Container container)
    {
        var input = TestMedia.Get(profile, container);
        var output = Path.Combine(_work, $"{profile}-every{Path.GetExtension(input)}");
        Run(input, output, HeartbeatPolicy.OnEveryFrame, withSchedule: false);
        var framesIn = Probe.VideoFrames(input);
        var framesOut = Probe.VideoFrames(output);
        Assert.Multiple(() =>
        {
            Assert.That(framesOut, Has.Count.EqualTo(TestMedia.FrameCount));
            Assert.That(framesOut.Zip(framesIn).Select(f => f.First.Unregistered - f.Second.Unregistered), Is.All.EqualTo(1));
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
        });
    }

    [TestCase(VideoProfile.H264Main)]
    [TestCase(VideoProfile.H265Main)]
    public void RawAnnexBWithoutTimestamps_PassesUntouched_AndStillCarriesHeartbeats(VideoProfile profile)
    {
        var input = TestMedia.Get(profile, Container.AnnexB);
        var output = Path.Combine(_work, $"{profile}-raw{Path.GetExtension(input)}");
        var (source, _) = Run(input, output, HeartbeatPolicy.OnEveryFrame, withSchedule: false);
        var framesIn = Probe.VideoFrames(input);
        var framesOut = Probe.VideoFrames(output);
        var inspected = Inspect(output, _key.PublicKey);
        Assert.Multiple(() =>
        {
            Assert.That(Probe.VideoPackets(input).Select(p => p.Pts), Is.All.EqualTo("N/A"), "the raw input has no timestamps");
            Assert.That(source.Carriers, Has.Count.EqualTo(TestMedia.FrameCount));
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
            Assert.That(framesOut.Zip(framesIn).Select(f => f.First.Unregistered - f.Second.Unregistered), Is.All.EqualTo(1));
            Assert.That(inspected, Has.Count.EqualTo(TestMedia.FrameCount));
            Assert.That(inspected.Select(m => m.Verified), Is.All.True);
        });
    }

    [TestCase(VideoProfile.H264Main, Container.Flv)]
    [TestCase(VideoProfile.H265Main, Container.Mp4)]
    public void BitFlippedCopy_IsReportedAsNotVerified(VideoProfile profile, Container container)
    {
        var input = TestMedia.Get(profile, container);
        var output = Path.Combine(_work, $"{profile}-flip-src{Path.GetExtension(input)}");
        Run(input, output, HeartbeatPolicy.Off);
        var bytes = File.ReadAllBytes(output);
        var uuid = CatEveningSei.Uuid.ToArray();
        var at = bytes.AsSpan().IndexOf(uuid);
        Assume.That(at, Is.GreaterThan(0));
        // Flip the lowest bit of a byte of the signed body (never 00-03, so emulation prevention is untouched): the
        // SEI syntax stays intact, only the signature no longer matches.
        var target = at + CatEveningSei.BodyOffset + 40;
        while (bytes[target] <= 3) target++;
        bytes[target] ^= 0x01;
        var flipped = Path.Combine(_work, $"{profile}-flipped{Path.GetExtension(input)}");
        File.WriteAllBytes(flipped, bytes);

        var original = Inspect(output, _key.PublicKey);
        var tampered = Inspect(flipped, _key.PublicKey);
        Assert.Multiple(() =>
        {
            Assert.That(original.Select(m => m.Verified), Is.All.True);
            Assert.That(tampered, Has.Count.EqualTo(original.Count));
            Assert.That(tampered.Count(m => !m.Verified), Is.EqualTo(1));
            Assert.That(tampered.Single(m => !m.Verified).Error, Does.StartWith(nameof(RejectionReason.BadSignature)));
            Assert.That(Inspect(output, SigningKey.Generate(7).PublicKey).Select(m => m.Verified), Is.All.False, "another key does not verify");
        });
    }

    private (RecordingSeiSource Source, CueBook Book) Run(string input, string output, HeartbeatPolicy heartbeat, bool withSchedule = true)
    {
        var book = new CueBook(new CueBookOptions { StreamId = "oracle", Heartbeat = heartbeat, Repeat = 3 });
        if (withSchedule)
            foreach (var (id, kind, at, duration) in Schedule)
                book.Add(new CueRequest(id, kind, CueTime.FromFirstFrame(TimeSpan.FromSeconds(at)), TimeSpan.FromSeconds(duration), TimeSpan.Zero, "{\"n\":1}"u8.ToArray()));
        var source = new RecordingSeiSource(new CueSeiSource(book, new MessageSigner(_key)));
        var report = new InjectionPipeline(new PipelineOptions { InputUrl = input, OutputUrl = output }, source).Run();
        Assert.That(report.Cancelled, Is.False);
        return (source, book);
    }

    // framemd5 of the audio packets without the container's side data: an MPEG-TS demuxer tags the first packet of each
    // PES with its stream id, and PES packing is the muxer's business (ffmpeg's CLI buffers 0.7 s of audio per PES, a
    // live muxer none), while timestamps, sizes and bytes must not change.
    private static List<string> AudioPackets(string path) =>
        FFmpegCli.AudioPacketMd5(path).Select(line => string.Join(',', line.Split(',').Take(6))).ToList();

    private static List<InspectedMessage> Inspect(string path, VerificationKey key)
    {
        var found = new List<InspectedMessage>();
        new StreamInspector(key).Inspect(path, null, TimeSpan.FromSeconds(10), found.Add);
        return found;
    }
}
