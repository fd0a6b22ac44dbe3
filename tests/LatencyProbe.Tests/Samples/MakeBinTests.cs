using CatEvening.Tests.Shared;

namespace CatEvening.LatencyProbe.Tests.Samples;

/// <summary><c>make bin</c> (scripts/make-bin.sh): the plain build's sei-inject and latency-probe on one known path.</summary>
[TestFixture]
public sealed class MakeBinTests
{
    [Test]
    [Platform(Include = "Linux,MacOsX", Reason = "a POSIX shell script")]
    public void MakeBin_PutsBothProgramsOnOnePath_AndTheyRun()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dir = Directory.CreateTempSubdirectory("make-bin-");
        try
        {
            var script = Path.Combine(TestMedia.RepositoryRoot, "scripts", "make-bin.sh");
            var info = new System.Diagnostics.ProcessStartInfo("sh", [script, dir.FullName]) { RedirectStandardOutput = true, UseShellExecute = false };
            info.Environment["CONFIG"] = configuration;
            using (var make = System.Diagnostics.Process.Start(info)!)
            {
                make.StandardOutput.ReadToEnd();
                Assert.That(make.WaitForExit(60_000) && make.ExitCode == 0, Is.True, "make-bin.sh");
            }
            var probe = FFmpegCli.Run(Path.Combine(dir.FullName, "latency-probe"), ["clock", "query", "127.0.0.1"], TimeSpan.FromSeconds(60));
            var inject = FFmpegCli.Run(Path.Combine(dir.FullName, "sei-inject"), ["--help"], TimeSpan.FromSeconds(60));
            Assert.Multiple(() =>
            {
                Assert.That(probe.ExitCode, Is.EqualTo(2), "the built latency-probe runs (and refuses an address without a port)");
                Assert.That(probe.StdErr, Does.Contain("clock query: '127.0.0.1' has no port"));
                Assert.That(inject.ExitCode, Is.Zero, inject.StdErr);
                Assert.That(inject.StdOut, Does.Contain("sei-inject: splices signed CatEvening SEI messages"));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
