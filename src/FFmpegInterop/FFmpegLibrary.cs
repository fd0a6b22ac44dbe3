using System.Runtime.CompilerServices;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// Finds and loads the FFmpeg shared libraries of one supported release (5.1, 6.x, 7.x, 8.x or 9.x), checks their
/// versions and the struct layout this assembly reads, reads the codec ids of that release, and tells which release
/// was loaded.
/// </summary>
/// <remarks>
/// The search order is newest release first. When <c>CATEVENING_FFMPEG_DIR</c> is set, every release is looked for in
/// that folder before any system path, so it can select an older release installed next to a newer one. When nothing
/// loads, <see cref="EnsureLoaded"/> throws a <see cref="DllNotFoundException"/> that lists every path tried and the
/// command that installs FFmpeg on this system.
/// </remarks>
public static class FFmpegLibrary
{
    /// <summary>Name of the environment variable holding an extra folder to search first.</summary>
    public const string DirectoryVariable = "CATEVENING_FFMPEG_DIR";

    private static readonly object Gate = new();
    private static FFmpegRelease? s_loaded;
    private static CodecIds? s_codecIds;
    private static Dictionary<string, nint>? s_handles;

    /// <summary>The release that was loaded; loads it on first use.</summary>
    public static FFmpegRelease Release => Volatile.Read(ref s_loaded) ?? Load();

    // Read for every struct field the per-packet path touches: the loaded check stays inline, the load out of line.
    internal static StructLayouts Layout => (Volatile.Read(ref s_loaded) ?? Load()).Layout;

    internal static CodecIds CodecIds
    {
        get
        {
            EnsureLoaded();
            return s_codecIds!;
        }
    }

    /// <summary>
    /// Loads libavutil, libavcodec and libavformat of one supported release, once per process.
    /// </summary>
    /// <exception cref="DllNotFoundException">No supported release loads; the message lists every path tried and the install command.</exception>
    /// <exception cref="FFmpegException">The release that loads has mixed versions, an unexpected struct layout or lacks a codec CatEvening needs.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded) == null) Load();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FFmpegRelease Load()
    {
        lock (Gate)
        {
            if (s_loaded != null) return s_loaded;
            var tried = new List<string>();
            foreach (var folder in SearchFolders())
            {
                foreach (var release in FFmpegRelease.Supported)
                {
                    var handles = TryLoad(release, folder, tried);
                    if (handles == null) continue;
                    s_handles = handles;
                    NativeLibrary.SetDllImportResolver(typeof(FFmpegLibrary).Assembly, Resolve);
                    CheckVersions(release);
                    StructLayouts.Verify(release.Layout);
                    s_codecIds = CodecIds.Lookup();
                    AvUtil.av_log_set_level(FFmpegLog.LevelError);
                    FFmpegLog.Initialize(NativeLibrary.GetExport(handles[AvUtil.Library], "av_log_default_callback"));
                    AvFormat.avformat_network_init();
                    Volatile.Write(ref s_loaded, release);
                    return release;
                }
            }
            throw new DllNotFoundException(NotFoundMessage(tried, InstallHint.ForThisMachine()));
        }
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        s_handles != null && s_handles.TryGetValue(libraryName, out var handle) ? handle : 0;

    /// <summary>
    /// Folders searched in turn, each for every release: <c>CATEVENING_FFMPEG_DIR</c>, Homebrew's on macOS, then null for
    /// the system loader's own search (bare file names).
    /// </summary>
    private static IEnumerable<string?> SearchFolders()
    {
        var extra = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(extra)) yield return extra;
        if (OperatingSystem.IsMacOS())
        {
            yield return "/opt/homebrew/lib";
            yield return "/usr/local/lib";
        }
        yield return null;
    }

    private static Dictionary<string, nint>? TryLoad(FFmpegRelease release, string? folder, List<string> tried)
    {
        var handles = new Dictionary<string, nint>(StringComparer.Ordinal);
        foreach (var (logical, major) in new[] { (AvUtil.Library, release.AvUtilMajor), (AvCodec.Library, release.AvCodecMajor), (AvFormat.Library, release.AvFormatMajor) })
        {
            var handle = Load(FileName(logical, major), folder, tried);
            if (handle == 0)
            {
                foreach (var h in handles.Values) NativeLibrary.Free(h);
                return null;
            }
            handles[logical] = handle;
        }
        return handles;
    }

    private static nint Load(string fileName, string? folder, List<string> tried)
    {
        var candidate = folder == null ? fileName : Path.Combine(folder, fileName);
        if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
        tried.Add(candidate);
        return 0;
    }

    /// <summary>The file name of one library of one major on this OS, e.g. <c>libavformat.so.61</c>.</summary>
    internal static string FileName(string logical, int major) =>
        OperatingSystem.IsWindows() ? $"{logical}-{major}.dll" :
        OperatingSystem.IsMacOS() ? $"lib{logical}.{major}.dylib" :
        $"lib{logical}.so.{major}";

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

    internal static string NotFoundMessage(List<string> tried, string installHint)
    {
        var text = new StringBuilder();
        text.Append("FFmpeg's shared libraries (libavformat/libavcodec/libavutil of FFmpeg ");
        text.AppendJoin(", ", FFmpegRelease.Supported.Select(r => r.Name));
        text.AppendLine(") could not be loaded. Paths tried:");
        foreach (var path in tried) text.Append("  ").AppendLine(path);
        text.Append("Install them with: ").Append(installHint);
        text.Append($"; or set {DirectoryVariable} to the folder holding them.");
        return text.ToString();
    }
}
