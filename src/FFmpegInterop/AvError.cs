using System.Diagnostics.CodeAnalysis;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// FFmpeg's error codes that callers act on: control flow (<see cref="EndOfFile"/>, <see cref="TryAgain"/>,
/// <see cref="Exit"/>), the codes that mean a configuration error no retry mends (<see cref="IsConfigurationError"/>),
/// and the throw helper.
/// </summary>
/// <remarks>
/// <c>AVERROR(e)</c> is <c>-e</c> for an errno value <c>e</c> of the platform FFmpeg was built for (libavutil/error.h),
/// and <c>FFERRTAG(a, b, c, d)</c> is <c>-MKTAG(a, b, c, d)</c> for FFmpeg's own codes, the same everywhere.
/// </remarks>
public static class AvError
{
    /// <summary><c>AVERROR_EOF</c> (<c>FFERRTAG('E','O','F',' ')</c>): end of the input.</summary>
    public const int EndOfFile = -541478725;

    /// <summary><c>AVERROR_EXIT</c> (<c>FFERRTAG('E','X','I','T')</c>): the interrupt callback asked FFmpeg to stop.</summary>
    public const int Exit = -1414092869;

    /// <summary><c>AVERROR(EPERM)</c>: operation not permitted (errno 1 on Linux, the BSDs, macOS and Windows).</summary>
    public const int NotPermitted = -1;

    /// <summary><c>AVERROR(ENOENT)</c>: no such file or directory (errno 2 everywhere).</summary>
    public const int NoSuchFile = -2;

    /// <summary><c>AVERROR(EACCES)</c>: permission denied (errno 13 everywhere).</summary>
    public const int AccessDenied = -13;

    /// <summary><c>AVERROR(EINVAL)</c>: invalid argument (errno 22 everywhere).</summary>
    public const int InvalidArgument = -22;

    /// <summary><c>AVERROR_INVALIDDATA</c> (<c>FFERRTAG('I','N','D','A')</c>): "Invalid data found when processing input"; from a
    /// muxer or its bitstream filter (h264_mp4toannexb, hevc_mp4toannexb), a packet whose bytes it cannot take.</summary>
    public const int InvalidData = -1094995529;

    /// <summary><c>AVERROR_PROTOCOL_NOT_FOUND</c> (<c>FFERRTAG(0xF8,'P','R','O')</c>).</summary>
    public const int ProtocolNotFound = -1330794744;

    /// <summary><c>AVERROR_DEMUXER_NOT_FOUND</c> (<c>FFERRTAG(0xF8,'D','E','M')</c>).</summary>
    public const int DemuxerNotFound = -1296385272;

    /// <summary><c>AVERROR_MUXER_NOT_FOUND</c> (<c>FFERRTAG(0xF8,'M','U','X')</c>).</summary>
    public const int MuxerNotFound = -1481985528;

    /// <summary><c>AVERROR_OPTION_NOT_FOUND</c> (<c>FFERRTAG(0xF8,'O','P','T')</c>).</summary>
    public const int OptionNotFound = -1414549496;

    /// <summary><c>AVERROR_HTTP_BAD_REQUEST</c> (<c>FFERRTAG(0xF8,'4','0','0')</c>).</summary>
    public const int HttpBadRequest = -808465656;

    /// <summary><c>AVERROR_HTTP_UNAUTHORIZED</c> (<c>FFERRTAG(0xF8,'4','0','1')</c>).</summary>
    public const int HttpUnauthorized = -825242872;

    /// <summary><c>AVERROR_HTTP_FORBIDDEN</c> (<c>FFERRTAG(0xF8,'4','0','3')</c>).</summary>
    public const int HttpForbidden = -858797304;

    /// <summary><c>AVERROR_HTTP_NOT_FOUND</c> (<c>FFERRTAG(0xF8,'4','0','4')</c>).</summary>
    public const int HttpNotFound = -875574520;

    /// <summary><c>AVERROR(EIO)</c>: input/output error (errno 5 everywhere); FFmpeg's RTMP protocol answers a dropped
    /// connection with it.</summary>
    public const int InputOutput = -5;

    /// <summary>
    /// The code a caller should judge a failed open of <paramref name="url"/> by: FFmpeg's <c>rtmp</c> protocol answers a
    /// server's <c>_error</c> or error status (<c>NetStream.Publish.BadName</c>: a stale session still publishing the
    /// name) with -1, <c>AVERROR(EPERM)</c> (rtmpproto.c), which is the server's refusal of the moment rather than a local
    /// permission: <see cref="InputOutput"/>, retried. Any other code is returned as it is.
    /// </summary>
    public static int ForUrl(int errorCode, string url) =>
        errorCode == NotPermitted && url.StartsWith("rtmp", StringComparison.OrdinalIgnoreCase) ? InputOutput : errorCode;

    /// <summary><c>AVERROR(EPIPE)</c>: broken pipe (errno 32 everywhere).</summary>
    public const int BrokenPipe = -32;

    /// <summary>
    /// The <c>AVERROR</c> FFmpeg's network code gives for a socket error: <c>AVERROR(errno)</c> of this platform for a
    /// refused, reset or timed-out connection (ECONNREFUSED 111/61, ECONNRESET 104/54, ETIMEDOUT 110/60 on Linux and
    /// the BSDs/macOS; 10061/10054/10060 as WSA codes on Windows), <see cref="BrokenPipe"/> for a peer gone while
    /// writing, <see cref="InputOutput"/> for the rest (an unresolvable host included, as <c>tcp.c</c> does).
    /// </summary>
    public static int FromSocketError(System.Net.Sockets.SocketError error) => error switch
    {
        System.Net.Sockets.SocketError.ConnectionRefused => -(OperatingSystem.IsWindows() ? 10061 : IsBsdErrno() ? 61 : 111),
        System.Net.Sockets.SocketError.ConnectionReset => -(OperatingSystem.IsWindows() ? 10054 : IsBsdErrno() ? 54 : 104),
        System.Net.Sockets.SocketError.TimedOut => -(OperatingSystem.IsWindows() ? 10060 : IsBsdErrno() ? 60 : 110),
        System.Net.Sockets.SocketError.Shutdown or System.Net.Sockets.SocketError.ConnectionAborted => BrokenPipe,
        _ => InputOutput,
    };

    /// <summary>
    /// <c>AVERROR(EAGAIN)</c> of this platform: no data now, try again. EAGAIN is 11 on Linux
    /// (<c>include/uapi/asm-generic/errno-base.h</c>) and in the Windows C runtime (<c>errno.h</c>), 35 on macOS, iOS
    /// and FreeBSD (<c>sys/errno.h</c>: <c>#define EAGAIN 35</c>).
    /// </summary>
    public static int TryAgain { get; } = -ErrnoTryAgain();

    /// <summary>
    /// <c>AVERROR(ENOSYS)</c> of this platform, "Function not implemented" (a muxer's answer to a codec it cannot carry):
    /// ENOSYS is 38 on Linux (<c>include/uapi/asm-generic/errno.h</c>), 40 in the Windows C runtime, 78 on macOS, iOS and
    /// FreeBSD (<c>sys/errno.h</c>).
    /// </summary>
    public static int NotImplemented { get; } = -(OperatingSystem.IsWindows() ? 40 : IsBsdErrno() ? 78 : 38);

    /// <summary><c>AVERROR_PATCHWELCOME</c> (<c>FFERRTAG('P','A','W','E')</c>): "Not yet implemented in FFmpeg, patches welcome".</summary>
    public const int PatchWelcome = -1163346256;

    private static readonly int[] ConfigurationErrors =
    [
        NotPermitted, NoSuchFile, AccessDenied, InvalidArgument,
        ProtocolNotFound, DemuxerNotFound, MuxerNotFound, OptionNotFound,
        HttpBadRequest, HttpUnauthorized, HttpForbidden, HttpNotFound,
    ];

    /// <summary>
    /// True for the codes that say the request itself is wrong (a path that does not exist or may not be opened, an
    /// invalid argument or option, an unknown protocol, demuxer or muxer, an HTTP 4xx answer): the same call fails the
    /// same way every time, so a live run stops with the message instead of retrying. A dropped or refused connection,
    /// a stall or broken data is worth another attempt and is not one of them.
    /// </summary>
    /// <param name="errorCode">A negative <c>AVERROR</c> code.</param>
    public static bool IsConfigurationError(int errorCode) => Array.IndexOf(ConfigurationErrors, errorCode) >= 0;

    /// <summary>FFmpeg's text for an error code (<c>av_strerror</c>).</summary>
    public static unsafe string Describe(int errorCode)
    {
        FFmpegLibrary.EnsureLoaded();
        const int capacity = 256;
        byte* buffer = stackalloc byte[capacity];
        return AvUtil.av_strerror(errorCode, buffer, capacity) < 0
            ? $"unknown FFmpeg error {errorCode}"
            : new string((sbyte*)buffer);
    }

    /// <summary>Returns <paramref name="result"/> when it is not negative, otherwise throws <see cref="FFmpegException"/>.</summary>
    internal static int Check(int result, string operation, MediaDirection direction = MediaDirection.None)
    {
        if (result < 0) Throw(result, operation, direction);
        return result;
    }

    [DoesNotReturn]
    internal static void Throw(int errorCode, string operation, MediaDirection direction = MediaDirection.None) =>
        throw new FFmpegException(operation, errorCode, Describe(errorCode), direction);

    private static int ErrnoTryAgain() => IsBsdErrno() ? 35 : 11;

    private static bool IsBsdErrno() =>
        OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst() || OperatingSystem.IsFreeBSD();
}
