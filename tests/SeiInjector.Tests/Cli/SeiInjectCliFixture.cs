using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Cli;

/// <summary>
/// The <c>sei-inject</c> CLI as an operator runs it (a separate process, its output and exit code), with a fresh work
/// folder and a key pair made by <c>keygen</c> once per fixture.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public abstract class SeiInjectCliFixture
{
    private readonly string _folderPrefix;
    private readonly TimeSpan _timeout;

    /// <param name="folderPrefix">Name of the work folder under the temp folder, before a random suffix.</param>
    /// <param name="timeout">Longest one CLI run may take before it counts as hung.</param>
    protected SeiInjectCliFixture(string folderPrefix, TimeSpan timeout)
    {
        _folderPrefix = folderPrefix;
        _timeout = timeout;
    }

    protected string Work { get; private set; } = null!;

    protected string PrivateKey { get; private set; } = null!;

    protected string PublicKey { get; private set; } = null!;

    /// <summary>The sei-inject the build put beside the tests.</summary>
    protected static string Cli => Path.Combine(AppContext.BaseDirectory, "sei-inject.dll");

    [OneTimeSetUp]
    public void CreateWorkFolderAndKeys()
    {
        Work = Path.Combine(Path.GetTempPath(), _folderPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Work);
        PrivateKey = Path.Combine(Work, "show.key");
        PublicKey = Path.Combine(Work, "show.pub");
        Assert.That(SeiInject("keygen", "--private", PrivateKey, "--public", PublicKey).ExitCode, Is.EqualTo(0));
    }

    [OneTimeTearDown]
    public void DeleteWorkFolder() => Directory.Delete(Work, recursive: true);

    protected FFmpegCli.Result SeiInject(params string[] args) => FFmpegCli.Run("dotnet", [Cli, .. args], _timeout);
}
