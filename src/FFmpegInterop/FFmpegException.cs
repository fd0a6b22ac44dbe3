namespace CatEvening.FFmpegInterop;

/// <summary>Which side of a stream copy a failed call worked on.</summary>
public enum MediaDirection
{
    /// <summary>Neither: loading the libraries, allocating a packet, checking the struct layout.</summary>
    None,

    /// <summary>The demuxer or its source (<see cref="MediaInput"/>: open, probe, read).</summary>
    Input,

    /// <summary>The muxer or its destination (<see cref="MediaOutput"/>: create, open, header, packet, trailer).</summary>
    Output,
}

/// <summary>
/// A libav* call failed. Keeps FFmpeg's numeric <c>AVERROR</c> code and its <c>av_strerror</c> text, names the
/// operation and the URL that were being worked on, and says which side failed (<see cref="Direction"/>), set where
/// the call was made.
/// </summary>
public sealed class FFmpegException : Exception
{
    /// <summary>Creates the exception for a failed call.</summary>
    /// <param name="operation">What was being done, e.g. <c>opening input rtmp://…</c>.</param>
    /// <param name="errorCode">The negative <c>AVERROR</c> code returned by FFmpeg, or 0 when FFmpeg gave none.</param>
    /// <param name="errorText">FFmpeg's description of the code (<c>av_strerror</c>).</param>
    /// <param name="direction">The side the call worked on.</param>
    public FFmpegException(string operation, int errorCode, string errorText, MediaDirection direction = MediaDirection.None)
        : base(errorCode == 0 ? $"{operation}: {errorText}" : $"{operation}: {errorText} (AVERROR {errorCode})")
    {
        Operation = operation;
        ErrorCode = errorCode;
        ErrorText = errorText;
        Direction = direction;
    }

    /// <summary>Creates an exception that is not tied to an FFmpeg return code (e.g. the libraries cannot load).</summary>
    public FFmpegException(string message, Exception? innerException = null)
        : this(message, MediaDirection.None, innerException)
    {
    }

    /// <summary>Creates an exception that is not tied to an FFmpeg return code, on one side (e.g. an unknown format name).</summary>
    public FFmpegException(string message, MediaDirection direction, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = message;
        ErrorText = message;
        Direction = direction;
    }

    /// <summary>What was being done when the call failed.</summary>
    public string Operation { get; }

    /// <summary>The negative <c>AVERROR</c> code, or 0 when the failure did not come with one.</summary>
    public int ErrorCode { get; }

    /// <summary>FFmpeg's text for <see cref="ErrorCode"/>.</summary>
    public string ErrorText { get; }

    /// <summary>The side that failed: input, output, or neither.</summary>
    public MediaDirection Direction { get; }

    /// <summary>True when the call was cut short by the interrupt callback (a timeout or a cancellation).</summary>
    public bool WasInterrupted => ErrorCode == AvError.Exit;

    /// <summary>
    /// True when the same call will fail the same way every time (<see cref="AvError.IsConfigurationError"/>, or no
    /// FFmpeg code at all: an unknown format name, a missing library): retrying cannot help.
    /// </summary>
    public bool IsPermanent => ErrorCode == 0 || AvError.IsConfigurationError(ErrorCode);
}
