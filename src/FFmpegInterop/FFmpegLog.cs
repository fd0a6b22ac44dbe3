using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// FFmpeg's own log lines (errors and worse), routed through <see cref="Sink"/> instead of FFmpeg's default callback:
/// without the object addresses (<c>[tcp @ 0x55d0…]</c> reads <c>[tcp]</c>), and a line repeated within
/// <see cref="RepeatWindow"/> written once, its repeats counted on the next copy written after the window (a link retried
/// every few hundred milliseconds during an ingest outage printed two raw lines per attempt).
/// </summary>
/// <remarks>
/// In place (<c>av_log_set_callback</c>, libavutil/log.h) while a connection is being made or closed (opening an input,
/// an output's header, its trailer and close: where a retried link logs), through <see cref="Capture"/>; FFmpeg's own
/// default callback is back in between. FFmpeg calls the callback for every <c>av_log</c> at any level (the FLV demuxer
/// and muxer log twice a packet at trace level): a managed callback in the packet loop would cost a native-to-managed
/// transition each time (an output reconnecting in the background keeps it in place for its attempt: a cost while the
/// link is down only). Lines are formatted by <c>av_log_format_line2</c>, as the default callback does; levels above
/// AV_LOG_ERROR (16) return at once. FFmpeg has no getter for its callback: the one put back is always
/// <c>av_log_default_callback</c>, so a host application that sets its own loses it at the first capture.
/// </remarks>
public static class FFmpegLog
{
    /// <summary>AV_LOG_ERROR (libavutil/log.h): this level and the more severe ones (fatal 8, panic 0) are written.</summary>
    internal const int LevelError = 16;

    // FFmpeg's default callback formats into a 1024-byte line (LINE_SZ in libavutil/log.c).
    private const int LineSize = 1024;

    /// <summary>How long a line already written is not written again (its repeats are counted): 30 s.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(30);

    private static readonly object Gate = new();
    private static readonly StringBuilder Pending = new();
    private static RepeatedLineFilter s_filter = new(RepeatWindow, TimeProvider.System);
    private static int s_printPrefix = 1;
    private static Action<string> s_sink = WriteToStandardError;

    /// <summary>
    /// Where each line goes, without its newline, as <c>ffmpeg: [tcp] Connection to tcp://… failed: Connection
    /// refused</c>. Default: standard error. Called under a lock, from whichever thread FFmpeg logged on: keep it short.
    /// </summary>
    public static Action<string> Sink
    {
        get => Volatile.Read(ref s_sink);
        set => Volatile.Write(ref s_sink, value ?? WriteToStandardError);
    }

    private static void WriteToStandardError(string line) => Console.Error.WriteLine(line);

    /// <summary>Tests: a filter with their own clock; returns the one it replaced.</summary>
    internal static RepeatedLineFilter SwapFilter(RepeatedLineFilter filter)
    {
        lock (Gate)
        {
            var old = s_filter;
            s_filter = filter;
            return old;
        }
    }

    private static int s_captures;
    private static nint s_defaultCallback;

    /// <summary>Remembers FFmpeg's default callback (<c>av_log_default_callback</c>), to put back after each capture.</summary>
    internal static void Initialize(nint defaultCallback) => s_defaultCallback = defaultCallback;

    /// <summary>
    /// Our callback in place until the scope is disposed (scopes nest, across threads: the last one out puts FFmpeg's
    /// default back). Around calls that connect or disconnect, never around the packet loop.
    /// </summary>
    internal static CaptureScope Capture()
    {
        FFmpegLibrary.EnsureLoaded();
        lock (Gate)
        {
            if (s_captures++ == 0) Install();
        }
        return new CaptureScope();
    }

    /// <summary>Our callback is in place (a <see cref="Capture"/> is open).</summary>
    internal static bool IsCapturing
    {
        get
        {
            lock (Gate) return s_captures > 0;
        }
    }

    private static void Release()
    {
        lock (Gate)
        {
            if (--s_captures == 0 && s_defaultCallback != 0) AvUtil.av_log_set_callback(s_defaultCallback);
        }
    }

    private static unsafe void Install() =>
        AvUtil.av_log_set_callback((nint)(delegate* unmanaged[Cdecl]<nint, int, byte*, nint, void>)&OnLog);

    /// <summary>Ends one <see cref="Capture"/>.</summary>
    internal readonly struct CaptureScope : IDisposable
    {
        public void Dispose() => Release();
    }

    // void (*callback)(void *avcl, int level, const char *fmt, va_list vl). A va_list parameter is a pointer at the ABI
    // level on x86-64 System V (an array type), AArch64 (a 32-byte struct, passed by reference) and Windows/macOS
    // (char*): it is handed on to av_log_format_line2 as it came.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe void OnLog(nint context, int level, byte* format, nint arguments)
    {
        // The top byte of the level may hold a colour (AV_LOG_C); FFmpeg's default callback masks it the same way.
        if (level >= 0 && (level & 0xff) > LevelError) return;
        try
        {
            var line = stackalloc byte[LineSize];
            lock (Gate)
            {
                int printPrefix = s_printPrefix;
                var length = AvUtil.av_log_format_line2(context, level, format, arguments, line, LineSize, &printPrefix);
                s_printPrefix = printPrefix;
                if (length <= 0) return;
                Pending.Append(Encoding.UTF8.GetString(line, Math.Min(length, LineSize - 1)));
                // A line may come in pieces (an av_log without a newline, continued by the next): written when whole.
                if (Pending.Length == 0 || Pending[^1] != '\n') return;
                var text = WithoutAddresses(Pending.ToString().TrimEnd('\n', '\r'));
                Pending.Clear();
                if (text.Length == 0) return;
                if (s_filter.Admit(text) is { } admitted) Sink("ffmpeg: " + admitted);
            }
        }
        catch (Exception)
        {
            // Nothing may unwind into FFmpeg's frames; a sink that throws loses its line, never the process.
        }
    }

    /// <summary>
    /// <c>[tcp @ 0x55d0c1bc69c0] Connection …</c> → <c>[tcp] Connection …</c>: every <c> @ 0x…</c> right before a
    /// closing bracket of the line's prefix goes (the address differs between two attempts of the same connection).
    /// </summary>
    internal static string WithoutAddresses(string line)
    {
        var at = line.IndexOf(" @ 0x", StringComparison.Ordinal);
        if (at < 0) return line;
        var text = new StringBuilder(line.Length);
        var from = 0;
        while (at >= 0)
        {
            var end = at + 5;
            while (end < line.Length && char.IsAsciiHexDigit(line[end])) end++;
            if (end < line.Length && line[end] == ']' && end > at + 5)
            {
                text.Append(line, from, at - from);
                from = end;
            }
            at = line.IndexOf(" @ 0x", end, StringComparison.Ordinal);
        }
        text.Append(line, from, line.Length - from);
        return text.ToString();
    }
}

/// <summary>
/// One job: a line already written within the window is held back and counted; the first copy after the window is
/// written with that count. Holds at most <see cref="Capacity"/> distinct lines (then starts over). Not thread-safe.
/// </summary>
internal sealed class RepeatedLineFilter(TimeSpan window, TimeProvider clock)
{
    internal const int Capacity = 256;

    private readonly Dictionary<string, (long WrittenAt, int HeldBack)> _lines = new(StringComparer.Ordinal);

    /// <summary>The line to write now (with the count of copies held back since the last one written), or null.</summary>
    public string? Admit(string line)
    {
        var now = clock.GetTimestamp();
        if (_lines.TryGetValue(line, out var seen))
        {
            var since = clock.GetElapsedTime(seen.WrittenAt, now);
            if (since < window)
            {
                _lines[line] = (seen.WrittenAt, seen.HeldBack + 1);
                return null;
            }
            _lines[line] = (now, 0);
            return seen.HeldBack == 0 ? line
                : string.Create(CultureInfo.InvariantCulture, $"{line} (and {seen.HeldBack} more like it in the {since.TotalSeconds:0} s before)");
        }
        if (_lines.Count >= Capacity) _lines.Clear();
        _lines[line] = (now, 0);
        return line;
    }
}
