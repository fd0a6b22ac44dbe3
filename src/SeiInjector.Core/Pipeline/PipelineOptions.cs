using CatEvening.FFmpegInterop;
namespace CatEvening.SeiInjector.Pipeline;

/// <summary>Where the pipeline reads from and writes to.</summary>
public sealed record PipelineOptions
{
    /// <summary>Input URL: a path, <c>pipe:0</c>, rtmp://, srt://, …</summary>
    public required string InputUrl { get; init; }

    /// <summary>Output URL: a path, <c>pipe:1</c>, rtmp://, srt://, …</summary>
    public required string OutputUrl { get; init; }

    /// <summary>Demuxer short name, or null to probe.</summary>
    public string? InputFormat { get; init; }

    /// <summary>Muxer short name, or null to choose it from the output URL or extension.</summary>
    public string? OutputFormat { get; init; }

    /// <summary>How much media FFmpeg probes before the pipeline starts; null for FFmpeg's default (5 s). A live input starts sooner with less.</summary>
    public TimeSpan? AnalyzeDuration { get; init; }

    /// <summary>Longest any single blocking read or write may stall before the run fails (a dead network peer).</summary>
    public TimeSpan IoTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Wait for the peer to connect to the input instead of connecting to it: FFmpeg's <c>listen</c> option for
    /// rtmp:// (and tcp://, http://); srt:// listens with <c>mode=listener</c> in its URL.
    /// </summary>
    public bool ListenInput { get; init; }

    /// <summary>
    /// Which RTMP client reads and writes the rtmp:// URLs this process connects to: the managed one (default: FFmpeg
    /// still demuxes and muxes the FLV; the RTMP session runs over buffered sockets, 2-3 system calls per packet instead
    /// of FFmpeg's ~22) or FFmpeg's own protocol. A listening input and rtmps/rtmpt always use FFmpeg's.
    /// </summary>
    public RtmpClient RtmpClient { get; init; } = RtmpClient.Managed;

    /// <summary>
    /// Reopen each side on its own after it drops (250 ms back-off doubling to 1 s for the input, 500 ms for the
    /// output): an output drop keeps the input read (the packets since the last keyframe wait in a
    /// <see cref="GopCache"/> and go out first when it is back), an input drop keeps the output open. Without it, the first failure ends the run.
    /// </summary>
    public bool ReconnectLinks { get; init; }

    /// <summary>
    /// Reopen the output after it drops, as <see cref="ReconnectLinks"/> does, for an input that cannot be opened again
    /// (<c>pipe:0</c>): the input is still read meanwhile and its end still ends the run. Implied by
    /// <see cref="ReconnectLinks"/>.
    /// </summary>
    public bool ReconnectOutput { get; init; }

    /// <summary>
    /// How long to keep reading an input that opened without a video stream (audio first, video announced by its first
    /// packet) before giving up with a clear error. Packets read meanwhile are held and written after the header.
    /// </summary>
    public TimeSpan VideoStreamWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Sentences for the operator (a stream that appeared after the header, a timestamp discontinuity bridged, a
    /// packet the muxer refused...); none when null.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Frame rate of a raw Annex B input (no container timestamps) when its SPS carries no timing information: its
    /// frames are stamped at this rate. 25 when null.
    /// </summary>
    public FFmpegInterop.Rational? FrameRate { get; init; }

    /// <summary>
    /// Scheduler slice asked for the thread that runs the pipeline (Linux 6.12+, 0.1-100 ms; see <see cref="Pipeline.SchedulerSlice"/>):
    /// a long one keeps the processes it sends to from preempting it after every packet. Null leaves the thread as it is.
    /// </summary>
    public TimeSpan? SchedulerSlice { get; init; }

    /// <summary>
    /// Tunes the pipeline thread's scheduler slice while the run goes on (Linux 6.12+; see <see cref="SliceTuner"/>):
    /// the thread starts on <see cref="SliceTunerOptions.Long"/>, then windows on its own slice and on the long one are
    /// compared by CPU time per packet written, and the long one kept unless it costs the thread more than
    /// <see cref="SliceTunerOptions.LongAllowance"/> more, checked again about once a minute. For a live input, whose thread sleeps between
    /// packets; a file read flat out keeps a CPU busy, where a long slice only delays its neighbours. Ignored when
    /// <see cref="SchedulerSlice"/> is set; nothing is tuned when null.
    /// </summary>
    public SliceTunerOptions? SchedulerSliceTuning { get; init; }

    /// <summary>Counts packets and bytes written and the time each spent inside the pipeline (read to write); none when null.</summary>
    public Live.PacketMonitor? Monitor { get; init; }
}
