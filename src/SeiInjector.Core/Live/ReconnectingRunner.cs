using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Keeps the show running through link drops. Each side recovers on its own (<see cref="PipelineOptions.ReconnectLinks"/>):
/// when the output drops (the ingest restarts, a write fails or stalls) the input is still read and program time runs
/// on, and the output comes back starting with the packets read since the last keyframe (<see cref="GopCache"/>); when the input drops (the publisher goes) only the input is
/// opened again, as a new timestamp session on the same program timeline, which runs on at wall-clock speed across the
/// gap. The cue book, the control API and the audit log carry on; status and metrics show each side's state and count
/// each drop as it happens. A network input that ends counts as a drop; a file or pipe input that ends finishes the run.
/// With a pipe input (it cannot be opened again) only a network output recovers.
/// </summary>
public sealed class ReconnectingRunner : ILinkObserver
{
    /// <summary>First wait after a drop.</summary>
    public static readonly TimeSpan FirstBackoff = InjectionPipeline.FirstBackoff;

    /// <summary>Longest wait between attempts to open the input.</summary>
    public static readonly TimeSpan MaxBackoff = InjectionPipeline.MaxBackoff;

    /// <summary>Longest wait between attempts to open the output.</summary>
    public static readonly TimeSpan MaxOutputBackoff = InjectionPipeline.MaxOutputBackoff;

    private static readonly string[] NetworkSchemes = ["rtmp", "rtmps", "rtmpt", "srt", "udp", "tcp", "rtp", "rtsp", "http", "https"];

    private readonly PipelineOptions _options;
    private readonly IFrameSeiSource _source;
    private readonly LiveSession _session;
    private int _sessions;

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

    /// <summary>Raised each time the output goes live (header written), with its number from 1.</summary>
    public event Action<VideoStreamDescription, int>? Started;

    /// <summary>True when the end of <paramref name="inputUrl"/> means a dropped publisher rather than the end of the show.</summary>
    public static bool IsNetworkInput(string inputUrl) => IsNetworkUrl(inputUrl);

    private static bool IsNetworkUrl(string url)
    {
        var colon = url.IndexOf("://", StringComparison.Ordinal);
        return colon > 0 && NetworkSchemes.Contains(url[..colon].ToLowerInvariant());
    }

    /// <summary>
    /// True when <paramref name="inputUrl"/> is a pipe (<c>pipe:0</c>, <c>-</c>, <c>fd:</c>): it cannot be opened again, but
    /// it is read live, so a network output that drops is worth opening again while it is read on.
    /// </summary>
    public static bool IsPipeInput(string inputUrl) =>
        inputUrl == "-" || inputUrl.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase) || inputUrl.StartsWith("fd:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Runs until <paramref name="stop"/> fires or a file input ends. Returns the totals.
    /// </summary>
    /// <exception cref="InjectionException">The input cannot be injected into (no H.264/H.265 video...): no retry helps.</exception>
    /// <exception cref="FFmpegException">A file input or output failed, or a link failed in a way no retry mends (bad URL, format or option).</exception>
    public PipelineReport Run(CancellationToken stop)
    {
        // A network input reopens both sides. A pipe cannot be reopened, but a network output fed from it can: the pipe is
        // read on meanwhile. A file input is read faster than real time, so an output drop there ends the run rather
        // than skip the file's middle.
        var network = IsNetworkInput(_options.InputUrl);
        var options = _options with
        {
            ReconnectLinks = network,
            ReconnectOutput = network || (IsPipeInput(_options.InputUrl) && IsNetworkUrl(_options.OutputUrl)),
        };
        var pipeline = new InjectionPipeline(options, _source, this);
        pipeline.Started += video => Started?.Invoke(video, ++_sessions);
        var failed = false;
        try
        {
            return pipeline.Run(stop);
        }
        catch (FFmpegException) when (stop.IsCancellationRequested)
        {
            // Stopped while a link was being opened: nothing was live, nothing to close.
            return new PipelineReport(0, 0, 0, 0, Cancelled: true);
        }
        catch (Exception) when (!stop.IsCancellationRequested)
        {
            // The run fails with an error its caller reports: the finally below logs no "never came up" before it.
            failed = true;
            throw;
        }
        finally
        {
            _session.SetLink(LinkSide.Input, LinkState.Closed, null, runFailed: failed);
            _session.SetLink(LinkSide.Output, LinkState.Closed, null, runFailed: failed);
        }
    }

    /// <inheritdoc/>
    void ILinkObserver.Up(MediaDirection side, string url, bool reopened) =>
        // A reopened input is a new timestamp session the pipeline begins on the book's timeline: program time runs on.
        _session.SetLink(SideOf(side), LinkState.Connected, url);

    /// <inheritdoc/>
    void ILinkObserver.Down(MediaDirection side, string reason, TimeSpan retryIn) =>
        _session.SetLink(SideOf(side), LinkState.Reconnecting, $"{reason}; next attempt in {retryIn.TotalMilliseconds:0} ms");

    private static LinkSide SideOf(MediaDirection side) => side == MediaDirection.Output ? LinkSide.Output : LinkSide.Input;
}
