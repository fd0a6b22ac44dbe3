using CatEvening.SeiInjector.Pipeline;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

public class MediaUrlTests
{
    [TestCase("-", "pipe:0", "pipe:1")]
    [TestCase("./-", "./-", "./-")]
    [TestCase("pipe:0", "pipe:0", "pipe:0")]
    [TestCase("in.ts", "in.ts", "in.ts")]
    public void Dash_IsStandardInputOrOutput_AsForFfmpeg(string given, string input, string output)
    {
        Assert.Multiple(() =>
        {
            Assert.That(MediaUrl.Input(given), Is.EqualTo(input));
            Assert.That(MediaUrl.Output(given), Is.EqualTo(output));
        });
    }

    [TestCase("show.ts", "show.ts")]
    [TestCase("/srv/a:b.ts", "/srv/a:b.ts")]
    [TestCase("./a:b.ts", "./a:b.ts")]
    [TestCase("file:show.ts", "show.ts")]
    [TestCase("FILE:/srv/show.ts", "/srv/show.ts")]
    [TestCase("-", null)]
    [TestCase("pipe:1", null)]
    [TestCase("fd:3", null)]
    [TestCase("rtmp://host/app/key", null)]
    [TestCase("srt://host:9000?mode=listener", null)]
    public void LocalPath_IsTheFileFfmpegsFileProtocolOpens(string url, string? path) =>
        Assert.That(MediaUrl.LocalPath(url), Is.EqualTo(path));

    [Test]
    public void SameLocalFile_PipesAndNetworkUrls_AreNever()
    {
        Assert.Multiple(() =>
        {
            Assert.That(MediaUrl.SameLocalFile("pipe:0", "pipe:0", out _, out _), Is.False);
            Assert.That(MediaUrl.SameLocalFile("-", "-", out _, out _), Is.False);
            Assert.That(MediaUrl.SameLocalFile("rtmp://h/a/k", "rtmp://h/a/k", out _, out _), Is.False);
        });
    }

    [Test]
    public void SameLocalFile_OtherFileInTheSameFolder_IsNot_AndAMissingOutputIsNot()
    {
        var folder = Directory.CreateTempSubdirectory("media-url-");
        try
        {
            var input = Path.Combine(folder.FullName, "in.ts");
            File.WriteAllBytes(input, [1, 2, 3]);
            var other = Path.Combine(folder.FullName, "other.ts");
            File.WriteAllBytes(other, [1, 2, 3]);
            Assert.Multiple(() =>
            {
                Assert.That(MediaUrl.SameLocalFile(input, other, out _, out _), Is.False);
                Assert.That(MediaUrl.SameLocalFile(input, Path.Combine(folder.FullName, "new.ts"), out _, out _), Is.False);
                Assert.That(MediaUrl.SameLocalFile(input, Path.Combine(folder.FullName, ".", "in.ts"), out var a, out var b), Is.True);
                Assert.That(a, Is.EqualTo(b));
            });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
