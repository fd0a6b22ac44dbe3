using System.Text;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The control API's bearer token file: its first line, trimmed, at least <see cref="MinLength"/> characters, in a file
/// only its owner may read or write (mode 0600, like the signing key). Read by the server (<c>run --token-file</c>) and
/// by the clients (<c>cue</c>, <c>status</c>).
/// </summary>
public static class ControlToken
{
    /// <summary>Fewest characters a token may have: a short token is refused rather than guessed.</summary>
    public const int MinLength = 16;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Reads and checks the token file; returns the token's UTF-8 bytes.</summary>
    /// <exception cref="TokenFileException">
    /// The file is missing, unreadable, readable or writable by group or others, empty, or its token is too short or
    /// holds spaces; the message names the file and says how to fix it.
    /// </exception>
    public static byte[] Read(string tokenFile)
    {
        ArgumentNullException.ThrowIfNull(tokenFile);
        string text;
        try
        {
            if (!OperatingSystem.IsWindows() && File.Exists(tokenFile))
            {
                var mode = File.GetUnixFileMode(tokenFile);
                if ((mode & GroupOrOthers) != 0)
                    throw new TokenFileException(
                        $"--token-file {tokenFile}: the token is accessible by group or others (mode {Convert.ToString((int)mode, 8)}); run: chmod 600 {tokenFile}");
            }
            text = File.ReadAllText(tokenFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenFileException($"--token-file {tokenFile}: cannot read it ({e.Message}); the control API does not start without a token", e);
        }
        var token = text.Split('\n', 2)[0].Trim();
        if (token.Length == 0)
            throw new TokenFileException(text.Trim().Length == 0
                ? $"--token-file {tokenFile}: the file is empty; the control API does not start without a token"
                : $"--token-file {tokenFile}: its first line is empty; the token is the first line of the file");
        if (token.Length < MinLength)
            throw new TokenFileException($"--token-file {tokenFile}: the token has {token.Length} characters, at least {MinLength} are needed");
        if (token.Any(char.IsWhiteSpace))
            throw new TokenFileException($"--token-file {tokenFile}: the token must not contain spaces");
        return Encoding.UTF8.GetBytes(token);
    }
}

/// <summary>The control token file cannot be used; the message names the file and the fault.</summary>
public sealed class TokenFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TokenFileException() { }

    /// <summary>Creates the exception.</summary>
    public TokenFileException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public TokenFileException(string message, Exception? inner) : base(message, inner) { }
}
