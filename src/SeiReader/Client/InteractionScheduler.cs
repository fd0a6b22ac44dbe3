using System;
using System.Collections.Generic;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Client;

/// <summary>Why an interaction closed.</summary>
public enum InteractionCloseReason
{
    /// <summary>Its window elapsed.</summary>
    WindowElapsed,

    /// <summary>An interaction-end cue for it reached its target frame.</summary>
    Ended,

    /// <summary>A cancel cue for it reached its target frame.</summary>
    Cancelled,
}

/// <summary>An interaction opened, closed, or a custom cue fired, at a rendered frame.</summary>
public sealed class InteractionEventArgs : EventArgs
{
    internal InteractionEventArgs(CueMessage cue, long targetPts, long renderedPts, long lateByTicks, long? closesAtPts, InteractionCloseReason? closeReason)
    {
        Cue = cue;
        TargetPts = targetPts;
        RenderedPts = renderedPts;
        LateByTicks = lateByTicks;
        ClosesAtPts = closesAtPts;
        CloseReason = closeReason;
    }

    /// <summary>The cue that opened the interaction (or the custom cue that fired).</summary>
    public CueMessage Cue { get; }

    /// <summary>The cue's target presentation time (scheduler time base).</summary>
    public long TargetPts { get; }

    /// <summary>PTS of the frame being rendered when this happened.</summary>
    public long RenderedPts { get; }

    /// <summary>How long after its target this happened, in scheduler ticks: 0 when the target frame itself is
    /// rendered; more for a late joiner or a frame that never presents its exact target.</summary>
    public long LateByTicks { get; }

    /// <summary>On open: the PTS at which the window elapses (target + window); null for a window of 0 (open until
    /// ended or cancelled) and on other events.</summary>
    public long? ClosesAtPts { get; }

    /// <summary>On close: why.</summary>
    public InteractionCloseReason? CloseReason { get; }
}

/// <summary>A heartbeat's carrier frame was rendered.</summary>
public sealed class HeartbeatPresentedEventArgs : EventArgs
{
    internal HeartbeatPresentedEventArgs(HeartbeatMessage heartbeat, long renderedPts)
    {
        Heartbeat = heartbeat;
        RenderedPts = renderedPts;
    }

    /// <summary>The heartbeat: its injection wall clock against the (server-corrected) clock now gives the delay from
    /// injector to screen.</summary>
    public HeartbeatMessage Heartbeat { get; }

    /// <summary>PTS of the frame being rendered.</summary>
    public long RenderedPts { get; }
}

/// <summary>
/// Fires cues when the frame they belong to is presented, not when they are parsed (players that fire SEI callbacks
/// at parse time open interactions early). Add what <see cref="CueReader"/> reports; call
/// <see cref="OnFrameRendered"/> with the PTS of every frame as it is shown. All comparisons are wrap-safe.
/// <list type="bullet">
/// <item>interaction-start opens at the first rendered frame with PTS ≥ target and closes at target + window; a late
/// joiner whose first rendered frame is past the target opens it at once with the rest of the window, or not at all
/// when the window has passed. A window of 0 stays open until an interaction-end or cancel.</item>
/// <item>interaction-end closes the interaction with the same cue id at its target (a pending one never opens).</item>
/// <item>cancel withdraws a pending interaction at once and closes an open one at its target.</item>
/// <item>custom fires once at its target.</item>
/// </list>
/// Not thread-safe: use from the render thread.
/// </summary>
public sealed class InteractionScheduler
{
    private const int MaxPendingHeartbeats = 1024;
    private readonly List<Pending> _pending = new();
    private readonly Dictionary<string, Open> _open = new(StringComparer.Ordinal);
    private readonly List<Pending> _pendingHeartbeats = new();
    private readonly HashSet<(string Stream, long Seq)> _seen = new();
    private readonly Queue<(string Stream, long Seq)> _seenOrder = new();

    /// <summary>Creates a scheduler for timestamps in <paramref name="timeBase"/> of <paramref name="timestampBits"/> bits.</summary>
    public InteractionScheduler(TimeBase timeBase, int timestampBits = WrappingTimestamps.NoWrap)
    {
        WrappingTimestamps.Wrap(0, timestampBits);
        TimeBase = timeBase;
        TimestampBits = timestampBits;
    }

    /// <summary>An interaction opened.</summary>
    public event EventHandler<InteractionEventArgs>? InteractionOpened;

    /// <summary>An interaction closed.</summary>
    public event EventHandler<InteractionEventArgs>? InteractionClosed;

    /// <summary>A custom cue reached its frame.</summary>
    public event EventHandler<InteractionEventArgs>? CustomCueFired;

    /// <summary>A heartbeat's carrier frame was rendered.</summary>
    public event EventHandler<HeartbeatPresentedEventArgs>? HeartbeatPresented;

    /// <summary>Time base of every PTS given and reported.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>Width of the timestamps.</summary>
    public int TimestampBits { get; }

    /// <summary>Cues waiting for their frame.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Cue ids of the interactions open now.</summary>
    public IReadOnlyCollection<string> OpenCueIds => _open.Keys;

    /// <summary>Schedules a cue that <see cref="CueReader"/> reported. A cue already scheduled (same stream and sequence number) is ignored.</summary>
    /// <returns>False when it was ignored: a duplicate, or no target (the carrier packet had no timestamp).</returns>
    /// <exception cref="ArgumentException">The event's time base differs from the scheduler's.</exception>
    public bool Add(CueReceivedEventArgs received)
    {
        if (received is null) throw new ArgumentNullException(nameof(received));
        if (received.TimeBase != TimeBase) throw new ArgumentException($"time base {received.TimeBase} differs from the scheduler's {TimeBase}", nameof(received));
        return received.TargetPts is { } target && Add(received.Cue, target);
    }

    /// <summary>Schedules <paramref name="cue"/> to fire at <paramref name="targetPts"/> (scheduler time base).</summary>
    /// <returns>False when a cue with the same stream and sequence number was already scheduled.</returns>
    public bool Add(CueMessage cue, long targetPts)
    {
        if (cue is null) throw new ArgumentNullException(nameof(cue));
        if (!Remember(cue)) return false;
        if (cue.Kind == MessageKind.Cancel) _pending.RemoveAll(p => p.Cue!.Kind == MessageKind.InteractionStart && p.Cue.CueId == cue.CueId);
        _pending.Add(new Pending(cue, null, targetPts));
        return true;
    }

    /// <summary>Schedules a heartbeat so that <see cref="HeartbeatPresented"/> is raised when its carrier frame renders.</summary>
    /// <exception cref="ArgumentException">The event's time base differs from the scheduler's.</exception>
    public bool Add(HeartbeatReceivedEventArgs received)
    {
        if (received is null) throw new ArgumentNullException(nameof(received));
        if (received.TimeBase != TimeBase) throw new ArgumentException($"time base {received.TimeBase} differs from the scheduler's {TimeBase}", nameof(received));
        if (received.CarrierPts is not { } pts) return false;
        if (_pendingHeartbeats.Count == MaxPendingHeartbeats) _pendingHeartbeats.RemoveAt(0);
        _pendingHeartbeats.Add(new Pending(null, received.Heartbeat, pts));
        return true;
    }

    /// <summary>Reports the frame being presented now; raises every event due at or before it, in target order.</summary>
    /// <param name="pts">The frame's PTS (scheduler time base).</param>
    /// <returns>How many events were raised.</returns>
    public int OnFrameRendered(long pts)
    {
        var events = 0;
        events += CloseElapsed(pts);
        List<Pending>? due = null;
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            if (WrappingTimestamps.Difference(pts, _pending[i].Target, TimestampBits) < 0) continue;
            (due ??= new List<Pending>()).Add(_pending[i]);
            _pending.RemoveAt(i);
        }
        if (due is not null)
        {
            due.Sort((a, b) => WrappingTimestamps.Compare(a.Target, b.Target, TimestampBits));
            foreach (var p in due) events += Fire(p.Cue!, p.Target, pts, WrappingTimestamps.Difference(pts, p.Target, TimestampBits));
            events += CloseElapsed(pts);
        }
        for (var h = 0; h < _pendingHeartbeats.Count;)
        {
            var hb = _pendingHeartbeats[h];
            if (WrappingTimestamps.Difference(pts, hb.Target, TimestampBits) < 0)
            {
                h++;
                continue;
            }
            _pendingHeartbeats.RemoveAt(h);
            HeartbeatPresented?.Invoke(this, new HeartbeatPresentedEventArgs(hb.Heartbeat!, pts));
            events++;
        }
        return events;
    }

    private int Fire(CueMessage cue, long target, long pts, long late)
    {
        switch (cue.Kind)
        {
            case MessageKind.InteractionStart:
                var window = TimeBase.Rescale(cue.WindowTicks, TimeBase.Mpeg90kHz, TimeBase);
                if (late >= window && window > 0) return 0;
                if (_open.ContainsKey(cue.CueId)) return 0;
                var closes = WrappingTimestamps.Add(target, window, TimestampBits);
                _open.Add(cue.CueId, new Open(cue, target, closes));
                InteractionOpened?.Invoke(this, new InteractionEventArgs(cue, target, pts, late, window > 0 ? closes : null, null));
                return 1;
            case MessageKind.InteractionEnd:
            case MessageKind.Cancel:
                _pending.RemoveAll(p => p.Cue!.Kind == MessageKind.InteractionStart && p.Cue.CueId == cue.CueId);
                var reason = cue.Kind == MessageKind.Cancel ? InteractionCloseReason.Cancelled : InteractionCloseReason.Ended;
                return Close(cue.CueId, pts, reason) ? 1 : 0;
            case MessageKind.Custom:
                CustomCueFired?.Invoke(this, new InteractionEventArgs(cue, target, pts, late, null, null));
                return 1;
            default:
                return 0;
        }
    }

    private int CloseElapsed(long pts)
    {
        if (_open.Count == 0) return 0;
        List<string>? due = null;
        foreach (var o in _open.Values)
            if (WrappingTimestamps.Difference(pts, o.ClosesAt, TimestampBits) >= 0 && o.Cue.WindowTicks > 0)
                (due ??= new List<string>()).Add(o.Cue.CueId);
        if (due is null) return 0;
        foreach (var id in due) Close(id, pts, InteractionCloseReason.WindowElapsed);
        return due.Count;
    }

    private bool Close(string cueId, long pts, InteractionCloseReason reason)
    {
        if (!_open.TryGetValue(cueId, out var o)) return false;
        _open.Remove(cueId);
        var late = WrappingTimestamps.Difference(pts, reason == InteractionCloseReason.WindowElapsed ? o.ClosesAt : pts, TimestampBits);
        InteractionClosed?.Invoke(this, new InteractionEventArgs(o.Cue, o.Target, pts, late, null, reason));
        return true;
    }

    private bool Remember(CueMessage cue)
    {
        var key = (cue.StreamId, cue.SequenceNumber);
        if (!_seen.Add(key)) return false;
        _seenOrder.Enqueue(key);
        if (_seenOrder.Count > 4096) _seen.Remove(_seenOrder.Dequeue());
        return true;
    }

    private readonly struct Pending
    {
        internal Pending(CueMessage? cue, HeartbeatMessage? heartbeat, long target)
        {
            Cue = cue;
            Heartbeat = heartbeat;
            Target = target;
        }

        internal CueMessage? Cue { get; }
        internal HeartbeatMessage? Heartbeat { get; }
        internal long Target { get; }
    }

    private sealed class Open
    {
        internal Open(CueMessage cue, long target, long closesAt)
        {
            Cue = cue;
            Target = target;
            ClosesAt = closesAt;
        }

        internal CueMessage Cue { get; }
        internal long Target { get; }
        internal long ClosesAt { get; }
    }
}
