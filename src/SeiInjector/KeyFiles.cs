using System.Security.Cryptography;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Cli;

/// <summary>Reads and writes key files with the permissions a signing key needs.</summary>
internal static class KeyFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Writes a new file (never overwrites) created with <paramref name="mode"/> from the start, so no other user can open it in between.</summary>
    public static void WriteNew(string path, string text, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            writer.Write(text);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new CliException(ExitCodes.BadFile, $"{path} already exists: remove it or choose another name (keys are never overwritten)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadFile, $"{path}: cannot write: {e.Message}");
        }
    }

    /// <summary>Writes a private key with mode 0600.</summary>
    public static void WritePrivate(string path, string pem) => WriteNew(path, pem, OwnerOnly);

    /// <summary>Writes a public key with mode 0644.</summary>
    public static void WritePublic(string path, string pem) =>
        WriteNew(path, pem, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

    /// <summary>Loads the private key, refusing a file that group or others may read or write.</summary>
    public static SigningKey ReadPrivate(string path)
    {
        if (Directory.Exists(path)) throw new CliException(ExitCodes.BadFile, $"--key {path}: a directory, not a key file");
        if (!File.Exists(path)) throw new CliException(ExitCodes.BadFile, $"--key {path}: no such file");
        // Said before the permission check: a public key is meant to be readable, and chmod would not make it a private one.
        if (HoldsOnlyAPublicKey(path))
            throw new CliException(ExitCodes.BadFile, $"--key {path}: not a CatEvening private key ({KeyFormatError.NoPemBlock}): it holds a PUBLIC KEY; " +
                "--key takes the private key (the --private file of sei-inject keygen)");
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOthers) != 0)
                throw new CliException(ExitCodes.BadFile,
                    $"--key {path}: the private key is accessible by group or others (mode {Convert.ToString((int)mode, 8)}); run: chmod 600 {path}");
        }
        try
        {
            return SigningKey.FromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadFile, $"--key {path}: cannot read: {e.Message}");
        }
        catch (KeyFormatException e)
        {
            throw new CliException(ExitCodes.BadFile, $"--key {path}: not a CatEvening private key ({e.Error}): {e.Message}");
        }
    }

    // Whether the file's PEM header (in its first 512 bytes: an optional key-id line, then the BEGIN line) names a public
    // key and no private one. Reads no more than that before the permission check, and wipes what it read.
    private static bool HoldsOnlyAPublicKey(string path)
    {
        var head = new byte[512];
        try
        {
            int read;
            using (var file = File.OpenRead(path)) read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            var text = head.AsSpan(0, read);
            return text.IndexOf("PUBLIC KEY"u8) >= 0 && text.IndexOf("PRIVATE KEY"u8) < 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(head);
        }
    }

    /// <summary>Loads a public key.</summary>
    public static VerificationKey ReadPublic(string path)
    {
        try
        {
            return VerificationKey.FromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadFile, $"--public-key {path}: cannot read: {e.Message}");
        }
        catch (KeyFormatException e)
        {
            throw new CliException(ExitCodes.BadFile, $"--public-key {path}: not a CatEvening public key ({e.Error}): {e.Message}");
        }
    }
}

/// <summary>A failure the CLI reports in one line with its exit code.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
