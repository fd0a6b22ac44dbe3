using System.Runtime.InteropServices;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// What an input or output URL of the command line names, before FFmpeg opens it: <c>-</c> for standard input or
/// output (as the <c>ffmpeg</c> CLI reads it; libavformat itself would open a file named "-"), and the local file a URL
/// names, so that a run whose output is its own input is refused before the output truncates it.
/// </summary>
public static partial class MediaUrl
{
    /// <summary>FFmpeg's URL of standard input.</summary>
    public const string StandardInput = "pipe:0";

    /// <summary>FFmpeg's URL of standard output.</summary>
    public const string StandardOutput = "pipe:1";

    /// <summary>An input URL as FFmpeg should open it: <c>-</c> is standard input (<see cref="StandardInput"/>).</summary>
    public static string Input(string url) => url == "-" ? StandardInput : url;

    /// <summary>An output URL as FFmpeg should open it: <c>-</c> is standard output (<see cref="StandardOutput"/>).</summary>
    public static string Output(string url) => url == "-" ? StandardOutput : url;

    /// <summary>
    /// The local file <paramref name="url"/> names as FFmpeg's file protocol opens it (a path, or <c>file:PATH</c>), or
    /// null for a pipe, a network URL or any other protocol. As libavformat's <c>url_find_protocol</c>: a run of URL scheme
    /// characters (letters, digits, <c>+ - .</c>) followed by ':' names a protocol.
    /// </summary>
    public static string? LocalPath(string url)
    {
        if (url.Length == 0 || url == "-") return null;
        var scheme = 0;
        while (scheme < url.Length && (char.IsAsciiLetterOrDigit(url[scheme]) || url[scheme] is '+' or '-' or '.')) scheme++;
        if (scheme == url.Length || url[scheme] != ':' || scheme == 0) return url;
        return url[..scheme].Equals("file", StringComparison.OrdinalIgnoreCase) && scheme + 1 < url.Length ? url[(scheme + 1)..] : null;
    }

    /// <summary>
    /// True when the local files named by <paramref name="input"/> and <paramref name="output"/> are one file: the same
    /// canonical full path (symbolic links resolved), or, when both exist, the same device and inode (hard links too).
    /// False when either URL is not a local file.
    /// </summary>
    /// <param name="input">The input URL.</param>
    /// <param name="output">The output URL.</param>
    /// <param name="inputPath">The input's canonical full path, for the message; null when it is not a local file.</param>
    /// <param name="outputPath">The output's canonical full path; null when it is not a local file.</param>
    public static bool SameLocalFile(string input, string output, out string? inputPath, out string? outputPath)
    {
        inputPath = LocalPath(input) is { } i ? Canonical(i) : null;
        outputPath = LocalPath(output) is { } o ? Canonical(o) : null;
        if (inputPath is null || outputPath is null) return false;
        if (string.Equals(inputPath, outputPath, StringComparison.Ordinal)) return true;
        return FileId(inputPath) is { } a && FileId(outputPath) is { } b && a == b;
    }

    // The full path with every symbolic link resolved (realpath(3)); for a file that does not exist yet, its folder's.
    private static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        if (RealPath(full) is { } real) return real;
        var folder = Path.GetDirectoryName(full);
        return folder is not null && RealPath(folder) is { } realFolder ? Path.Combine(realFolder, Path.GetFileName(full)) : full;
    }

    private static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return null;
        try
        {
            var resolved = RealPathNative(path, IntPtr.Zero);
            if (resolved == IntPtr.Zero) return null;
            try
            {
                return Marshal.PtrToStringUTF8(resolved);
            }
            finally
            {
                Free(resolved);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    // statx(2) with STATX_INO: (device major, device minor, inode), following symbolic links; null when the file does not
    // exist or the call is missing (not Linux, glibc before 2.28). struct statx (include/uapi/linux/stat.h) is the same
    // on every architecture: stx_ino at byte 32, stx_dev_major and stx_dev_minor at 136 and 140, 256 bytes in all.
    private static (uint Major, uint Minor, ulong Inode)? FileId(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        const int AtFdCwd = -100;
        const uint StatxIno = 0x100;
        Span<byte> buffer = stackalloc byte[StatxSize];
        try
        {
            unsafe
            {
                fixed (byte* b = buffer)
                {
                    if (Statx(AtFdCwd, path, 0, StatxIno, b) != 0) return null;
                }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return (BitConverter.ToUInt32(buffer[StatxDevMajorOffset..]), BitConverter.ToUInt32(buffer[StatxDevMinorOffset..]), BitConverter.ToUInt64(buffer[StatxInodeOffset..]));
    }

    private const int StatxSize = 256;
    private const int StatxInodeOffset = 32;
    private const int StatxDevMajorOffset = 136;
    private const int StatxDevMinorOffset = 140;

    // Returns a malloc'd string (free it with Free), or null with errno set.
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPathNative(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);
}
