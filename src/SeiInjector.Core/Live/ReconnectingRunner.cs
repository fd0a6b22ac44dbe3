using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Keeps the pipeline running through link drops: when the input or the output fails (the publisher disconnects, the
/// ingest restarts, a peer stalls past the I/O timeout), both are opened again after a back-off (250 ms doubling to
/// 5 s, back to 250 ms once a session is live) while the cue book, the control API and the audit log carry on. The
/// cue book is told about the discontinuity, so cues whose target passed during the outage go out on the first frame
/// after it if their window is still open and are recorded expired otherwise.
/// A network input that ends (the publisher stopped) counts as a drop; a file input that ends finishes the run.
/// </summary>
public sealed class ReconnectingRunner
{
    /// <summary>First wait after a drop.</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between attempts.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private static readonly string[] NetworkSchemes = ["rtmp", "rtmps", "rtmpt", "srt", "udp", "tcp", "rtp", "rtsp", "http", "https"];

    private readonly PipelineOptions _options;
    private readonly IFrameSeiSource _source;
    private readonly LiveSession _session;

    /// <summary>Creates the runner; nothing is opened until <see cref="Run"/>.</summary>
    public ReconnectingRunner(PipelineOptions options, IFrameSeiSource source, LiveSession session)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(session);
        _options = options;
        _source = source;
        _session = session;
    }

    /// <summary>Raised each time a session goes live (header written), with its number from 1.</summary>
    public event Action<VideoStreamDescription, int>? Started;

    /// <summary>True when the end of <paramref name="inputUrl"/> means a dropped publisher rather than the end of the show.</summary>
    public static bool IsNetworkInput(string inputUrl)
    {
        var colon = inputUrl.IndexOf("://", StringComparison.Ordinal);
        return colon > 0 && NetworkSchemes.Contains(inputUrl[..colon].ToLowerInvariant());
    }

    /// <summary>
    /// Runs sessions until <paramref name="stop"/> fires or a file input ends. Returns the totals of every session.
    /// </summary>
    /// <exception cref="InjectionException">The input cannot be injected into (no H.264/H.265 video...): no retry helps.</exception>
    /// <exception cref="FFmpegException">A file input or output failed, or a link failed in a way no retry mends (bad URL, format or option).</exception>
    public PipelineReport Run(CancellationToken stop)
    {
        var reconnect = IsNetworkInput(_options.InputUrl);
        var backoff = FirstBackoff;
        var sessions = 0;
        long packets = 0, frames = 0, carriers = 0, seiBytes = 0, dropped = 0, skipped = 0, discontinuities = 0;
        while (!stop.IsCancellationRequested)
        {
            var pipeline = new InjectionPipeline(_options, _source);
            pipeline.Started += video =>
            {
                sessions++;
                backoff = FirstBackoff;
                _session.SetLink(LinkSide.Input, LinkState.Connected, _options.InputUrl);
                _session.SetLink(LinkSide.Output, LinkState.Connected, _options.OutputUrl);
                Started?.Invoke(video, sessions);
            };
            LinkSide? failed;
            string reason;
            try
            {
                var report = pipeline.Run(stop);
                packets += report.Packets;
                frames += report.VideoFrames;
                carriers += report.CarrierFrames;
                seiBytes += report.SeiBytes;
                dropped += report.DroppedPackets;
                skipped += report.SkippedPackets;
                discontinuities += report.Discontinuities;
                if (report.Cancelled || !reconnect) break;
                failed = LinkSide.Input;
                reason = "the input ended (publisher gone)";
            }
            catch (FFmpegException e) when (reconnect && !stop.IsCancellationRequested && IsLinkFailure(e))
            {
                failed = SideOf(e);
                reason = e.Message;
            }
            catch (FFmpegException) when (stop.IsCancellationRequested)
            {
                // Stopped while a link was being opened: nothing was live, nothing to close.
                break;
            }
            _session.SetLink(failed.Value, LinkState.Reconnecting, $"{reason}; next attempt in {backoff.TotalMilliseconds:0} ms");
            _session.SetLink(failed == LinkSide.Input ? LinkSide.Output : LinkSide.Input, LinkState.Reconnecting, "reopened with the other side");
            _session.Book.MarkDiscontinuity();
            if (stop.WaitHandle.WaitOne(backoff)) break;
            backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
        }
        _session.SetLink(LinkSide.Input, LinkState.Closed, null);
        _session.SetLink(LinkSide.Output, LinkState.Closed, null);
        return new PipelineReport(packets, frames, carriers, seiBytes, stop.IsCancellationRequested, dropped, skipped, discontinuities);
    }

    // A dropped or refused connection, a stall or a broken stream is worth another attempt. A wrong URL, path, format
    // or option fails the same way every time: it ends the run with its message instead of retrying for ever.
    private static bool IsLinkFailure(FFmpegException e) => e.ErrorCode != 0 && !ConfigurationErrors.Contains(e.ErrorCode);

    private static readonly int[] ConfigurationErrors =
    [
        -1,          // AVERROR(EPERM)
        -2,          // AVERROR(ENOENT): no such file or directory
        -13,         // AVERROR(EACCES)
        -22,         // AVERROR(EINVAL)
        -1330794744, // AVERROR_PROTOCOL_NOT_FOUND
        -1296385272, // AVERROR_DEMUXER_NOT_FOUND
        -1481985528, // AVERROR_MUXER_NOT_FOUND
        -1414549496, // AVERROR_OPTION_NOT_FOUND
    ];

    // FFmpegInterop names the operation in each error: output ones open, write or finish the output.
    private static LinkSide SideOf(FFmpegException e) =>
        e.Operation.StartsWith("opening output", StringComparison.Ordinal)
        || e.Operation.StartsWith("writing", StringComparison.Ordinal)
        || e.Operation.StartsWith("finishing", StringComparison.Ordinal)
            ? LinkSide.Output
            : LinkSide.Input;
}
