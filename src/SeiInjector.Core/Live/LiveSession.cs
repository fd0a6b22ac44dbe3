using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Bus;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// The running injector as the control API, the metrics and the reconnecting runner see it: the cue book, the packet
/// counters, the state of both links, and the audit log. Also keeps a block of message sequence numbers reserved in
/// the audit log ahead of the book, so that a restart after a crash resumes above every number that may have gone out
/// (heartbeats included, which the book does not journal).
/// </summary>
public sealed class LiveSession : IInjectorControl, IDisposable
{
    /// <summary>Sequence numbers reserved at a time.</summary>
    public const long ReservationBlock = 10_000;

    private readonly CueBook _book;
    private readonly AuditLog? _audit;
    private readonly CueHistory? _history;
    private readonly TextWriter _log;
    private readonly object _gate = new();
    private readonly Timer? _reserver;
    private LinkState _input = LinkState.Connecting, _output = LinkState.Connecting;
    private bool _inputWasUp, _outputWasUp;
    private int _inputReconnects, _outputReconnects;
    private long _reservedThrough;
    private bool _disposed;

    /// <summary>Creates the session; with an audit log, reserves the first block of sequence numbers at once.</summary>
    /// <param name="book">The cue book.</param>
    /// <param name="monitor">The packet counters the pipeline feeds.</param>
    /// <param name="audit">The audit log, or null.</param>
    /// <param name="log">The operator's log (stderr).</param>
    /// <param name="history">The book's journal when it is a <see cref="CueHistory"/> (for the console), or null.</param>
    public LiveSession(CueBook book, PacketMonitor monitor, AuditLog? audit, TextWriter log, CueHistory? history = null)
    {
        ArgumentNullException.ThrowIfNull(book);
        ArgumentNullException.ThrowIfNull(monitor);
        _book = book;
        Monitor = monitor;
        _audit = audit;
        _log = log;
        _history = history;
        if (audit is null) return;
        ReserveSequenceNumbers();
        // Heartbeats take about one number a second (one a frame with --heartbeat frame): checking five times a
        // second, a block of ten thousand cannot run out between checks.
        _reserver = new Timer(_ => ReserveSequenceNumbers(), null, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200));
    }

    /// <summary>The packet counters the pipeline feeds.</summary>
    public PacketMonitor Monitor { get; }

    /// <summary>The cue book.</summary>
    public CueBook Book => _book;

    /// <summary>
    /// The show's cue bus, when the injector is one of several: then <see cref="Fire"/> and <see cref="Cancel"/> put
    /// orders on the bus (which numbers them) instead of into the book, and every injector, this one included, applies
    /// them as it reads them. Set before the control API starts.
    /// </summary>
    public CueBus? CueBus { get; set; }

    /// <summary>The follower of <see cref="CueBus"/>, whose state the status shows; null without a bus.</summary>
    public CueBusFollower? BusFollower { get; set; }

    /// <summary>How far ahead of the latest frame a cue fired "now" through the bus is placed (default 1 s): every injector of the feed must still see that frame.</summary>
    public TimeSpan BusLead { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Turns an order of the control API (or the bus) into a book request; false with the reason when it cannot be one.</summary>
    public static bool TryToRequest(CueOrder order, out CueRequest? request, out string error)
    {
        ArgumentNullException.ThrowIfNull(order);
        request = null;
        if (!MessageKinds.TryParseWireName(order.Kind, out var kind) || !kind.IsCue())
        {
            error = $"field 'kind': unknown kind '{order.Kind}' (known: interaction-start, interaction-end, cancel, custom)";
            return false;
        }
        if (order.Closes is not null && kind is not (MessageKind.InteractionEnd or MessageKind.Cancel))
        {
            error = "field 'closes': only interaction-end and cancel close another cue";
            return false;
        }
        var at = order.At switch
        {
            CueTarget.StreamTime s => CueTime.FromFirstFrame(s.Offset),
            CueTarget.WallClock w => CueTime.At(w.Time),
            CueTarget.SourcePts p => CueTime.AtSourcePts(p.Pts),
            _ => CueTime.Immediately,
        };
        request = new CueRequest(order.Id, kind, at, order.Duration, order.Spread, order.AppData, order.Closes);
        error = "";
        return true;
    }

    /// <inheritdoc/>
    public ControlResult Fire(CueOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (!TryToRequest(order, out var request, out var error)) return new ControlResult(ControlOutcome.Rejected, error);
        if (CueBus is { } bus) return BusOrders.Fire(bus, order, _book.Snapshot().LastPtsSeconds, BusLead);
        var at = request!.At;
        try
        {
            // A close naming a cue this injector does not hold is sent as written (readers that know the cue close it), but
            // the director hears of it: a typo would otherwise leave the interaction it meant to end open.
            var unknownTarget = request.TargetCueId is { } target && _book.Find(target) is null ? target : null;
            var cue = _book.Add(request);
            // The director is told "accepted" only once the acceptance is on disk.
            _audit?.FlushToDisk();
            var note = unknownTarget is null ? "" : $"; note: no cue '{unknownTarget}' is known to this injector, so it closes only what readers know by that id";
            if (unknownTarget is not null) _log.WriteLine($"sei-inject: cue '{cue.Id}' closes '{unknownTarget}', which this injector does not hold: sent as written");
            return new ControlResult(ControlOutcome.Accepted, $"cue '{cue.Id}' accepted, seq {cue.Sequence}, target {at}{note}", cue.Sequence);
        }
        catch (CueRejectedException e)
        {
            return new ControlResult(ControlOutcome.Rejected, e.Message);
        }
    }

    /// <inheritdoc/>
    public ControlResult Cancel(string cueId)
    {
        if (CueBus is { } bus) return BusOrders.Cancel(bus, cueId);
        try
        {
            var cue = _book.Cancel(cueId);
            _audit?.FlushToDisk();
            return new ControlResult(ControlOutcome.Accepted, $"cue '{cue.Id}' cancelled", cue.Sequence);
        }
        catch (CueRejectedException e)
        {
            return new ControlResult(e.Reason == CueRejection.UnknownId ? ControlOutcome.NotFound : ControlOutcome.Conflict, e.Message);
        }
    }

    /// <inheritdoc/>
    public LiveStatus Status()
    {
        // One snapshot of the book: the same tally the summary, the metrics and the audit log read.
        var book = _book.Snapshot();
        lock (_gate)
        {
            return new LiveStatus(_input, _output, _inputReconnects, _outputReconnects, book.LastPts, book.LastPtsSeconds,
                book.Frames, Monitor.Packets, Monitor.Bytes, book.CarrierFrames,
                new CueCounts(book.Pending, book.Active, book.Delivered, book.Expired, book.Cancelled, book.Ended), Monitor.Latency.Snapshot(), Monitor.DroppedPackets,
                new TimestampCounts(Monitor.Discontinuities, Monitor.Wraps, Monitor.InterpolatedTimestamps, Monitor.SkippedPackets))
            {
                Bus = BusFollower?.Status(),
                WriteTime = Monitor.WriteTime.Snapshot(),
                SchedulerSlice = Monitor.SchedulerSlice,
            };
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<CueSnapshot> Cues() => _book.Cues();

    /// <inheritdoc/>
    public IReadOnlyList<CueHistoryEntry> History(long after) => _history?.After(after) ?? [];

    /// <summary>True once the output has been connected at least once in this run.</summary>
    public bool OutputWasUp
    {
        get
        {
            lock (_gate) return _outputWasUp;
        }
    }

    /// <summary>Records a link state change: status, metrics, audit log and the operator's log.</summary>
    /// <param name="side">Input or output.</param>
    /// <param name="state">Its new state.</param>
    /// <param name="detail">URL or reason, appended to the log line.</param>
    /// <param name="runFailed">The run is ending with an error that is reported after this (the input could not be
    /// opened...): a link that never came up is recorded as closed but not logged, so the operator reads the cause
    /// first and alone rather than after "the input never came up" and "no output was opened".</param>
    public void SetLink(LinkSide side, LinkState state, string? detail, bool runFailed = false)
    {
        bool neverUp;
        lock (_gate)
        {
            ref var current = ref side == LinkSide.Input ? ref _input : ref _output;
            if (current == state) return;
            ref var wasUp = ref side == LinkSide.Input ? ref _inputWasUp : ref _outputWasUp;
            if (state == LinkState.Connected) wasUp = true;
            // A link that never came up (still connecting, or retrying its first open) when the run ends: "closed" would
            // say it had been open.
            neverUp = state == LinkState.Closed && !wasUp;
            // A reconnect is counted when it starts (the link dropped), so status and metrics show it during the outage.
            if (state == LinkState.Reconnecting && current == LinkState.Connected)
            {
                if (side == LinkSide.Input) _inputReconnects++;
                else _outputReconnects++;
            }
            current = state;
        }
        _audit?.LinkState(side, state, detail);
        if (neverUp && runFailed) return;
        if (neverUp)
            _log.WriteLine(side == LinkSide.Output ? "sei-inject: no output was opened" : "sei-inject: the input never came up (no video stream was read from it)");
        else
            _log.WriteLine($"sei-inject: {side.ToString().ToLowerInvariant()} {state.ToWireName()}{(detail is null ? "" : ": " + detail)}");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // A reservation in flight finishes before this returns, and none starts after: the audit log may close next.
        lock (_gate) _disposed = true;
        _reserver?.Dispose();
    }

    private void ReserveSequenceNumbers()
    {
        lock (_gate)
        {
            if (_disposed) return;
            var next = _book.Snapshot().NextSequence;
            if (next + (ReservationBlock / 2) < _reservedThrough) return;
            _reservedThrough = next + ReservationBlock;
            _audit!.SequenceReserved(_reservedThrough);
        }
    }
}
