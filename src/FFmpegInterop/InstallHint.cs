namespace CatEvening.FFmpegInterop;

/// <summary>
/// The command that installs FFmpeg's shared libraries on the machine at hand, from its <c>/etc/os-release</c>:
/// apt package names carry the library major, so they differ per Debian and Ubuntu release.
/// </summary>
internal static class InstallHint
{
    private const string OsReleasePath = "/etc/os-release";

    /// <summary>The hint for this machine.</summary>
    internal static string ForThisMachine()
    {
        if (OperatingSystem.IsMacOS()) return "brew install ffmpeg";
        if (OperatingSystem.IsWindows())
            return $"winget install ffmpeg (a shared build), then set {FFmpegLibrary.DirectoryVariable} to its bin folder";
        string? osRelease;
        try
        {
            osRelease = File.Exists(OsReleasePath) ? File.ReadAllText(OsReleasePath) : null;
        }
        catch (IOException)
        {
            osRelease = null;
        }
        catch (UnauthorizedAccessException)
        {
            osRelease = null;
        }
        return ForLinux(osRelease);
    }

    /// <summary>The hint for a Linux system described by the text of its os-release file (null when there is none).</summary>
    internal static string ForLinux(string? osReleaseText)
    {
        var os = Parse(osReleaseText);
        var id = os.GetValueOrDefault("ID", "");
        var like = os.GetValueOrDefault("ID_LIKE", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var codename = os.GetValueOrDefault("VERSION_CODENAME", "");
        var name = os.GetValueOrDefault("PRETTY_NAME", id);

        if (id == "debian")
        {
            // sid's os-release carries the next release's codename and "sid" in PRETTY_NAME, and no VERSION_ID.
            if (name.EndsWith("/sid", StringComparison.Ordinal) || codename is "sid" or "forky")
                return Apt(name, "libavformat63 libavcodec63 libavutil61", "FFmpeg 9.x; its 8.x libraries: libavformat62 libavcodec62 libavutil60");
            switch (codename)
            {
                case "trixie": return Apt(name, "libavformat61 libavcodec61 libavutil59", "FFmpeg 7.1");
                case "bookworm": return Apt(name, "libavformat59 libavcodec59 libavutil57", "FFmpeg 5.1");
                case "bullseye": return TooOld(name, "4.3");
            }
        }
        if (id == "ubuntu")
        {
            switch (codename)
            {
                case "jammy": return TooOld(name, "4.4");
                case "noble": return Apt(name, "libavformat60 libavcodec60 libavutil58", "FFmpeg 6.1");
                case "oracular" or "plucky": return Apt(name, "libavformat61 libavcodec61 libavutil59", "FFmpeg 7.x");
            }
        }
        if (id is "debian" or "ubuntu" || like.Contains("debian") || like.Contains("ubuntu"))
            return "sudo apt-get install ffmpeg (it pulls in the libavformat/libavcodec/libavutil of the release's FFmpeg, which must be 5.1 or newer)";
        if (id is "fedora" or "rhel" or "centos" or "rocky" or "almalinux" || like.Contains("fedora") || like.Contains("rhel"))
            return "sudo dnf install ffmpeg-libs (RPM Fusion), or Fedora's own sudo dnf install libavformat-free libavcodec-free libavutil-free";
        if (id is "arch" or "manjaro" || like.Contains("arch"))
            return "sudo pacman -S ffmpeg";
        if (id.StartsWith("opensuse", StringComparison.Ordinal) || like.Contains("suse"))
            return "sudo zypper install ffmpeg (from Packman for every codec)";
        return "your package manager's FFmpeg (5.1 or newer, with its shared libraries): sudo apt-get install ffmpeg, sudo dnf install ffmpeg-libs, or brew install ffmpeg";
    }

    private static string Apt(string system, string packages, string release) =>
        $"sudo apt-get install {packages} ({release} on {system})";

    private static string TooOld(string system, string version) =>
        $"{system} ships FFmpeg {version}, older than 5.1: install FFmpeg 5.1 or newer with its shared libraries (e.g. a newer distribution release or a shared build) and set {FFmpegLibrary.DirectoryVariable} to their folder";

    /// <summary>KEY=value lines, values optionally quoted (os-release(5)); comments and malformed lines are skipped.</summary>
    internal static Dictionary<string, string> Parse(string? text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text == null) return values;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || equals <= 0) continue;
            var value = line[(equals + 1)..];
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]) value = value[1..^1];
            values[line[..equals]] = value;
        }
        return values;
    }
}
