using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The nginx-rtmp fixture is a real RTMP server: what ffmpeg publishes comes back out unchanged.</summary>
[TestFixture]
[NonParallelizable]
public class NginxRtmpTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);

    [Test]
    public void PublishedClip_PulledBack_HasEveryFrameUnchanged()
    {
        var clip = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        using var server = NginxRtmp.StartShared();
        var pulled = PullAndPublish(server, clip, "fixture-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(FFmpegCli.VideoFrameMd5(pulled), Is.EqualTo(FFmpegCli.VideoFrameMd5(clip)));
                Assert.That(FFmpegCli.AudioPacketMd5(pulled), Has.Count.EqualTo(FFmpegCli.AudioPacketMd5(clip).Count));
            });
        }
        finally
        {
            File.Delete(pulled);
        }
    }

    [Test]
    public void PrivateServer_StoppedAndStartedAgain_RefusesThenServesOnTheSamePort()
    {
        var clip = TestMedia.Get(VideoProfile.H264Baseline, Container.Flv);
        using var server = NginxRtmp.StartPrivate();
        var port = server.Port;
        server.Stop();
        var refused = FFmpegCli.Ffmpeg("-v", "error", "-i", clip, "-c", "copy", "-f", "flv", server.Url("down"));
        Assert.Multiple(() =>
        {
            Assert.That(server.IsRunning, Is.False);
            Assert.That(refused.ExitCode, Is.Not.Zero, "publishing to a stopped server must fail");
        });

        server.Start();
        var pulled = PullAndPublish(server, clip, "up-again");
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(server.Port, Is.EqualTo(port));
                Assert.That(FFmpegCli.VideoFrameMd5(pulled), Has.Count.EqualTo(TestMedia.FrameCount));
            });
        }
        finally
        {
            File.Delete(pulled);
        }
    }

    /// <summary>Starts a reader on the stream, publishes the clip in real time once the reader waits, returns the pulled file.</summary>
    private static string PullAndPublish(NginxRtmp server, string clip, string stream)
    {
        var pulled = Path.Combine(Path.GetTempPath(), $"catevening-pulled-{Guid.NewGuid():N}.flv");
        var players = CountPlays(server, stream);
        var reader = Task.Run(() => FFmpegCli.Ffmpeg("-v", "error", "-rw_timeout", "60000000", "-i", server.Url(stream), "-c", "copy", "-f", "flv", "-y", pulled));
        server.WaitForPlayers(stream, players + 1, EventTimeout);
        FFmpegCli.Ffmpeg("-v", "error", "-re", "-i", clip, "-c", "copy", "-f", "flv", server.Url(stream)).EnsureSuccess("publishing " + clip);
        Assert.That(reader.Wait(EventTimeout), Is.True, "the reader did not end with the stream:\n" + server.ErrorLog);
        reader.Result.EnsureSuccess("pulling " + server.Url(stream));
        return pulled;
    }

    private static int CountPlays(NginxRtmp server, string stream) =>
        server.ErrorLog.Split('\n').Count(l => l.Contains($"play: name='{stream}'", StringComparison.Ordinal));
}
