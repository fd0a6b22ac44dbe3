using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Cues;

namespace CatEvening.SeiInjector.Timing;

/// <summary>One video frame placed on the program timeline.</summary>
/// <param name="Pts">PTS to write, video time base (the input's, unless it had to be repaired).</param>
/// <param name="Dts">DTS to write, video time base; strictly increasing within a session.</param>
/// <param name="ProgramTime">Presentation time on the program timeline, microseconds from the first video frame that
/// has a timestamp; -1 for frames before it (in the first session only: after a reconnection, frames without a timestamp
/// go on from the last one).</param>
/// <param name="ProgramDecodeTime">Decoding time on the same timeline; steady, for cadences.</param>
/// <param name="Repair">What was done to the container's timestamps.</param>
public readonly record struct TimelineFrame(long Pts, long Dts, long ProgramTime, long ProgramDecodeTime, TimestampRepair Repair);

/// <summary>
/// The one program timeline of a run: turns each video packet's container timestamps into program time, microseconds
/// counted from the first video frame (what a schedule's <c>at:</c> means), across counter wraps, discontinuities,
/// missing timestamps and any number of reconnections; and maps wall-clock instants onto it through the pacing at which
/// frames arrive.
/// </summary>
/// <remarks>
/// <para>Inside, one unit: microseconds of program time. Stream time bases appear only at the edges: a frame's
/// timestamps come in (<see cref="Advance"/>) and go out repaired (<see cref="TimelineFrame.Pts"/>); a program time
/// converts back to the current session's stream time with <see cref="ToStreamTime"/>.</para>
/// <para>Within a session (one opening of the input) the video's <see cref="TimestampTrack"/> unwraps and bridges the
/// timestamps; program time is then the repaired PTS minus the session's origin, so it runs exactly as the timestamps
/// written do and a cue's offset from its carrier means the same to a reader. A new session (after the links were
/// reopened) continues the program where the last frame left it plus the wall-clock time that passed in between.</para>
/// <para>Pacing: frames arrive no earlier than they are made, so the smallest (arrival − program time) seen is the
/// live edge; a burst (FFmpeg's probe backlog, a server's buffered GOP) only raises the difference and is ignored. The
/// estimate may rise by 1 ms per second of wall time to follow clock drift and a growing delay.</para>
/// Not thread-safe: the pipeline (or the cue book, which calls it under its lock) owns it.
/// </remarks>
public sealed class MediaTimeline
{
    /// <summary>Program time of frames before the first timestamp of the stream is known.</summary>
    public const long BeforeStart = -1;

    private static readonly Rational Micros = new(1, 1_000_000);

    private readonly IWallClock _clock;
    private TimestampTrack? _video;
    private Rational _timeBase;
    private bool _reconnect, _originKnown, _paced, _synthesized;
    private long _origin, _sessionStart, _bridged;
    private long _lastArrival, _lastProgramDts, _furthestProgram = long.MinValue;
    private long _paceOffset;
    // The probe backlog: wall time the current session's input was opened, and whether its frames still come in the
    // burst FFmpeg hands over when its probe ends.
    private long? _sessionOpened;
    private bool _inBacklog, _sessionPaced;

    /// <summary>Creates an empty timeline.</summary>
    /// <param name="clock">Wall clock read as each frame arrives; the system clock when null.</param>
    public MediaTimeline(IWallClock? clock = null) => _clock = clock ?? new SystemWallClock();

    /// <summary>The current session's timestamp repairs (counters), or null before the first session.</summary>
    public TimestampSession? Session { get; private set; }

    /// <summary>The time base of the current session's video stream.</summary>
    public Rational TimeBase => _timeBase;

    /// <summary>True once a frame with a timestamp has fixed where program time 0 is.</summary>
    public bool HasStarted => _originKnown;

    /// <summary>Frames placed so far, every session.</summary>
    public long Frames { get; private set; }

    /// <summary>Sessions begun so far (openings of the input).</summary>
    public int Sessions { get; private set; }

    /// <summary>
    /// Starts a session: the input was opened (again). Its timestamps may start afresh; program time goes on from the
    /// last frame of the previous session plus the wall-clock time between them.
    /// </summary>
    /// <param name="timeBase">The video stream's time base.</param>
    /// <param name="frameSpacing">Expected DTS step between frames in that time base, 0 when unknown (40 ms).</param>
    /// <param name="leadingStart">Where frames that come before any timestamp are stamped (video time base), or null for 0.</param>
    /// <param name="synthesized">The input has no timestamps at all (raw Annex B): every frame is stamped one
    /// <paramref name="frameSpacing"/> after the last, and that is its media time.</param>
    /// <param name="openedAgo">How long ago the input's connection was up, before FFmpeg's probe read its first packets
    /// (<c>MediaInput.OpenedTimestamp</c>), or null when unknown. A live source's first frame arrived then, not when the
    /// probe handed it over (up to the analyze duration later): the gap after a reconnection is measured to it, and the
    /// frames of the probe's burst are paced as if they had arrived in real time from it, until the first frame that
    /// comes after a wait (the live edge) takes over.</param>
    /// <returns>The session, to add the other streams' tracks to.</returns>
    public TimestampSession BeginSession(Rational timeBase, long frameSpacing = 0, long? leadingStart = null, bool synthesized = false,
        TimeSpan? openedAgo = null)
    {
        if (timeBase.Numerator <= 0 || timeBase.Denominator <= 0) throw new ArgumentOutOfRangeException(nameof(timeBase), timeBase, "a time base must be positive");
        _sessionOpened = openedAgo is { } ago ? _clock.Now().UnixMicros - (long)ago.TotalMicroseconds : null;
        _inBacklog = _sessionOpened is not null;
        _sessionPaced = false;
        var session = new TimestampSession();
        _video = session.AddTrack(timeBase, frameSpacing);
        if (leadingStart is { } start) _video.SetLeadingStart(start);
        _video.Synthesized = synthesized;
        _synthesized = synthesized;
        _timeBase = timeBase;
        if (Frames > 0)
        {
            _reconnect = true;
            _originKnown = false;
        }
        Session = session;
        Sessions++;
        return session;
    }

    /// <summary>
    /// The links were reopened: the next frame starts a new session (see <see cref="BeginSession"/>), unless the
    /// pipeline begins one itself.
    /// </summary>
    public void MarkReconnect()
    {
        if (Frames > 0) _video = null;
    }

    /// <summary>Places the next video packet, in decode order.</summary>
    /// <param name="timeBase">The video stream's time base; a change starts a new session.</param>
    /// <param name="pts">PTS as demuxed, or <see cref="TimestampTrack.NoTimestamp"/>.</param>
    /// <param name="dts">DTS as demuxed, or <see cref="TimestampTrack.NoTimestamp"/>.</param>
    /// <param name="duration">Packet duration, 0 when unknown.</param>
    /// <param name="order">The frame's picture order count, when it was read (see <see cref="PictureOrder"/>): a missing
    /// PTS is then placed by it, so B-frames keep their display order.</param>
    /// <param name="backfilled">The frame came without timestamps before the session's first frame that had one, and was
    /// stamped backwards from it (<see cref="StampLeading"/>): its timestamps are written, but program time still counts
    /// from the first frame that had its own, so it comes before program time 0.</param>
    /// <param name="keyframe">The frame is a random access point: after a discontinuity it is shown after every frame
    /// shown before it (see <see cref="TimestampTrack.Next"/>).</param>
    public TimelineFrame Advance(Rational timeBase, long pts, long dts, long duration = 0, PictureOrderCount? order = null, bool backfilled = false,
        bool keyframe = false)
    {
        if (_video is null || timeBase != _timeBase) BeginSession(timeBase);
        var arrival = _clock.Now().UnixMicros;
        // After a reconnection, frames before the new session's first timestamp (PES without PTS) are stamped to follow
        // the last frame written, so program time goes on through them too; only the first session's leading frames
        // come before program time 0.
        var hadTimestamp = !backfilled && (_synthesized || _reconnect || pts != TimestampTrack.NoTimestamp || dts != TimestampTrack.NoTimestamp);
        var step = _video!.Next(pts, dts, duration, order, keyframe);
        if (!_originKnown && hadTimestamp)
        {
            _origin = step.Pts;
            // The new session's first frame arrived when its input was up (the probe then held it), not at the hand-over.
            var firstArrival = _sessionOpened is { } opened ? Math.Min(arrival, opened) : arrival;
            _sessionStart = _reconnect ? _furthestProgram + Math.Max(ToMicros(_video.Spacing), firstArrival - _lastArrival) : 0;
            _bridged = 0;
            _originKnown = true;
            _reconnect = false;
        }
        else if (_originKnown && (step.Repair & (TimestampRepair.Discontinuity | TimestampRepair.Rejoined)) != 0)
        {
            // Bridged frames follow the last one by the frame spacing on the program timeline, even where the output
            // leaves a longer gap (to follow another stream's end, so audio and video keep one shift).
            _bridged += _lastProgramDts + ToMicros(_video.Spacing) - (_sessionStart + _bridged + ToMicros(step.Dts - _origin));
            // And a bridged keyframe (an IDR, after a restart) is shown after every frame shown before it, when its
            // reorder delay is shorter than the old one's, as its timestamps are (see TimestampTrack).
            var shown = _sessionStart + _bridged + ToMicros(step.Pts - _origin);
            if ((keyframe || order is { Reset: true }) && shown <= _furthestProgram) _bridged += _furthestProgram + ToMicros(_video.Spacing) - shown;
        }
        long program = BeforeStart, decode = BeforeStart;
        if (_originKnown)
        {
            program = _sessionStart + _bridged + ToMicros(step.Pts - _origin);
            decode = _sessionStart + _bridged + ToMicros(step.Dts - _origin);
            if (program > _furthestProgram) _furthestProgram = program;
            var offset = arrival - decode;
            if (_inBacklog && _sessionPaced && arrival - _lastArrival >= ToMicros(_video.Spacing) / 2)
            {
                // The first frame that came after a wait: the probe's burst is over and arrivals are real from here on;
                // pacing starts again from them (the burst's estimate could be early by a publisher's start-up delay).
                _inBacklog = false;
                _paced = false;
            }
            else if (_inBacklog && _sessionOpened is { } openedAt)
            {
                // In the burst: as if the frames had arrived in real time from the moment the input was up.
                offset = Math.Min(offset, openedAt - _sessionStart);
            }
            _paceOffset = !_paced ? offset : Math.Min(offset, _paceOffset + ((arrival - _lastArrival) / 1000));
            _paced = true;
            _sessionPaced = true;
            _lastProgramDts = decode;
        }
        _lastArrival = arrival;
        Frames++;
        return new TimelineFrame(step.Pts, step.Dts, program, decode, step.Repair);
    }

    /// <summary>
    /// Timestamps for frames held before the session's first timestamp, stamped backwards from the first frame that has
    /// one (see <see cref="TimestampTrack.StampLeading"/>); the frames then go through <see cref="Advance"/> with them
    /// (marked backfilled), so they are written where the encoder put them while program time counts from the first frame
    /// that had its own timestamp. Call before that first frame is placed.
    /// </summary>
    /// <returns>The first frame's DTS: its own, or the one made up when its PES had a PTS only (see <see cref="TimestampTrack.StampLeading"/>).</returns>
    /// <exception cref="InvalidOperationException">No session has begun.</exception>
    public long StampLeading(ReadOnlySpan<PictureOrderCount?> leading, long firstPts, long firstDts, PictureOrderCount? firstOrder, Span<long> pts, Span<long> dts,
        PictureOrderCount? earliestLater = null)
    {
        if (_video is null) throw new InvalidOperationException("no session has begun");
        return _video.StampLeading(leading, firstPts, firstDts, firstOrder, pts, dts, earliestLater);
    }

    /// <summary>
    /// The program time of the frame passing at <paramref name="wallMicros"/> (microseconds since the Unix epoch), by
    /// the arrival pacing of the frames so far; null before the first frame with a timestamp.
    /// </summary>
    public long? ProgramTimeAt(long wallMicros) => _paced ? wallMicros - _paceOffset : null;

    /// <summary>Program time of the latest frame's decoding, or null before the first frame with a timestamp.</summary>
    public long? LastProgramDecodeTime => _paced ? _lastProgramDts : null;

    /// <summary>
    /// A program time as a timestamp of the current session's video stream (what a reader sees on the carrier), or
    /// null before the first frame with a timestamp.
    /// </summary>
    public long? ToStreamTime(long programMicros) =>
        _originKnown ? _origin + Micros.Rescale(programMicros - _sessionStart - _bridged, _timeBase) : null;

    /// <summary>
    /// The program time of the frame whose timestamp on the source's clock is <paramref name="sourceMicros"/>
    /// (microseconds of the current session's unwrapped stream time), or null before the first frame with a timestamp.
    /// </summary>
    public long? ProgramTimeOfSource(long sourceMicros) =>
        _originKnown ? _sessionStart + _bridged + ToMicros(Micros.Rescale(sourceMicros, _timeBase) - _origin) : null;

    private long ToMicros(long units) => _timeBase.Rescale(units, Micros);
}
