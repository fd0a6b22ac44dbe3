using System.Diagnostics.CodeAnalysis;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>FFmpeg's error codes that callers treat as control flow rather than failure, and the throw helper.</summary>
public static class AvError
{
    /// <summary><c>AVERROR_EOF</c>: end of the input.</summary>
    public const int EndOfFile = -541478725;

    /// <summary><c>AVERROR(EAGAIN)</c> on Linux: no data now, try again.</summary>
    public const int TryAgain = -11;

    /// <summary><c>AVERROR_EXIT</c>: the interrupt callback asked FFmpeg to stop.</summary>
    public const int Exit = -1414092869;

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
    internal static int Check(int result, string operation)
    {
        if (result < 0) Throw(result, operation);
        return result;
    }

    [DoesNotReturn]
    internal static void Throw(int errorCode, string operation) =>
        throw new FFmpegException(operation, errorCode, Describe(errorCode));
}
