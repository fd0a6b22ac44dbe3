using System.Security.Cryptography;
using System.Text;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Cues;

/// <summary>
/// The one place that knows every cue's state. The schedule file and the control API add to it (any thread); the
/// pipeline asks it, per video packet in decode order, which messages ride on that packet (<see cref="Collect"/>), then
/// confirms the packet went out (<see cref="Commit"/>). Every change goes to the <see cref="ICueJournal"/>.
/// </summary>
/// <remarks>
/// Placement: a cue whose target presentation time is T rides on the first packet in decode order whose PTS ≥ T, and
/// its message carries T − carrier PTS, so it is decoded no later than the target frame and readers fire at exactly T
/// after any downstream rebasing. Carousel: after the first delivery the next <see cref="CueBookOptions.Repeat"/>
/// frames carry it again, and so does every keyframe until its window (T + duration) ends. Every time is program time
/// from the <see cref="MediaTimeline"/> (microseconds from the first video frame, across wraps, discontinuities and
/// reconnections); a wall-clock target is mapped onto it at each frame through the frames' arrival pacing.
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
    private readonly List<Transmission> _live = [];
    private readonly List<(Transmission Transmission, bool First)> _collected = [];
    private readonly List<CatEveningMessage> _messages = [];

    private long _nextSequence;
    private Rational _lastTimeBase;
    private long _frames, _carrierFrames, _messagesSent, _heartbeatsSent;
    private long? _lastPts, _lastCarrierPts, _lastHeartbeatTime, _previousHeartbeatTime;

    /// <summary>Creates an empty book.</summary>
    /// <param name="options">Stream id, carousel repeats and heartbeat cadence.</param>
    /// <param name="journal">Observer of every change; none when null.</param>
    /// <param name="clock">Wall clock for heartbeats and issued-at times; the system clock when null.</param>
    /// <param name="timeline">The program timeline frames are placed on; a new one reading <paramref name="clock"/> when null.</param>
    public CueBook(CueBookOptions options, ICueJournal? journal = null, IWallClock? clock = null, MediaTimeline? timeline = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Repeat < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Repeat, "Repeat must be ≥ 0");
        if (Encoding.UTF8.GetByteCount(options.StreamId) is 0 or > CatEveningSei.MaxIdLength)
            throw new ArgumentException($"stream id '{options.StreamId}' must be 1-{CatEveningSei.MaxIdLength} UTF-8 bytes", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(options.FirstSequence);
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
    /// Validates a request, assigns its sequence number and records it as accepted.
    /// </summary>
    /// <exception cref="CueRejectedException">Invalid id, duplicate id, wrong kind, app data over 1024 bytes or bad timing.</exception>
    public CueSnapshot Add(CueRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);
        lock (_gate)
        {
            if (_cues.ContainsKey(request.Id))
                throw new CueRejectedException(CueRejection.DuplicateId, $"cue '{request.Id}' already exists");
            var cue = new Cue(request, _nextSequence++);
            _cues.Add(request.Id, cue);
            var transmission = new Transmission(cue, request.Kind, cue.Sequence, request.TargetCueId ?? request.Id, request.Duration, request.Spread, request.AppData);
            cue.Transmission = transmission;
            Resolve(transmission);
            _live.Add(transmission);
            var now = _clock.Now().UnixMicros;
            _journal.Record(new CueJournalEntry(CueEvent.Accepted, now, cue.Snapshot(_timeline), null, null));
            return cue.Snapshot(_timeline);
        }
    }

    /// <summary>
    /// Cancels a cue: a pending cue is dropped; an active cue stops repeating and a signed cancel message naming it goes
    /// out on the next frame (and the carousel repeats).
    /// </summary>
    /// <exception cref="CueRejectedException">No such cue, or it already ended.</exception>
    public CueSnapshot Cancel(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            if (!_cues.TryGetValue(id, out var cue))
                throw new CueRejectedException(CueRejection.UnknownId, $"no cue '{id}'");
            if (cue.State is CueState.Ended or CueState.Expired or CueState.Cancelled)
                throw new CueRejectedException(CueRejection.AlreadyEnded, $"cue '{id}' already {cue.State.ToString().ToLowerInvariant()}");
            _live.Remove(cue.Transmission!);
            string detail = "cancelled before delivery";
            long? cancelSequence = null;
            if (cue.State == CueState.Active)
            {
                var cancel = new Transmission(null, MessageKind.Cancel, _nextSequence++, id, TimeSpan.Zero, TimeSpan.Zero, ReadOnlyMemory<byte>.Empty);
                _live.Add(cancel);
                cancelSequence = cancel.Sequence;
                detail = $"closed by cancel message seq {cancel.Sequence}";
            }
            cue.State = CueState.Cancelled;
            _journal.Record(new CueJournalEntry(CueEvent.Cancelled, _clock.Now().UnixMicros, cue.Snapshot(_timeline), null, detail, cancelSequence));
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

    /// <summary>Counts and last positions, for status pages and metrics.</summary>
    public CueBookSnapshot Snapshot()
    {
        lock (_gate)
        {
            int pending = 0, active = 0, ended = 0, expired = 0, cancelled = 0, delivered = 0;
            foreach (var c in _cues.Values)
            {
                switch (c.State)
                {
                    case CueState.Pending: pending++; break;
                    case CueState.Active: active++; break;
                    case CueState.Ended: ended++; break;
                    case CueState.Expired: expired++; break;
                    case CueState.Cancelled: cancelled++; break;
                }
                if (c.Transmissions > 0 || c.State is CueState.Active or CueState.Ended) delivered++;
            }
            double? lastSeconds = _lastPts is { } p ? _lastTimeBase.ToSeconds(p) : null;
            return new CueBookSnapshot(pending, active, delivered, ended, expired, cancelled, _frames, _carrierFrames, _messagesSent, _heartbeatsSent,
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
    /// delivered, ended, cancelled or expired is kept for status and id uniqueness but not sent again. Later sequence
    /// numbers continue above the highest restored one.
    /// </summary>
    /// <exception cref="CueRejectedException">The request is invalid or its id is already in the book.</exception>
    public CueSnapshot Restore(CueRequest request, long sequence, CueState state)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        Validate(request);
        lock (_gate)
        {
            if (_cues.ContainsKey(request.Id))
                throw new CueRejectedException(CueRejection.DuplicateId, $"cue '{request.Id}' already exists");
            var cue = new Cue(request, sequence) { State = state };
            cue.Transmission = new Transmission(cue, request.Kind, sequence, request.TargetCueId ?? request.Id, request.Duration, request.Spread, request.AppData);
            _cues.Add(request.Id, cue);
            if (state == CueState.Pending)
            {
                Resolve(cue.Transmission);
                _live.Add(cue.Transmission);
            }
            _nextSequence = Math.Max(_nextSequence, sequence + 1);
            return cue.Snapshot(_timeline);
        }
    }

    /// <summary>
    /// The input or output was opened again after a drop: the next frame's timestamps may start afresh. Media time
    /// keeps running at wall-clock speed across the gap, so a cue whose target passed during the outage goes out on the
    /// first frame after it (or expires if its window closed meanwhile), and the carousel keeps its windows.
    /// </summary>
    public void MarkDiscontinuity()
    {
        lock (_gate) _timeline.MarkReconnect();
    }

    /// <summary>
    /// Pipeline side: the messages that ride on this video packet (new cues whose target ≤ its PTS, carousel repeats,
    /// a heartbeat when due), unsigned, in sequence order. Empty when nothing is due.
    /// </summary>
    public IReadOnlyList<CatEveningMessage> Collect(in VideoFrame frame)
    {
        lock (_gate)
        {
            _collected.Clear();
            _messages.Clear();
            var now = _clock.Now();
            var placed = Place(frame);
            _frames++;
            if (placed.Pts is { } pts) _lastPts = pts;
            _lastTimeBase = placed.TimeBase;
            var time = placed.ProgramTime!.Value;
            ResolveWallClockTargets();

            ExpireEnded(time, now.UnixMicros);
            for (var i = 0; i < _live.Count; i++)
            {
                var t = _live[i];
                if (!t.Delivered)
                {
                    if (t.Target is { } target && time < target) continue;
                    if (t.Target == null)
                    {
                        if (t.WallTarget != null) continue;
                        t.Target = time;
                        t.WindowEnd = time + Micros(t.Duration);
                    }
                    if (t.Duration > TimeSpan.Zero && t.WindowEnd is { } over && time >= over)
                    {
                        ExpireUndelivered(t, i--, now.UnixMicros);
                        continue;
                    }
                    t.Delivered = true;
                    t.RepeatsLeft = _options.Repeat;
                    _collected.Add((t, true));
                }
                else if (t.RepeatsLeft > 0)
                {
                    t.RepeatsLeft--;
                    _collected.Add((t, false));
                }
                else if (placed.IsKeyframe && t.WindowEnd is { } end && time < end)
                {
                    _collected.Add((t, false));
                }
            }
            _collected.Sort((a, b) => a.Transmission.Sequence.CompareTo(b.Transmission.Sequence));
            foreach (var (t, _) in _collected) _messages.Add(ToMessage(t, placed, now));

            if (HeartbeatDue(placed))
            {
                _messages.Add(new HeartbeatMessage(_options.StreamId, _nextSequence++, now.UnixMicros, now.UnixMicros,
                    CarrierPts90kHz(placed), now.UncertaintyMicros, _clock.TimeServer));
                _previousHeartbeatTime = _lastHeartbeatTime;
                _lastHeartbeatTime = placed.ProgramDecodeTime;
                _heartbeatsSent++;
            }
            return _messages;
        }
    }

    /// <summary>
    /// Pipeline side: the packet holding the messages of the last <see cref="Collect"/> went out in
    /// <paramref name="sei"/>. Records delivered/repeated/expired in the journal.
    /// </summary>
    public void Commit(in VideoFrame frame, ReadOnlySpan<byte> sei)
    {
        lock (_gate)
        {
            if (_messages.Count == 0) return;
            var now = _clock.Now().UnixMicros;
            var carrier = new CarrierFrame(frame.Pts, frame.FrameIndex, frame.TimeBase, Convert.ToHexStringLower(SHA256.HashData(sei)));
            _carrierFrames++;
            _messagesSent += _messages.Count;
            _lastCarrierPts = frame.Pts;
            foreach (var (t, first) in _collected)
            {
                if (t.Cue is not { } cue) continue;
                cue.Transmissions++;
                if (first && cue.State == CueState.Pending) cue.State = CueState.Active;
                // The journal states the target on the carrier's own clock (the PTS written): the snapshot converts it.
                var snapshot = cue.Snapshot(_timeline);
                _journal.Record(new CueJournalEntry(first ? CueEvent.Delivered : CueEvent.Repeated, now, snapshot, carrier, null));
            }
            _messages.Clear();
            _collected.Clear();
        }
    }

    /// <summary>
    /// Pipeline side: the packet could not carry what the last <see cref="Collect"/> returned (it went out untouched).
    /// First deliveries and repeats become due again on the next packet; a heartbeat is simply skipped (its sequence
    /// number stays unused).
    /// </summary>
    public void Defer(in VideoFrame frame)
    {
        lock (_gate)
        {
            foreach (var (t, first) in _collected)
            {
                if (first) t.Delivered = false;
                else if (t.RepeatsLeft < _options.Repeat) t.RepeatsLeft++;
            }
            if (_messages.Count > 0 && _messages[^1] is HeartbeatMessage)
            {
                _lastHeartbeatTime = _previousHeartbeatTime;
                _heartbeatsSent--;
            }
            _messages.Clear();
            _collected.Clear();
        }
    }

    // A cue added after its whole window had passed is never sent: a reader could do nothing with it.
    private void ExpireUndelivered(Transmission t, int index, long nowMicros)
    {
        _live.RemoveAt(index);
        if (t.Cue is not { } cue) return;
        cue.State = CueState.Expired;
        _journal.Record(new CueJournalEntry(CueEvent.Expired, nowMicros, cue.Snapshot(_timeline), null, "its window had ended before any frame could carry it"));
    }

    // A delivered message leaves the carousel once its repeats are done and its window is over.
    private void ExpireEnded(long time, long nowMicros)
    {
        for (var i = _live.Count - 1; i >= 0; i--)
        {
            var t = _live[i];
            if (!t.Delivered || t.RepeatsLeft > 0 || (t.WindowEnd is { } end && time < end)) continue;
            _live.RemoveAt(i);
            if (t.Cue is { State: CueState.Active } cue)
            {
                cue.State = CueState.Ended;
                _journal.Record(new CueJournalEntry(CueEvent.Ended, nowMicros, cue.Snapshot(_timeline), null, "window ended"));
            }
        }
    }

    // A frame the pipeline placed on the timeline passes as is; one that comes straight from a caller (tests, tools) is
    // placed here, on the same timeline.
    private VideoFrame Place(in VideoFrame frame)
    {
        if (frame.ProgramTime is not null && frame.ProgramDecodeTime is not null) return frame;
        var step = _timeline.Advance(frame.TimeBase, frame.Pts ?? TimestampTrack.NoTimestamp, frame.Dts ?? TimestampTrack.NoTimestamp);
        return frame with { Pts = step.Pts, Dts = step.Dts, ProgramTime = step.ProgramTime, ProgramDecodeTime = step.ProgramDecodeTime };
    }

    // Wall-clock targets follow the pacing estimate until they are delivered: a frame of a burst never passes for one
    // that arrives later at the live edge.
    private void ResolveWallClockTargets()
    {
        foreach (var t in _live)
        {
            if (t.Delivered || t.WallTarget is not { } wall || _timeline.ProgramTimeAt(wall) is not { } target) continue;
            t.Target = target;
            t.WindowEnd = target + Micros(t.Duration);
        }
    }

    private CatEveningMessage ToMessage(Transmission t, in VideoFrame frame, WallClockReading now)
    {
        long offsetTicks = 0;
        if (t.Target is { } target && frame.Pts is { } pts && _timeline.ToStreamTime(target) is { } targetPts)
            offsetTicks = frame.TimeBase.Rescale(targetPts - pts, Clock90kHz);
        return new CueMessage(t.Kind, _options.StreamId, t.Sequence, now.UnixMicros, offsetTicks, t.CueIdOnWire,
            (long)Math.Round(t.Duration.TotalSeconds * Ticks90kHz), (long)t.Spread.TotalMicroseconds, t.AppData.Span);
    }

    private static long CarrierPts90kHz(in VideoFrame frame)
    {
        var pts = frame.Pts ?? frame.Dts;
        return pts is { } p ? frame.TimeBase.Rescale(p, Clock90kHz) & HeartbeatMessage.MaxPts : 0;
    }

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

    private static void Resolve(Transmission t)
    {
        var at = t.Cue?.Request.At ?? CueTime.Immediately;
        if (at.AfterFirstFrame is { } offset)
        {
            t.Target = Micros(offset);
            t.WindowEnd = t.Target + Micros(t.Duration);
        }
        else if (at.WallClock is { } instant)
        {
            t.WallTarget = (instant.UtcDateTime - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        }
    }

    private static void Validate(CueRequest request)
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

    /// <summary>Mutable state of one cue (guarded by the book's lock).</summary>
    private sealed class Cue(CueRequest request, long sequence)
    {
        public CueRequest Request { get; } = request;
        public long Sequence { get; } = sequence;
        public CueState State { get; set; }
        public int Transmissions { get; set; }
        public Transmission? Transmission { get; set; }

        // The target as a timestamp of the video stream now passing (what a reader sees), once the timeline started.
        public CueSnapshot Snapshot(MediaTimeline timeline)
        {
            var target = Transmission?.Target is { } t ? timeline.ToStreamTime(t) : null;
            return new(Request, Sequence, State, target, target is null ? null : timeline.TimeBase, Transmissions);
        }
    }

    /// <summary>One message on the carousel: a cue, or the cancel message that closes an active cue.</summary>
    private sealed class Transmission(Cue? cue, MessageKind kind, long sequence, string cueIdOnWire, TimeSpan duration, TimeSpan spread, ReadOnlyMemory<byte> appData)
    {
        public Cue? Cue { get; } = cue;
        public MessageKind Kind { get; } = kind;
        public long Sequence { get; } = sequence;
        public string CueIdOnWire { get; } = cueIdOnWire;
        public TimeSpan Duration { get; } = duration;
        public TimeSpan Spread { get; } = spread;
        public ReadOnlyMemory<byte> AppData { get; } = appData;
        /// <summary>Program time, microseconds, once known.</summary>
        public long? Target { get; set; }
        /// <summary>A wall-clock target (Unix microseconds), mapped to <see cref="Target"/> at each frame until delivered.</summary>
        public long? WallTarget { get; set; }
        public long? WindowEnd { get; set; }
        public bool Delivered { get; set; }
        public int RepeatsLeft { get; set; }
    }
}
