namespace CatEvening.FFmpegInterop;

/// <summary>Which RTMP client reads or writes an <c>rtmp://</c> URL that this process connects to.</summary>
public enum RtmpClient
{
    /// <summary>
    /// The managed client (<c>CatEvening.FFmpegInterop.Rtmp</c>): FFmpeg still demuxes and muxes the FLV, the client does
    /// the RTMP session with buffered socket I/O (2-3 system calls per media packet instead of about 22). Used for plain
    /// <c>rtmp://host[:port]/app[/instance]/stream</c> URLs; anything else (rtmps, rtmpt, a listening input, FFmpeg's
    /// special playpath forms) goes to FFmpeg's protocol.
    /// </summary>
    Managed,

    /// <summary>FFmpeg's own <c>rtmp</c> protocol (libavformat/rtmpproto.c) for every RTMP URL.</summary>
    FFmpeg,
}
