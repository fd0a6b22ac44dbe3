namespace CatEvening.Tests.Shared;

/// <summary>Writes files that CatEvening treats as secrets (control tokens) the way an operator must: mode 0600.</summary>
public static class SecretFile
{
    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> and makes it readable by its owner only.</summary>
    public static void Write(string path, string text)
    {
        File.WriteAllText(path, text);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
