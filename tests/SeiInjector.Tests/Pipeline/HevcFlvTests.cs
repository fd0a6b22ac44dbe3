using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// HEVC in enhanced FLV, which FFmpeg carries from 6.1 (libavformat 60.16): in and out, judged by FFmpeg. On an older
/// FFmpeg the tests are skipped and say which release lacks it. (Over RTMP it is covered by scripts/ffmpeg-matrix.sh
/// only for files and pipes so far: a loopback test against `ffmpeg -listen 1` ended in EIO on 7.1, not yet examined.)
/// </summary>
[NonParallelizable]
public class HevcFlvTests
{
    private SigningKey _key = null!;
    private string _work = null!;

    [OneTimeSetUp]
    public void CreateKeyAndFolder()
    {
        _key = SigningKey.Generate(9);
        _work = Directory.CreateTempSubdirectory("sei-inject-hevc-flv-").FullName;
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    [SetUp]
    public void RequireHevcInFlv()
    {
        if (!FFmpegCli.FlvCarriesHevc) Assert.Ignore(FFmpegCli.NoHevcInFlvReason);
    }

    [TestCase(VideoProfile.H265Main)]
    [TestCase(VideoProfile.H265Main10)]
    public void HevcFlvFile_InjectedWithAHeartbeatPerFrame_DecodesTheSamePicturesAndEveryMessageVerifies(VideoProfile profile)
    {
        var input = TestMedia.Get(profile, Container.Flv);
        var output = Path.Combine(_work, $"{profile}-out.flv");
        Inject(input, output);
        AssertSamePicturesAndAHeartbeatPerFrame(input, output);
    }

    private void Inject(string input, string output)
    {
        var book = new CueBook(new CueBookOptions { StreamId = "hevc-flv", Heartbeat = HeartbeatPolicy.OnEveryFrame, Repeat = 3 });
        book.Add(new CueRequest("cue-at-1", MessageKind.Custom, CueTime.FromFirstFrame(TimeSpan.FromSeconds(1)), TimeSpan.Zero, TimeSpan.Zero, "{\"n\":1}"u8.ToArray()));
        var source = new RecordingSeiSource(new CueSeiSource(book, new MessageSigner(_key)));
        var report = new InjectionPipeline(new PipelineOptions { InputUrl = input, OutputUrl = output, IoTimeout = TimeSpan.FromSeconds(30) }, source).Run();
        Assert.Multiple(() =>
        {
            Assert.That(report.Cancelled, Is.False);
            Assert.That(source.NotCarriedReasons, Is.Empty);
        });
    }

    private void AssertSamePicturesAndAHeartbeatPerFrame(string input, string output)
    {
        var framesIn = Probe.VideoFrames(input);
        var framesOut = Probe.VideoFrames(output);
        var inspected = new List<InspectedMessage>();
        new StreamInspector(_key.PublicKey).Inspect(output, null, TimeSpan.FromSeconds(10), inspected.Add);
        Assert.Multiple(() =>
        {
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)), "decoded frames");
            Assert.That(framesOut, Has.Count.EqualTo(TestMedia.FrameCount));
            Assert.That(framesOut.Zip(framesIn).Select(f => f.First.Unregistered - f.Second.Unregistered), Is.All.GreaterThanOrEqualTo(1), "our SEI on every frame (a cue frame carries more than one message)");
            Assert.That(inspected.Select(m => m.Verified), Is.All.True);
            Assert.That(inspected.Count(m => m.Message is HeartbeatMessage), Is.EqualTo(TestMedia.FrameCount));
            Assert.That(inspected.Count(m => m.Message is CueMessage c && c.CueId == "cue-at-1"), Is.Positive);
        });
    }
}
