using System.Security.Cryptography;
using System.Text;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
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
/// frames carry it again, and so does every keyframe until its window (T + duration) ends. Timestamps are FFmpeg's
/// unwrapped 64-bit values, so MPEG-TS and FLV wraps do not disturb the comparisons. Without timestamps (raw Annex B)
/// the wall clock since the first frame stands in for media time.
/// </remarks>
public sealed class CueBook
{
    private const int Ticks90kHz = 90_000;
    private static readonly Rational Clock90kHz = new(1, Ticks90kHz);

    private readonly object _gate = new();
    private readonly CueBookOptions _options;
    private readonly ICueJournal _journal;
    private readonly IWallClock _clock;
    private readonly Dictionary<string, Cue> _cues = new(StringComparer.Ordinal);
    private readonly List<Transmission> _live = [];
    private readonly List<(Transmission Transmission, bool First)> _collected = [];
    private readonly List<CatEveningMessage> _messages = [];

    private long _nextSequence;
    private long _transmission = -1;
    private Timeline? _timeline;
    private bool _discontinuity;
    private long? _lastMediaTime;
    private long _lastFrameWallMicros;
    private long _frames, _carrierFrames, _messagesSent, _heartbeatsSent;
    private long? _lastPts, _lastCarrierPts, _lastHeartbeatTime, _previousHeartbeatTime;

    /// <summary>Creates an empty book.</summary>
    /// <param name="options">Stream id, carousel repeats and heartbeat cadence.</param>
    /// <param name="journal">Observer of every change; none when null.</param>
    /// <param name="clock">Wall clock for heartbeats and issued-at times; the system clock when null.</param>
    public CueBook(CueBookOptions options, ICueJournal? journal = null, IWallClock? clock = null)
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
    }

    /// <summary>The settings.</summary>
    public CueBookOptions Options => _options;

    /// <summary>The wall clock heartbeats read.</summary>
    public IWallClock Clock => _clock;

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
            if (_timeline != null) Resolve(transmission, _timeline);
            _live.Add(transmission);
            var now = _clock.Now().UnixMicros;
            _journal.Record(new CueJournalEntry(CueEvent.Accepted, now, cue.Snapshot(), null, null));
            return cue.Snapshot();
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
            _journal.Record(new CueJournalEntry(CueEvent.Cancelled, _clock.Now().UnixMicros, cue.Snapshot(), null, detail, cancelSequence));
            return cue.Snapshot();
        }
    }

    /// <summary>Every cue, in the order they were added.</summary>
    public IReadOnlyList<CueSnapshot> Cues()
    {
        lock (_gate) return _cues.Values.OrderBy(c => c.Sequence).Select(c => c.Snapshot()).ToList();
    }

    /// <summary>One cue by id, or null.</summary>
    public CueSnapshot? Find(string id)
    {
        lock (_gate) return _cues.TryGetValue(id, out var cue) ? cue.Snapshot() : null;
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
            double? lastSeconds = _lastPts is { } p && _timeline != null ? _timeline.TimeBase.ToSeconds(p) : null;
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
                if (_timeline != null) Resolve(cue.Transmission, _timeline);
                _live.Add(cue.Transmission);
            }
            _nextSequence = Math.Max(_nextSequence, sequence + 1);
            return cue.Snapshot();
        }
    }

    /// <summary>
    /// The input or output was opened again after a drop: the next frame's timestamps may start afresh. Media time
    /// keeps running at wall-clock speed across the gap, so a cue whose target passed during the outage goes out on the
    /// first frame after it (or expires if its window closed meanwhile), and the carousel keeps its windows.
    /// </summary>
    public void MarkDiscontinuity()
    {
        lock (_gate) _discontinuity = true;
    }

    /// <summary>
    /// Pipeline side: the messages that ride on this video packet (new cues whose target ≤ its PTS, carousel repeats,
    /// a heartbeat when due), unsigned, in sequence order. Empty when nothing is due.
    /// </summary>
    public IReadOnlyList<CatEveningMessage> Collect(in VideoFrame frame) => Collect(frame, out _);

    /// <summary>
    /// Pipeline side: as <see cref="Collect(in VideoFrame)"/>, and the <b>transmission sequence number</b> of this
    /// packet: drawn from the same counter as cue numbers whenever anything is due (−1 when nothing is), so the numbers
    /// of successive carrier frames increase strictly in transmission order, and a restart (which starts the counter at
    /// the Unix time in ms or above the audit log's reserved blocks) never reuses one. The heartbeat, if due, carries it;
    /// a format-version-2 payload carries it for everything on the frame.
    /// </summary>
    public IReadOnlyList<CatEveningMessage> Collect(in VideoFrame frame, out long transmissionSequence)
    {
        lock (_gate)
        {
            _collected.Clear();
            _messages.Clear();
            var now = _clock.Now();
            _timeline ??= StartTimeline(frame, now);
            _frames++;
            if (frame.Pts is { } pts) _lastPts = pts;
            if (_discontinuity && _lastMediaTime is { } last && (frame.Pts ?? frame.Dts) is { } raw)
            {
                _timeline.Shift = last + _timeline.DurationUnits(TimeSpan.FromTicks((now.UnixMicros - _lastFrameWallMicros) * TimeSpan.TicksPerMicrosecond)) - raw;
                _discontinuity = false;
            }
            var time = _timeline.MediaTime(frame, now);
            _lastMediaTime = time;
            _lastFrameWallMicros = now.UnixMicros;
            if ((frame.Dts ?? frame.Pts) is { } decode) _timeline.AnchorWallClock(decode + _timeline.Shift, now.UnixMicros);

            ExpireEnded(time, now.UnixMicros);
            for (var i = 0; i < _live.Count; i++)
            {
                var t = _live[i];
                if (!t.Delivered)
                {
                    if (t.Target is { } target && time < target) continue;
                    if (t.Target == null)
                    {
                        t.Target = time;
                        t.WindowEnd = time + _timeline.DurationUnits(t.Duration);
                        t.TimeBase = _timeline.TimeBase;
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
                else if (frame.IsKeyframe && t.WindowEnd is { } end && time < end)
                {
                    _collected.Add((t, false));
                }
            }
            _collected.Sort((a, b) => a.Transmission.Sequence.CompareTo(b.Transmission.Sequence));
            foreach (var (t, _) in _collected) _messages.Add(ToMessage(t, frame, now));

            var heartbeatDue = HeartbeatDue(frame, now);
            _transmission = _messages.Count > 0 || heartbeatDue ? _nextSequence++ : -1;
            transmissionSequence = _transmission;
            if (heartbeatDue)
            {
                _messages.Add(new HeartbeatMessage(_options.StreamId, _transmission, now.UnixMicros, now.UnixMicros,
                    CarrierPts90kHz(frame), now.UncertaintyMicros, _clock.TimeServer));
                _previousHeartbeatTime = _lastHeartbeatTime;
                _lastHeartbeatTime = HeartbeatClock(frame, now);
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
            var carrier = new CarrierFrame(frame.Pts, frame.FrameIndex, frame.TimeBase, Convert.ToHexStringLower(SHA256.HashData(sei)), _transmission);
            _carrierFrames++;
            _messagesSent += _messages.Count;
            _lastCarrierPts = frame.Pts;
            foreach (var (t, first) in _collected)
            {
                if (t.Cue is not { } cue) continue;
                cue.Transmissions++;
                if (first && cue.State == CueState.Pending) cue.State = CueState.Active;
                // The journal states the target on the carrier's own clock (the PTS written), whatever shift reconnections added.
                var snapshot = cue.Snapshot();
                if (snapshot.TargetPts is { } target && _timeline is { Shift: not 0 } timeline) snapshot = snapshot with { TargetPts = target - timeline.Shift };
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

    /// <summary>
    /// Pipeline side: this video packet passed without reaching the output (it was down). Time moves on as for any
    /// frame (windows that close now end or expire) but nothing is recorded as sent: first deliveries and repeats stay
    /// due, and a heartbeat is skipped.
    /// </summary>
    public void Pass(in VideoFrame frame)
    {
        lock (_gate)
        {
            Collect(frame);
            Defer(frame);
        }
    }

    // A cue added after its whole window had passed is never sent: a reader could do nothing with it.
    private void ExpireUndelivered(Transmission t, int index, long nowMicros)
    {
        _live.RemoveAt(index);
        if (t.Cue is not { } cue) return;
        cue.State = CueState.Expired;
        _journal.Record(new CueJournalEntry(CueEvent.Expired, nowMicros, cue.Snapshot(), null, "its window had ended before any frame could carry it"));
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
                _journal.Record(new CueJournalEntry(CueEvent.Ended, nowMicros, cue.Snapshot(), null, "window ended"));
            }
        }
    }

    private CatEveningMessage ToMessage(Transmission t, in VideoFrame frame, WallClockReading now)
    {
        var tb = _timeline!.TimeBase;
        long offsetTicks = 0;
        if (t.Target is { } target && frame.Pts is { } pts && _timeline.HasTimestamps)
            offsetTicks = Rescale(target - (pts + _timeline.Shift), tb);
        return new CueMessage(t.Kind, _options.StreamId, t.Sequence, now.UnixMicros, offsetTicks, t.CueIdOnWire,
            (long)Math.Round(t.Duration.TotalSeconds * Ticks90kHz), (long)t.Spread.TotalMicroseconds, t.AppData.Span);
    }

    private static long Rescale(long units, Rational from) => from.Rescale(units, Clock90kHz);

    private long CarrierPts90kHz(in VideoFrame frame)
    {
        var pts = frame.Pts ?? frame.Dts;
        return pts is { } p ? Rescale(p, frame.TimeBase) & HeartbeatMessage.MaxPts : 0;
    }

    private bool HeartbeatDue(in VideoFrame frame, WallClockReading now)
    {
        var policy = _options.Heartbeat;
        if (policy.IsOff) return false;
        if (policy.EveryFrame || _lastHeartbeatTime is not { } last) return true;
        var clock = HeartbeatClock(frame, now);
        var interval = _timeline!.ToUnits(policy.Interval, frame);
        return clock - last >= interval || clock < last;
    }

    // Monotonic media time for the heartbeat cadence: DTS when present, else PTS, else the wall clock.
    private long HeartbeatClock(in VideoFrame frame, WallClockReading now) =>
        frame.Dts ?? frame.Pts ?? now.UnixMicros;

    private Timeline StartTimeline(in VideoFrame frame, WallClockReading now)
    {
        var timeline = new Timeline(frame.Pts, frame.TimeBase, now.UnixMicros);
        foreach (var t in _live) Resolve(t, timeline);
        return timeline;
    }

    private static void Resolve(Transmission t, Timeline timeline)
    {
        var at = t.Cue?.Request.At ?? CueTime.Immediately;
        if (at.IsImmediate) return;
        t.Target = timeline.TargetOf(at);
        t.WindowEnd = t.Target + timeline.DurationUnits(t.Duration);
        t.TimeBase = timeline.TimeBase;
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

        public CueSnapshot Snapshot() =>
            new(Request, Sequence, State, Transmission?.Target, Transmission?.TimeBase, Transmissions);
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
        public long? Target { get; set; }
        public long? WindowEnd { get; set; }
        public Rational? TimeBase { get; set; }
        public bool Delivered { get; set; }
        public int RepeatsLeft { get; set; }
    }

    /// <summary>
    /// Maps cue times to media time: the video time base when the input has timestamps, wall-clock microseconds
    /// since the Unix epoch when it has none.
    /// </summary>
    private sealed class Timeline
    {
        private long _anchorWallMicros;
        private long _anchorMedia;

        public Timeline(long? firstPts, Rational timeBase, long anchorWallMicros)
        {
            HasTimestamps = firstPts.HasValue;
            TimeBase = HasTimestamps ? timeBase : new Rational(1, 1_000_000);
            Origin = firstPts ?? anchorWallMicros;
            _anchorWallMicros = anchorWallMicros;
            _anchorMedia = Origin;
        }

        public bool HasTimestamps { get; }

        public Rational TimeBase { get; }

        /// <summary>Media time of the first video frame.</summary>
        public long Origin { get; }

        /// <summary>Added to frame timestamps after a discontinuity, so media time runs on across reconnections.</summary>
        public long Shift { get; set; }

        public long MediaTime(in VideoFrame frame, WallClockReading now) =>
            HasTimestamps ? (frame.Pts ?? frame.Dts) is { } raw ? raw + Shift : Origin : now.UnixMicros;

        /// <summary>
        /// Ties media time to the wall clock at the frame passing now (decode time, which runs steadily). A live input
        /// starts with a burst (the server's buffered GOP, the probe), so media time runs ahead of the wall clock of the
        /// first frame; a wall-clock target added later maps through the latest frame and lands on the frame that
        /// passes the injector at that time.
        /// </summary>
        public void AnchorWallClock(long mediaTime, long wallMicros)
        {
            if (!HasTimestamps) return;
            _anchorMedia = mediaTime;
            _anchorWallMicros = wallMicros;
        }

        public long? TargetOf(CueTime at)
        {
            if (at.AfterFirstFrame is { } offset) return Origin + DurationUnits(offset);
            if (at.WallClock is { } instant)
            {
                var micros = (instant.UtcDateTime - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
                return _anchorMedia + TimeBase.FromMicroseconds(micros - _anchorWallMicros);
            }
            return null;
        }

        public long DurationUnits(TimeSpan span) => TimeBase.FromMicroseconds((long)span.TotalMicroseconds);

        public long ToUnits(TimeSpan span, in VideoFrame frame) =>
            HasTimestamps && (frame.Dts ?? frame.Pts) != null ? DurationUnits(span) : (long)span.TotalMicroseconds;
    }
}
