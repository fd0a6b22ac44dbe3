namespace CatEvening.FFmpegInterop;

/// <summary>
/// A libav* call failed. Keeps FFmpeg's numeric <c>AVERROR</c> code and its <c>av_strerror</c> text, and names the
/// operation and the URL that were being worked on.
/// </summary>
public sealed class FFmpegException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    /// <param name="operation">What was being done, e.g. <c>opening input rtmp://…</c>.</param>
    /// <param name="errorCode">The negative <c>AVERROR</c> code returned by FFmpeg, or 0 when FFmpeg gave none.</param>
    /// <param name="errorText">FFmpeg's description of the code (<c>av_strerror</c>).</param>
    public FFmpegException(string operation, int errorCode, string errorText)
        : base(errorCode == 0 ? $"{operation}: {errorText}" : $"{operation}: {errorText} (AVERROR {errorCode})")
    {
        Operation = operation;
        ErrorCode = errorCode;
        ErrorText = errorText;
    }

    /// <summary>Creates an exception that is not tied to an FFmpeg return code (e.g. the libraries cannot load).</summary>
    public FFmpegException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = message;
        ErrorText = message;
    }

    /// <summary>What was being done when the call failed.</summary>
    public string Operation { get; }

    /// <summary>The negative <c>AVERROR</c> code, or 0 when the failure did not come with one.</summary>
    public int ErrorCode { get; }

    /// <summary>FFmpeg's text for <see cref="ErrorCode"/>.</summary>
    public string ErrorText { get; }

    /// <summary>True when the call was cut short by the interrupt callback (a timeout or a cancellation).</summary>
    public bool WasInterrupted => ErrorCode == AvError.Exit;
}
