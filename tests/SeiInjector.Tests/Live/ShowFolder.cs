using CatEvening.Tests.Shared;
using static CatEvening.SeiInjector.Tests.Live.LiveEndToEndTests;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// The files a live test's injectors share: a fresh temp folder with a key pair made by <c>sei-inject keygen</c>
/// (<c>key.pem</c>, <c>key.pub</c>) and a control token file (<c>token</c>, mode 0600). Disposing deletes the folder.
/// </summary>
internal sealed class ShowFolder : IDisposable
{
    private ShowFolder(string path) => Path = path;

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The private key (PEM).</summary>
    public string Key => File("key.pem");

    /// <summary>The public key (PEM).</summary>
    public string PublicKey => File("key.pub");

    /// <summary>The control token file.</summary>
    public string TokenFile => File("token");

    /// <summary>Creates the folder (<paramref name="prefix"/> plus a random suffix), the key pair and the token file.</summary>
    public static ShowFolder Create(string prefix, string token)
    {
        var folder = new ShowFolder(Directory.CreateTempSubdirectory(prefix).FullName);
        SeiInject.Run(["keygen", "--private", folder.Key, "--public", folder.PublicKey]).EnsureSuccess("keygen");
        SecretFile.Write(folder.TokenFile, token + "\n");
        return folder;
    }

    /// <summary>A file of the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
