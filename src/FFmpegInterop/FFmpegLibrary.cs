using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// Finds and loads the FFmpeg shared libraries of one supported release (5.1, 6.x or 7.x), checks their versions and the
/// struct layout this assembly reads, and tells which release was loaded.
/// </summary>
/// <remarks>
/// The search order is newest release first; <c>CATEVENING_FFMPEG_DIR</c>, when set, is searched before the system
/// paths. When nothing loads, <see cref="EnsureLoaded"/> throws a <see cref="DllNotFoundException"/> that lists every
/// path tried and the command that installs FFmpeg.
/// </remarks>
public static class FFmpegLibrary
{
    /// <summary>Name of the environment variable holding an extra folder to search first.</summary>
    public const string DirectoryVariable = "CATEVENING_FFMPEG_DIR";

    private static readonly object Gate = new();
    private static FFmpegRelease? s_loaded;
    private static Dictionary<string, nint>? s_handles;

    /// <summary>The release that was loaded; loads it on first use.</summary>
    public static FFmpegRelease Release
    {
        get
        {
            EnsureLoaded();
            return s_loaded!;
        }
    }

    internal static StructLayouts Layout => Release.Layout;

    /// <summary>
    /// Loads libavutil, libavcodec and libavformat of one supported release, once per process.
    /// </summary>
    /// <exception cref="DllNotFoundException">No supported release loads; the message lists every path tried and the install command.</exception>
    /// <exception cref="FFmpegException">The release that loads has mixed versions or an unexpected struct layout.</exception>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded) != null) return;
        lock (Gate)
        {
            if (s_loaded != null) return;
            var tried = new List<string>();
            foreach (var release in FFmpegRelease.Supported)
            {
                var handles = TryLoad(release, tried);
                if (handles == null) continue;
                s_handles = handles;
                NativeLibrary.SetDllImportResolver(typeof(FFmpegLibrary).Assembly, Resolve);
                CheckVersions(release);
                StructLayouts.Verify(release.Layout);
                AvUtil.av_log_set_level(LogLevelError);
                AvFormat.avformat_network_init();
                Volatile.Write(ref s_loaded, release);
                return;
            }
            throw new DllNotFoundException(NotFoundMessage(tried));
        }
    }

    private const int LogLevelError = 16;

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        s_handles != null && s_handles.TryGetValue(libraryName, out var handle) ? handle : 0;

    private static Dictionary<string, nint>? TryLoad(FFmpegRelease release, List<string> tried)
    {
        var handles = new Dictionary<string, nint>(StringComparer.Ordinal);
        foreach (var (logical, major) in new[] { (AvUtil.Library, release.AvUtilMajor), (AvCodec.Library, release.AvCodecMajor), (AvFormat.Library, release.AvFormatMajor) })
        {
            var handle = LoadFirst(logical, major, tried);
            if (handle == 0)
            {
                foreach (var h in handles.Values) NativeLibrary.Free(h);
                return null;
            }
            handles[logical] = handle;
        }
        return handles;
    }

    private static nint LoadFirst(string logical, int major, List<string> tried)
    {
        foreach (var candidate in Candidates(logical, major))
        {
            if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            tried.Add(candidate);
        }
        return 0;
    }

    private static IEnumerable<string> Candidates(string logical, int major)
    {
        string[] names =
            OperatingSystem.IsWindows() ? [$"{logical}-{major}.dll"] :
            OperatingSystem.IsMacOS() ? [$"lib{logical}.{major}.dylib"] :
            [$"lib{logical}.so.{major}"];
        var extra = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(extra))
            foreach (var n in names) yield return Path.Combine(extra, n);
        if (OperatingSystem.IsMacOS())
            foreach (var dir in new[] { "/opt/homebrew/lib", "/usr/local/lib" })
                foreach (var n in names) yield return Path.Combine(dir, n);
        foreach (var n in names) yield return n;
    }

    private static void CheckVersions(FFmpegRelease release)
    {
        var found = new[]
        {
            ("libavutil", (int)(AvUtil.avutil_version() >> 16), release.AvUtilMajor),
            ("libavcodec", (int)(AvCodec.avcodec_version() >> 16), release.AvCodecMajor),
            ("libavformat", (int)(AvFormat.avformat_version() >> 16), release.AvFormatMajor),
        };
        foreach (var (name, actual, expected) in found)
            if (actual != expected)
                throw new FFmpegException($"{name} reports major version {actual} but was loaded as major {expected} (FFmpeg {release.Name}): the installation mixes FFmpeg releases");
    }

    internal static string NotFoundMessage(List<string> tried)
    {
        var text = new StringBuilder();
        text.Append("FFmpeg's shared libraries (libavformat/libavcodec/libavutil of FFmpeg ");
        text.AppendJoin(", ", FFmpegRelease.Supported.Select(r => r.Name));
        text.AppendLine(") could not be loaded. Paths tried:");
        foreach (var path in tried) text.Append("  ").AppendLine(path);
        text.Append("Install them with: ");
        text.Append(OperatingSystem.IsMacOS() ? "brew install ffmpeg"
            : OperatingSystem.IsWindows() ? "winget install ffmpeg (shared build), then put its bin folder in " + DirectoryVariable
            : "sudo apt-get install libavformat59 libavcodec59 libavutil57 (Debian 12; newer releases: libavformat60 or libavformat61), or sudo dnf install ffmpeg-libs");
        text.Append($"; or set {DirectoryVariable} to the folder holding them.");
        return text.ToString();
    }
}
