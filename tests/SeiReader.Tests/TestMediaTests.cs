using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests;

/// <summary>The clips every other test relies on are real and complete.</summary>
public class TestMediaTests
{
    [TestCase(VideoProfile.H264Main, Container.Mp4)]
    [TestCase(VideoProfile.H265Main, Container.AnnexB)]
    public void Clip_HasEveryFrame(VideoProfile profile, Container container)
    {
        var path = TestMedia.Get(profile, container);
        Assert.That(FFmpegCli.VideoFrameMd5(path), Has.Count.EqualTo(TestMedia.FrameCount));
    }
}
