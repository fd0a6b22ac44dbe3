using System.Security.Cryptography;
using System.Text;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Cues;

/// <summary>
/// The one place that knows every cue. The schedule file and the control API add to it (any thread); the pipeline
/// asks it, per video packet in decode order, which messages ride on that packet (<see cref="Collect"/>, an immutable
/// <see cref="CuePlan"/>), then says whether the packet went out with them (<see cref="Commit"/>) or without them
/// (<see cref="Defer"/>). Every change goes to the <see cref="ICueJournal"/>; each message's state lives in its
/// <see cref="CueLife"/>, and the book keeps the placement and one tally of the cues' states.
/// </summary>
/// <remarks>
/// Placement: a cue whose target presentation time is T rides on the first packet in decode order whose PTS ≥ T, and
/// its message carries T − carrier PTS, so it is decoded no later than the target frame and readers fire at exactly T
/// after any downstream rebasing. Carousel: after the first delivery the next <see cref="CueBookOptions.Repeat"/>
/// frames carry it again, and so does every keyframe until its window (T + duration) ends. A close (an
/// interaction-end or cancel, or the cancel message of <see cref="Cancel"/>) rides the same way until the window of the
/// cue it closes ends (<see cref="CueBookOptions.CloseHold"/> when that cue has none); once a close is delivered the
/// cue it closes never rides again. Every time is program time from the <see cref="MediaTimeline"/> (microseconds from
/// the first video frame, across wraps, discontinuities and reconnections); a wall-clock target is mapped onto it at
/// each frame through the frames' arrival pacing.
/// </remarks>
public sealed class CueBook
{
    private const int Ticks90kHz = 90_000;
    private static readonly Rational Clock90kHz = new(1, Ticks90kHz);

    private readonly object _gate = new();
    private readonly CueBookOptions _options;
    private readonly ICueJournal _journal;
    private readonly IWallClock _clock;
    private readonly MediaTimeline _timeline;
    private readonly Dictionary<string, Cue> _cues = new(StringComparer.Ordinal);
    // Messages that may still ride (pending, in flight or active); closed ones are dropped at the next Collect.
    private readonly List<Transmission> _carousel = [];
    private readonly List<PlannedTransmission> _planning = [];
    private readonly HashSet<Cue> _closing = [];
    private readonly int[] _byState = new int[Enum.GetValues<CueState>().Length];

    private long _nextSequence, _lastPairTransmission;
    private Rational _lastTimeBase;
    private long _frames, _carrierFrames, _messagesSent, _heartbeatsSent;
    private int _delivered;
    private long? _lastPts, _lastCarrierPts, _lastHeartbeatTime;
    private CuePlan? _inFlight;

    /// <summary>Creates an empty book.</summary>
    /// <param name="options">Stream id, carousel repeats, close hold and heartbeat cadence.</param>
    /// <param name="journal">Observer of every change; none when null.</param>
    /// <param name="clock">Wall clock for heartbeats and issued-at times; the system clock when null.</param>
    /// <param name="timeline">The program timeline frames are placed on; a new one reading <paramref name="clock"/> when null.</param>
    public CueBook(CueBookOptions options, ICueJournal? journal = null, IWallClock? clock = null, MediaTimeline? timeline = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Repeat < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Repeat, "Repeat must be ≥ 0");
        if (options.CloseHold < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.CloseHold, "CloseHold must be ≥ 0");
        if (Encoding.UTF8.GetByteCount(options.StreamId) is 0 or > CatEveningSei.MaxIdLength)
            throw new ArgumentException($"stream id '{options.StreamId}' must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.FirstSequence);
        if (options.PairMember is not (null or 0 or 1)) throw new ArgumentOutOfRangeException(nameof(options), options.PairMember, "PairMember is 0 (main), 1 (backup) or null");
        _lastPairTransmission = options.PairMember is { } member ? CueBookOptions.PairTransmissionBase + member - 2 : 0;
        _options = options;
        _nextSequence = options.FirstSequence;
        _journal = journal ?? NullCueJournal.Instance;
        _clock = clock ?? new SystemWallClock();
        _timeline = timeline ?? new MediaTimeline(_clock);
    }

    /// <summary>The settings.</summary>
    public CueBookOptions Options => _options;

    /// <summary>The wall clock heartbeats read.</summary>
    public IWallClock Clock => _clock;

    /// <summary>The program timeline: the pipeline places each video frame on it before asking what rides on it.</summary>
    public MediaTimeline Timeline => _timeline;

    /// <summary>
    /// Validates a request, assigns its sequence number (or takes the one a cue bus gave it) and records it as accepted.
    /// </summary>
    /// <param name="request">The cue.</param>
    /// <param name="busSequence">The cue's number decided by the cue bus (the same on every injector of the show), or
    /// null to draw one from this book's counter. A bus number does not move the counter: bus numbers are small and
    /// the counter starts at the Unix time in ms, so the two never meet.</param>
    /// <exception cref="CueRejectedException">Invalid id, duplicate id, wrong kind, app data over 1024 bytes or bad timing.</exception>
    public CueSnapshot Add(CueRequest request, long? busSequence = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (busSequence is < 0) throw new ArgumentOutOfRangeException(nameof(busSequence), busSequence, "must be ≥ 0");
        Validate(request);
        lock (_gate)
        {
            if (_cues.ContainsKey(request.Id))
                throw new CueRejectedException(CueRejection.DuplicateId, $"cue '{request.Id}' already exists");
            var cue = Enter(request, busSequence ?? _nextSequence++, new CueLife());
            _journal.Record(new CueJournalEntry(CueEvent.Accepted, _clock.Now().UnixMicros, cue.Snapshot(_timeline), null, null));
            return cue.Snapshot(_timeline);
        }
    }

    /// <summary>
    /// Cancels a cue: a pending cue is dropped; an active cue stops repeating and a signed cancel message naming it goes
    /// out on the next frame (and rides the carousel for the rest of its window). A cue whose first delivery is in flight
    /// (collected, not yet committed or deferred) is cancelled as soon as that packet's fate is known: with a cancel
    /// message on the next frame if it went out, dropped if it did not.
    /// </summary>
    /// <param name="id">The cue.</param>
    /// <param name="busSequence">The cancel message's number decided by the cue bus, or null to draw one from the counter.</param>
    /// <exception cref="CueRejectedException">No such cue, or it already ended, expired or was cancelled.</exception>
    public CueSnapshot Cancel(string id, long? busSequence = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            if (!_cues.TryGetValue(id, out var cue))
                throw new CueRejectedException(CueRejection.UnknownId, $"no cue '{id}'");
            var state = cue.Life.State;
            if (state.IsClosed() || state == CueState.CancelQueued)
                throw new CueRejectedException(CueRejection.AlreadyEnded, $"cue '{id}' already {(state.IsClosed() ? state : CueState.Cancelled).ToString().ToLowerInvariant()}");
            cue.CancelSequence = busSequence;
            if (state == CueState.InFlight) Move(cue.Transmission, CueTrigger.CancelRequested);
            else ApplyCancel(cue, _clock.Now().UnixMicros, null);
            return cue.Snapshot(_timeline);
        }
    }

    /// <summary>Every cue, in the order they were added.</summary>
    public IReadOnlyList<CueSnapshot> Cues()
    {
        lock (_gate) return _cues.Values.OrderBy(c => c.Sequence).Select(c => c.Snapshot(_timeline)).ToList();
    }

    /// <summary>One cue by id, or null.</summary>
    public CueSnapshot? Find(string id)
    {
        lock (_gate) return _cues.TryGetValue(id, out var cue) ? cue.Snapshot(_timeline) : null;
    }

    /// <summary>The tally of cue states, counters and last positions at one moment, for the summary, status, metrics and audit log.</summary>
    public CueBookSnapshot Snapshot()
    {
        lock (_gate)
        {
            var pending = _byState[(int)CueState.Pending] + _byState[(int)CueState.InFlight] + _byState[(int)CueState.CancelQueued];
            double? lastSeconds = _lastPts is { } p ? _lastTimeBase.ToSeconds(p) : null;
            return new CueBookSnapshot(pending, _byState[(int)CueState.Active], _delivered, _byState[(int)CueState.Ended],
                _byState[(int)CueState.Expired], _byState[(int)CueState.Cancelled], _frames, _carrierFrames, _messagesSent, _heartbeatsSent,
                _lastPts, _lastCarrierPts, lastSeconds, _nextSequence);
        }
    }

    /// <summary>Passes an input/output state change to the journal.</summary>
    public void RecordStreamState(StreamEvent change, string detail)
    {
        lock (_gate) _journal.Record(new StreamStateEntry(change, _clock.Now().UnixMicros, detail));
    }

    /// <summary>
    /// Puts back a cue that a previous run had accepted (from the audit log after a crash), with its sequence number
    /// and state, without journaling it again. A pending cue is scheduled as if just added; a cue that was already
    /// ended, cancelled or expired is kept for status and id uniqueness but never sent again. Later sequence numbers
    /// continue above the highest restored one.
    /// </summary>
    /// <param name="request">The cue as accepted.</param>
    /// <param name="sequence">Its sequence number.</param>
    /// <param name="state"><see cref="CueState.Pending"/> to send it (again), or a closed state.</param>
    /// <param name="transmissions">Frames that carried it in earlier runs (it counts as delivered when above 0).</param>
    /// <param name="cancelSequence">For a cue the operator cancelled after delivery: its cancel message's sequence number.</param>
    /// <param name="cancelHold">How long that cancel message still rides: it goes out again at once, for that long.</param>
    /// <exception cref="CueRejectedException">The request is invalid or its id is already in the book.</exception>
    /// <exception cref="ArgumentException"><paramref name="state"/> is neither pending nor closed.</exception>
    public CueSnapshot Restore(CueRequest request, long sequence, CueState state, int transmissions = 0, long? cancelSequence = null, TimeSpan cancelHold = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfNegative(transmissions);
        if (state != CueState.Pending && !state.IsClosed())
            throw new ArgumentException($"a cue is restored pending or closed, not {state}", nameof(state));
        Validate(request);
        lock (_gate)
        {
            if (_cues.ContainsKey(request.Id))
                throw new CueRejectedException(CueRejection.DuplicateId, $"cue '{request.Id}' already exists");
            var cue = Enter(request, sequence, new CueLife(state, transmissions));
            _nextSequence = Math.Max(_nextSequence, sequence + 1);
            if (state == CueState.Cancelled && cancelSequence is { } closeSequence && cancelHold > TimeSpan.Zero)
            {
                _carousel.Add(new Transmission(cue, MessageKind.Cancel, closeSequence, request.Id, TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty, new CueLife())
                {
                    Hold = cancelHold,
                });
                _nextSequence = Math.Max(_nextSequence, closeSequence + 1);
            }
            return cue.Snapshot(_timeline);
        }
    }

    /// <summary>
    /// For a caller that feeds frames itself (the pipeline begins its own sessions on <see cref="Timeline"/>): the input
    /// was opened again after a drop, so the next frame's timestamps may start afresh. Program time keeps running at
    /// wall-clock speed across the gap, so a cue whose target passed during the outage goes out on the
    /// first frame after it (or expires if its window closed meanwhile), and the carousel keeps its windows.
    /// </summary>
    public void MarkDiscontinuity()
    {
        lock (_gate) _timeline.MarkReconnect();
    }

    /// <summary>
    /// Pipeline side: the plan for this video packet: the messages that ride on it (new cues whose target ≤ its PTS,
    /// carousel repeats, a heartbeat when due), unsigned, in sequence order; empty when nothing is due. Cues whose first
    /// delivery it plans are <see cref="CueState.InFlight"/> until the plan is given to <see cref="Commit"/> (the packet
    /// went out with them) or <see cref="Defer"/> (it went out without them); nothing else changes before then. A plan
    /// left unresolved when the next packet is collected (its write failed) is deferred.
    /// </summary>
    public CuePlan Collect(in VideoFrame frame) =>
        CollectCore(frame, out var placed, out var time) ?? new CuePlan(placed, time, [], [], null, -1);

    /// <summary>
    /// As <see cref="Collect"/>, but null instead of an empty plan when nothing rides on the packet: the pipeline asks
    /// for every video packet, and most carry nothing, so this saves an allocation per frame.
    /// </summary>
    public CuePlan? CollectDue(in VideoFrame frame) => CollectCore(frame, out _, out _);

    // The plan for the packet, or null when nothing rides on it (`placed` and `time`: the frame as placed on the
    // timeline, and its program time).
    private CuePlan? CollectCore(in VideoFrame frame, out VideoFrame placed, out long time)
    {
        lock (_gate)
        {
            if (_inFlight is { } unresolved) Unplan(unresolved, "its packet was never written");
            var now = _clock.Now();
            placed = Place(frame);
            _frames++;
            if (placed.Pts is { } pts) _lastPts = pts;
            _lastTimeBase = placed.TimeBase;
            time = placed.ProgramTime!.Value;
            ResolveWallClockTargets();

            CloseWindows(time, now.UnixMicros);
            // A cue whose close goes out for the first time on this frame does not ride on it.
            _closing.Clear();
            foreach (var t in _carousel)
            {
                if (t.Life.State == CueState.Pending && IsDue(t, time) && ClosedBy(t) is { } closed) _closing.Add(closed);
            }
            _planning.Clear();
            foreach (var t in _carousel)
            {
                if (t.Cue is { } own && own.Transmission == t && _closing.Contains(own)) continue;
                if (t.Life.State == CueState.Pending && IsDue(t, time))
                    _planning.Add(new PlannedTransmission(t, true, t.Target ?? time));
                else if (t.Life.State == CueState.Active && (t.Life.RepeatsLeft > 0 || (placed.IsKeyframe && t.WindowEnd is { } end && time < end)))
                    _planning.Add(new PlannedTransmission(t, false, t.Target ?? time));
            }
            // Only when there is something to order: the comparison's cached delegate is a static the pipeline thread
            // otherwise touches once per frame, cold after every poll() sleep (~3 us in a perf profile: RESULTS.md, ninth pass).
            if (_planning.Count > 1) _planning.Sort((a, b) => a.Transmission.Sequence.CompareTo(b.Transmission.Sequence));

            var heartbeat = HeartbeatDue(placed);
            if (_planning.Count == 0 && !heartbeat) return null;
            if (_planning.Count + (heartbeat ? 1 : 0) > Math.Min(SafeEntries, _maxMessagesPerFrame)) FitToFrame(heartbeat, placed, now);
            // One transmission number per carrier frame, drawn from the cue counter, so carrier frames are numbered in
            // transmission order and a restart (which starts the counter above every number used) never reuses one.
            var transmission = NextTransmission(placed);
            var messages = new CatEveningMessage[_planning.Count + (heartbeat ? 1 : 0)];
            for (var i = 0; i < _planning.Count; i++)
            {
                var p = _planning[i];
                messages[i] = ToMessage(p.Transmission, p.Target, placed, now);
                if (p.First) Move(p.Transmission, CueTrigger.Planned);
            }
            long? heartbeatClock = null;
            if (heartbeat)
            {
                messages[^1] = new HeartbeatMessage(_options.StreamId, transmission, now.UnixMicros, now.UnixMicros,
                    CarrierPts90kHz(placed), now.UncertaintyMicros, _clock.TimeServer);
                heartbeatClock = placed.ProgramDecodeTime;
            }
            var plan = new CuePlan(placed, time, [.. _planning], messages, heartbeatClock, transmission);
            _inFlight = plan;
            return plan;
        }
    }

    /// <summary>
    /// Pipeline side: the packet planned by <paramref name="plan"/> went out carrying its messages in
    /// <paramref name="sei"/>. Applies the plan: first deliveries become active (or, when a cancel was queued behind
    /// them, cancelled with a cancel message on the next frame), closes delivered for the first time close the cues
    /// they name, and delivered/repeated go to the journal.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="plan"/> is not the last one collected, or was already committed or deferred.</exception>
    public void Commit(CuePlan plan, ReadOnlySpan<byte> sei)
    {
        ArgumentNullException.ThrowIfNull(plan);
        lock (_gate)
        {
            if (plan.Messages.Count == 0) return;
            TakeInFlight(plan);
            var frame = plan.Frame;
            var now = _clock.Now().UnixMicros;
            // The carrier's record (with a SHA-256 of the SEI) is for the journal, which only cue transmissions write to:
            // a frame that carries a heartbeat alone (one a second on a quiet show) does not hash its SEI twice.
            var carrier = plan.Transmissions.Count == 0 ? null
                : new CarrierFrame(frame.Pts, frame.FrameIndex, frame.TimeBase, Convert.ToHexStringLower(SHA256.HashData(sei)), plan.TransmissionSequence);
            _carrierFrames++;
            _messagesSent += plan.Messages.Count;
            _lastCarrierPts = frame.Pts;
            foreach (var p in plan.Transmissions)
            {
                var t = p.Transmission;
                t.LastCarried = _carrierFrames;
                if (!p.First)
                {
                    t.Life.Repeated();
                    Journal(t, false, carrier!, now);
                    continue;
                }
                t.Target ??= p.Target;
                t.WindowEnd ??= p.Target + Micros(t.Duration);
                var closed = ClosedBy(t);
                if (t.IsClose) t.Hold = HoldOf(t, closed, plan.MediaTime);
                var from = Move(t, CueTrigger.Committed, _options.Repeat);
                Journal(t, true, carrier!, now);
                if (closed is not null) CloseBy(closed, t, now);
                if (from == CueState.CancelQueued) ApplyCancel(t.Cue!, now, "; the cancel was requested while its first delivery was in flight");
            }
            if (plan.HeartbeatClock is { } beat)
            {
                _lastHeartbeatTime = beat;
                _heartbeatsSent++;
            }
        }
    }

    /// <summary>
    /// Pipeline side: the packet planned by <paramref name="plan"/> could not carry its messages (it went out
    /// untouched). Drops the plan: first deliveries are pending again and due on the next packet (a cancel queued behind
    /// them drops them), repeats are simply not counted, a heartbeat's sequence number stays unused.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="plan"/> is not the last one collected, or was already committed or deferred.</exception>
    public void Defer(CuePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        lock (_gate)
        {
            if (plan.Messages.Count == 0) return;
            TakeInFlight(plan);
            Unplan(plan, "the frame planned for its first delivery went out without it");
        }
    }

    /// <summary>
    /// Pipeline side: this video packet passed without reaching the output (it was down). Time moves on as for any
    /// frame (windows that close now end or expire) but nothing is recorded as sent: its plan is deferred, so first
    /// deliveries stay due, and a heartbeat is skipped.
    /// </summary>
    public void Pass(in VideoFrame frame)
    {
        lock (_gate) Defer(Collect(frame));
    }

    private void TakeInFlight(CuePlan plan)
    {
        if (!ReferenceEquals(plan, _inFlight))
            throw new InvalidOperationException($"the plan for frame {plan.Frame.FrameIndex} is not in flight: each plan is committed or deferred once, before the next Collect");
        _inFlight = null;
    }

    private void Unplan(CuePlan plan, string why)
    {
        _inFlight = null;
        var now = _clock.Now().UnixMicros;
        foreach (var p in plan.Transmissions)
        {
            if (!p.First) continue;
            var from = Move(p.Transmission, CueTrigger.Deferred);
            if (from == CueState.CancelQueued) ApplyCancel(p.Transmission.Cue!, now, $"; the cancel was requested while its first delivery was in flight, and {why}");
        }
    }

    private Cue Enter(CueRequest request, long sequence, CueLife life)
    {
        var transmission = new Transmission(null, request.Kind, sequence, request.TargetCueId ?? request.Id, request.Duration, request.Spread, request.AppData, life);
        var cue = new Cue(request, sequence, transmission);
        _cues.Add(request.Id, cue);
        _byState[(int)life.State]++;
        if (life.Transmissions > 0) _delivered++;
        if (life.State == CueState.Pending)
        {
            Resolve(transmission);
            _carousel.Add(transmission);
        }
        return cue;
    }

    // Every transition of a message goes through here, so the tally always agrees with the cues' states.
    private CueState Move(Transmission t, CueTrigger trigger, int repeats = 0)
    {
        var deliveredBefore = t.Life.Transmissions > 0;
        var from = t.Life.Fire(trigger, repeats);
        if (t.Cue?.Transmission != t) return from;
        _byState[(int)from]--;
        _byState[(int)t.Life.State]++;
        if (!deliveredBefore && t.Life.Transmissions > 0) _delivered++;
        return from;
    }

    // An operator's cancel of a pending or active cue (never in flight: that waits for Commit or Defer).
    private void ApplyCancel(Cue cue, long nowMicros, string? note)
    {
        var wasActive = cue.Life.State == CueState.Active;
        Move(cue.Transmission, CueTrigger.CancelRequested);
        var detail = "cancelled before delivery";
        long? closeSequence = null;
        if (wasActive)
        {
            var cancel = new Transmission(cue, MessageKind.Cancel, cue.CancelSequence ?? _nextSequence++, cue.Request.Id, TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty, new CueLife());
            _carousel.Add(cancel);
            closeSequence = cancel.Sequence;
            detail = $"closed by cancel message seq {cancel.Sequence}";
        }
        _journal.Record(new CueJournalEntry(CueEvent.Cancelled, nowMicros, cue.Snapshot(_timeline), null, detail + note, closeSequence));
    }

    // A close delivered for the first time closes the cue it names; that cue never rides again.
    private void CloseBy(Cue closed, Transmission close, long nowMicros)
    {
        var from = closed.Life.State;
        Move(closed.Transmission, close.Kind == MessageKind.InteractionEnd ? CueTrigger.EndDelivered : CueTrigger.CancelDelivered);
        if (closed.Life.State == from) return;
        var by = close.Cue is { } c && c.Transmission == close ? c.Request.Id : null;
        var what = $"{close.Kind.ToWireName()} {(by is null ? "message" : $"'{by}'")} seq {close.Sequence}";
        var detail = from == CueState.Pending ? $"closed before delivery by {what}" : $"closed by {what}";
        _journal.Record(new CueJournalEntry(closed.Life.State == CueState.Ended ? CueEvent.Ended : CueEvent.Cancelled, nowMicros, closed.Snapshot(_timeline),
            null, detail, close.Sequence, by));
    }

    // The cue a close names, when the book knows it: the cancelled cue for a cancel message, the cue named by
    // 'closes' for an interaction-end or cancel cue.
    private Cue? ClosedBy(Transmission t)
    {
        if (!t.IsClose) return null;
        if (t.Cue is { } owner && owner.Transmission != t) return owner;
        return t.Cue?.Request.TargetCueId is { } id && _cues.TryGetValue(id, out var closed) && closed.Transmission != t ? closed : null;
    }

    // How long after its first delivery (at media time 'time') a close rides: what is left of it after a restart;
    // else until the closed cue's window ends; for a cue without a window, the close's own duration (a restored
    // interaction-end or cancel cue), else CloseHold.
    private TimeSpan HoldOf(Transmission close, Cue? closed, long time)
    {
        long end;
        if (close.Hold is { } restored) end = time + Micros(restored);
        else if (closed is { Request.Duration.Ticks: > 0, Transmission.WindowEnd: { } closedEnd }) end = closedEnd;
        else if (close.Duration > TimeSpan.Zero) end = close.Target!.Value + Micros(close.Duration);
        else end = time + Micros(_options.CloseHold);
        close.WindowEnd = end;
        return TimeSpan.FromMicroseconds(Math.Max(0, end - time));
    }

    private void Journal(Transmission t, bool first, CarrierFrame carrier, long nowMicros)
    {
        if (t.Cue is not { } cue) return;
        // The journal states the target on the carrier's own clock (the PTS written): the snapshot converts it.
        var snapshot = cue.Snapshot(_timeline);
        if (cue.Transmission == t)
        {
            _journal.Record(new CueJournalEntry(first ? CueEvent.Delivered : CueEvent.Repeated, nowMicros, snapshot, carrier, null));
            return;
        }
        _journal.Record(new CueJournalEntry(first ? CueEvent.CancelMessageDelivered : CueEvent.CancelMessageRepeated, nowMicros,
            snapshot with { Hold = t.Hold }, carrier, null, t.Sequence));
    }

    // A wall-clock or source-PTS target is due once it is placed on the timeline; until then it waits.
    private static bool IsDue(Transmission t, long time) => t.Target is { } target ? time >= target : t.WallTarget is null && t.SourceTarget is null;

    // Alone: the next number of the counter. In a pair: from the frame's decoding time on the source's clock, so both
    // machines number a frame alike (main even, backup odd); never below the last one, should the source step back.
    private long NextTransmission(in VideoFrame frame)
    {
        if (_options.PairMember is null || (frame.Dts ?? frame.Pts) is not { } dts) return _nextSequence++;
        var candidate = CueBookOptions.PairTransmissionBase + (2 * frame.TimeBase.Rescale(dts, new Rational(1, 1000))) + _options.PairMember.Value;
        _lastPairTransmission = candidate > _lastPairTransmission ? candidate : _lastPairTransmission + 2;
        return _lastPairTransmission;
    }

    // Observes time passing: a pending cue whose window is over expires unsent; an active message leaves the carousel
    // (a cue then ends) once its window is over, with repeats still due or not: a repeat sent after the window (the
    // output was down through it) would open, for a late joiner, an interaction that is over. A message without a
    // window (a zero duration, a cancel) ends when its repeats are done. Closed messages are dropped from the carousel.
    private void CloseWindows(long time, long nowMicros)
    {
        for (var i = _carousel.Count - 1; i >= 0; i--)
        {
            var t = _carousel[i];
            switch (t.Life.State)
            {
                case CueState.Pending when t.Duration > TimeSpan.Zero && t.Target is { } target && time >= target && t.WindowEnd is { } over && time >= over:
                    Move(t, CueTrigger.WindowOver);
                    if (t.Cue is { } expired)
                        _journal.Record(new CueJournalEntry(CueEvent.Expired, nowMicros, expired.Snapshot(_timeline), null, "its window had ended before any frame could carry it"));
                    break;
                case CueState.Active when (t.Duration > TimeSpan.Zero && t.WindowEnd is { } closes && time >= closes)
                                           || (t.Life.RepeatsLeft == 0 && (t.WindowEnd is not { } end || time >= end)):
                    Move(t, CueTrigger.WindowOver);
                    if (t.Cue is { } ended && ended.Transmission == t)
                        _journal.Record(new CueJournalEntry(CueEvent.Ended, nowMicros, ended.Snapshot(_timeline), null, "window ended"));
                    break;
            }
            if (t.Life.IsClosed) _carousel.RemoveAt(i);
        }
    }

    // A frame the pipeline placed on the timeline passes as is; one that comes straight from a caller (tests, tools) is
    // placed here, on the same timeline.
    private VideoFrame Place(in VideoFrame frame)
    {
        if (frame.ProgramTime is not null && frame.ProgramDecodeTime is not null) return frame;
        var step = _timeline.Advance(frame.TimeBase, frame.Pts ?? TimestampTrack.NoTimestamp, frame.Dts ?? TimestampTrack.NoTimestamp, keyframe: frame.IsKeyframe);
        return frame with { Pts = step.Pts, Dts = step.Dts, ProgramTime = step.ProgramTime, ProgramDecodeTime = step.ProgramDecodeTime };
    }

    // Wall-clock targets follow the pacing estimate until first delivered: a frame of a burst never passes for one that
    // arrives later at the live edge.
    private void ResolveWallClockTargets()
    {
        foreach (var t in _carousel)
        {
            if (t.Life.State == CueState.Pending && t.SourceTarget is { } source && _timeline.ProgramTimeOfSource(source) is { } placedAt)
            {
                t.Target = placedAt;
                t.WindowEnd = placedAt + Micros(t.Duration);
                continue;
            }
            if (t.Life.State != CueState.Pending || t.WallTarget is not { } wall || _timeline.ProgramTimeAt(wall) is not { } target) continue;
            t.Target = target;
            t.WindowEnd = target + Micros(t.Duration);
        }
    }

    // Entries that fit on one frame whatever they hold: a cue's body is at most CatEveningSei.MaxBodyLength (1,536 bytes).
    private const int SafeEntries = (CatEveningSei.MaxBundleBodyLength - BundleReserve) / CatEveningSei.MaxBodyLength;

    // The bundle's own fields (stream id up to 64 bytes, two integers, array headers) and a heartbeat entry, with room.
    private const int BundleReserve = 512;

    /// <summary>Times a message due on a frame did not fit on it (more than 256 entries or a 65,453-byte body, 16 in
    /// format version 1) and was left for the frames after it: one message left over two frames counts twice.</summary>
    public long SpilledMessages
    {
        get
        {
            lock (_gate) return _spilled;
        }
    }

    private long _spilled;

    private int _maxMessagesPerFrame = CatEveningSei.MaxBundleEntries;

    /// <summary>
    /// At most <paramref name="max"/> messages (heartbeat included) on one frame from now on: a format-version-1 writer
    /// puts one payload per message, and readers look at no more than <see cref="CatEveningSei.DefaultMaxPayloadsPerAccessUnit"/>
    /// of an access unit (the rest are refused unchecked, so a cue among them would never verify).
    /// </summary>
    internal void LimitMessagesPerFrame(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 2);
        lock (_gate) _maxMessagesPerFrame = Math.Min(_maxMessagesPerFrame, max);
    }

    // One frame carries at most 256 entries and a 65,453-byte body (CatEveningSei), 16 payloads in format version 1 (what
    // readers look at): more than that due at once (hundreds of cues at one moment, or many windows with large data riding
    // the same keyframe) would not sign. First deliveries (closes among them) go first, oldest first, then repeats, the one
    // carried longest ago first (so every window takes its turn on the keyframes); what does not fit stays due and rides
    // the next frames.
    private void FitToFrame(bool heartbeat, in VideoFrame placed, WallClockReading now)
    {
        _planning.Sort((a, b) => a.First != b.First ? (a.First ? -1 : 1)
            : a.First ? a.Transmission.Sequence.CompareTo(b.Transmission.Sequence)
            : a.Transmission.LastCarried != b.Transmission.LastCarried ? a.Transmission.LastCarried.CompareTo(b.Transmission.LastCarried)
            : a.Transmission.Sequence.CompareTo(b.Transmission.Sequence));
        var room = _maxMessagesPerFrame - (heartbeat ? 1 : 0);
        var budget = CatEveningSei.MaxBundleBodyLength - BundleReserve;
        var kept = 0;
        for (var i = 0; i < _planning.Count && kept < room; i++)
        {
            var p = _planning[i];
            var size = MessageBody.ToBytes(ToMessage(p.Transmission, p.Target, placed, now)).Length;
            if (size > budget) continue;
            budget -= size;
            _planning[i] = _planning[kept];
            _planning[kept++] = p;
        }
        _spilled += _planning.Count - kept;
        _planning.RemoveRange(kept, _planning.Count - kept);
        _planning.Sort((a, b) => a.Transmission.Sequence.CompareTo(b.Transmission.Sequence));
    }

    private CatEveningMessage ToMessage(Transmission t, long target, in VideoFrame frame, WallClockReading now)
    {
        long offsetTicks = 0;
        if (frame.Pts is { } pts && _timeline.ToStreamTime(target) is { } targetPts)
        {
            // The distance as the reader sees it: both timestamps rounded to the time base they are written in (each
            // rounding alone, as the muxer rounds them), then the difference in 90 kHz.
            var written = WrittenTimeBase(frame);
            offsetTicks = written.Rescale(Written(frame, targetPts) - Written(frame, pts), Clock90kHz);
        }
        return new CueMessage(t.Kind, _options.StreamId, t.Sequence, now.UnixMicros, offsetTicks, t.CueIdOnWire,
            (long)Math.Round(t.Duration.TotalSeconds * Ticks90kHz), (long)t.Spread.TotalMicroseconds, t.AppData.Span);
    }

    // The carrier's PTS as written (see VideoFrame.WrittenTimeBase), in 90 kHz.
    private static long CarrierPts90kHz(in VideoFrame frame)
    {
        var pts = frame.Pts ?? frame.Dts;
        return pts is { } p ? WrittenTimeBase(frame).Rescale(Written(frame, p), Clock90kHz) & HeartbeatMessage.MaxPts : 0;
    }

    private static Rational WrittenTimeBase(in VideoFrame frame) => frame.WrittenTimeBase ?? frame.TimeBase;

    // A timestamp of the frame's stream as the muxer writes it: rounded to the output time base (av_packet_rescale_ts).
    private static long Written(in VideoFrame frame, long units) =>
        frame.WrittenTimeBase is { } written && written != frame.TimeBase ? frame.TimeBase.Rescale(units, written) : units;

    // The heartbeat cadence runs on program decoding time, which only moves forwards.
    private bool HeartbeatDue(in VideoFrame frame)
    {
        var policy = _options.Heartbeat;
        if (policy.IsOff) return false;
        if (policy.EveryFrame || _lastHeartbeatTime is not { } last) return true;
        var clock = frame.ProgramDecodeTime!.Value;
        return clock - last >= Micros(policy.Interval) || clock < last;
    }

    private static long Micros(TimeSpan span) => (long)span.TotalMicroseconds;

    // Program-time targets are known at once; a wall-clock target is mapped at each frame until first delivered.
    private static void Resolve(Transmission t)
    {
        var at = t.Cue?.Transmission == t ? t.Cue.Request.At : CueTime.Immediately;
        if (at.AfterFirstFrame is { } offset)
        {
            t.Target = Micros(offset);
            t.WindowEnd = t.Target + Micros(t.Duration);
        }
        else if (at.SourcePts is { } sourcePts)
        {
            t.SourceTarget = Micros(sourcePts);
        }
        else if (at.WallClock is { } instant)
        {
            t.WallTarget = (instant.UtcDateTime - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        }
    }

    internal static void Validate(CueRequest request)
    {
        if (request.Id is null || Encoding.UTF8.GetByteCount(request.Id) is 0 or > CatEveningSei.MaxIdLength)
            throw new CueRejectedException(CueRejection.InvalidId, $"cue id '{request.Id}' must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes");
        if (request.TargetCueId != null && Encoding.UTF8.GetByteCount(request.TargetCueId) is 0 or > CatEveningSei.MaxIdLength)
            throw new CueRejectedException(CueRejection.InvalidId, $"cue '{request.Id}': closed cue id '{request.TargetCueId}' must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes");
        if (!request.Kind.IsCue())
            throw new CueRejectedException(CueRejection.InvalidKind, $"cue '{request.Id}': kind {request.Kind} is not a cue kind (interaction-start, interaction-end, cancel, custom)");
        if (request.AppData.Length > CatEveningSei.MaxAppDataLength)
            throw new CueRejectedException(CueRejection.AppDataTooLarge, $"cue '{request.Id}': data is {request.AppData.Length} bytes, at most {CatEveningSei.MaxAppDataLength}");
        if (request.Duration < TimeSpan.Zero || request.Duration > TimeSpan.FromDays(1) || request.Spread < TimeSpan.Zero || request.Spread > TimeSpan.FromDays(1))
            throw new CueRejectedException(CueRejection.InvalidTiming, $"cue '{request.Id}': duration and spread must be between 0 and 24 h");
    }

    /// <summary>One cue of the book: what was asked, its sequence number, and its own message on the carousel.</summary>
    internal sealed class Cue
    {
        public Cue(CueRequest request, long sequence, Transmission transmission)
        {
            Request = request;
            Sequence = sequence;
            Transmission = transmission;
            transmission.Cue = this;
        }

        public CueRequest Request { get; }

        public long Sequence { get; }

        public Transmission Transmission { get; }

        public CueLife Life => Transmission.Life;

        /// <summary>The number a cue bus gave the cancel message of this cue, once cancelled through the bus.</summary>
        public long? CancelSequence { get; set; }

        // The target as a timestamp of the video stream now passing (what a reader sees), once the timeline started.
        public CueSnapshot Snapshot(MediaTimeline timeline)
        {
            var target = Transmission.Target is { } t ? timeline.ToStreamTime(t) : null;
            return new(Request, Sequence, Life.State, target, target is null ? null : timeline.TimeBase, Life.Transmissions, Transmission.Hold);
        }
    }

    /// <summary>
    /// One message on the carousel and where it is placed: a cue's own message, or the cancel message that closes a
    /// cancelled cue (then <see cref="Cue"/> is the cue it closes). Its state is its <see cref="Life"/>.
    /// </summary>
    internal sealed class Transmission(Cue? cue, MessageKind kind, long sequence, string cueIdOnWire, TimeSpan duration, TimeSpan spread, ReadOnlyMemory<byte> appData, CueLife life)
    {
        public Cue? Cue { get; set; } = cue;
        public MessageKind Kind { get; } = kind;
        public long Sequence { get; } = sequence;
        public string CueIdOnWire { get; } = cueIdOnWire;
        public TimeSpan Duration { get; } = duration;
        public TimeSpan Spread { get; } = spread;
        public ReadOnlyMemory<byte> AppData { get; } = appData;
        public CueLife Life { get; } = life;
        /// <summary>Program time, microseconds, once known.</summary>
        public long? Target { get; set; }

        /// <summary>A target on the source's clock (microseconds), mapped to <see cref="Target"/> at each frame until first delivered.</summary>
        public long? SourceTarget { get; set; }

        /// <summary>A wall-clock target (Unix microseconds), mapped to <see cref="Target"/> at each frame until first delivered.</summary>
        public long? WallTarget { get; set; }

        /// <summary>Until when the carousel carries it (program time): the cue's window, or a close's hold.</summary>
        public long? WindowEnd { get; set; }

        /// <summary>For a close once delivered: how long after its first delivery it rides.</summary>
        public TimeSpan? Hold { get; set; }

        public bool IsClose => Kind is MessageKind.InteractionEnd or MessageKind.Cancel;

        /// <summary>The carrier count (<c>_carrierFrames</c>) when it last went out; orders repeats when a frame is full.</summary>
        public long LastCarried { get; set; } = -1;
    }

    /// <summary>One message a plan puts on its frame, and the target its message was written with.</summary>
    internal readonly record struct PlannedTransmission(Transmission Transmission, bool First, long Target);
}
