using CatEvening.FFmpegInterop;

namespace CatEvening.SeiInjector.Timing;

/// <summary>What a <see cref="TimestampTrack"/> did to one packet's timestamps.</summary>
[Flags]
public enum TimestampRepair
{
    /// <summary>The timestamps go out as they came.</summary>
    None = 0,

    /// <summary>The container's counter wrapped (31, 32 or 33 bits) and was unwrapped: nothing lost, nothing shifted.</summary>
    Wrap = 1,

    /// <summary>The timestamps jumped (backwards, or forwards far beyond the packet spacing): this packet starts a new
    /// shift so that it follows the previous one.</summary>
    Discontinuity = 2,

    /// <summary>The packet joined the shift another stream chose for the same discontinuity, or went back to the shift
    /// it had before a one-packet outlier.</summary>
    Rejoined = 4,

    /// <summary>A missing or impossible PTS or DTS was filled in from the neighbours (or a DTS equal to the previous one
    /// was moved one unit on).</summary>
    Interpolated = 8,
}

/// <summary>Output timestamps of one packet, in its stream's time base.</summary>
/// <param name="Pts">Presentation timestamp to write.</param>
/// <param name="Dts">Decoding timestamp to write; strictly above the track's previous one.</param>
/// <param name="Repair">What was changed, if anything.</param>
public readonly record struct TrackStep(long Pts, long Dts, TimestampRepair Repair);

/// <summary>
/// The tracks of one output session (one muxer): a discontinuity seen first on one stream moves every stream by the
/// same amount, so audio stays in step with video. Counts what its tracks repaired.
/// </summary>
public sealed class TimestampSession
{
    private readonly List<TimestampTrack> _tracks = [];
    private long _discontinuities, _wraps, _interpolated;
    private long? _followMicros;
    private long? _followShiftMicros;

    /// <summary>Shift chosen by the latest discontinuity, microseconds; meaningful once <see cref="Generation"/> &gt; 0.</summary>
    internal long ShiftMicros { get; private set; }

    /// <summary>Number of discontinuities so far; a track compares it with the one it last joined.</summary>
    internal int Generation { get; private set; }

    /// <summary>Discontinuities bridged (each counted once, whichever stream showed it first).</summary>
    public long Discontinuities => Interlocked.Read(ref _discontinuities);

    /// <summary>Counter wraps unwrapped.</summary>
    public long Wraps => Interlocked.Read(ref _wraps);

    /// <summary>Packets whose PTS or DTS was filled in or moved.</summary>
    public long Interpolated => Interlocked.Read(ref _interpolated);

    /// <summary>Creates a track for a stream of this session.</summary>
    /// <param name="timeBase">The stream's time base.</param>
    /// <param name="spacing">Expected distance between packets in that time base (a frame or audio frame), used before
    /// two packets were seen; 0 for 40 ms.</param>
    public TimestampTrack AddTrack(Rational timeBase, long spacing = 0)
    {
        var track = new TimestampTrack(this, timeBase, spacing);
        _tracks.Add(track);
        return track;
    }

    /// <summary>Creates a track for an audio stream whose coded frames all last <paramref name="frameDuration"/>:
    /// packets without timestamps are stamped that exact duration apart from the last one that had them (an audio
    /// encoder's timestamps count samples: 1024/44100 s is 2089.8 ticks of 90 kHz, rounded per frame, not summed).</summary>
    /// <param name="timeBase">The stream's time base.</param>
    /// <param name="frameDuration">Seconds per coded frame (samples per frame over the sample rate).</param>
    public TimestampTrack AddTrack(Rational timeBase, Rational frameDuration)
    {
        var track = new TimestampTrack(this, timeBase, 0, frameDuration);
        _tracks.Add(track);
        return track;
    }

    /// <summary>
    /// Makes this session continue an output that an earlier session (an earlier opening of the input) wrote to: the
    /// first timestamp of any stream goes out at <paramref name="resumeMicros"/>, and every stream is moved by that same
    /// amount, so each stays monotonic and audio stays in step with video. Call before the first packet.
    /// </summary>
    /// <param name="resumeMicros">Where the output resumes, microseconds (the end of what was written, plus the time the
    /// input was away).</param>
    public void Follow(long resumeMicros) => _followMicros = resumeMicros;

    /// <summary>Where a following session resumes (see <see cref="Follow"/>), microseconds; null when it does not follow one.</summary>
    internal long? FollowMicros => _followMicros;

    // The shift, microseconds, that moves the session's first timestamp (whichever stream shows one first) to the resume
    // point; 0 for a session that follows none.
    internal long StartShiftMicros(long firstMicros)
    {
        if (_followMicros is not { } resume) return 0;
        _followShiftMicros ??= resume - firstMicros;
        return _followShiftMicros.Value;
    }

    /// <summary>The generation a <see cref="Reshift"/> replaced (-1 when none), and its shift, microseconds.</summary>
    internal int ReshiftedFrom { get; private set; } = -1;

    internal long ReshiftedFromMicros { get; private set; }

    internal int Bridge(long shiftMicros)
    {
        ShiftMicros = shiftMicros;
        Interlocked.Increment(ref _discontinuities);
        return ++Generation;
    }

    // The lead stream moves the latest discontinuity's shift further on (its first frame would have been shown before
    // frames already shown, see TimestampTrack): still one discontinuity; the streams on the replaced shift move with it.
    internal int Reshift(long shiftMicros)
    {
        ReshiftedFrom = Generation;
        ReshiftedFromMicros = ShiftMicros;
        ShiftMicros = shiftMicros;
        return ++Generation;
    }

    internal void Count(TimestampRepair repair)
    {
        if ((repair & TimestampRepair.Wrap) != 0) Interlocked.Increment(ref _wraps);
        if ((repair & TimestampRepair.Interpolated) != 0) Interlocked.Increment(ref _interpolated);
    }

    /// <summary>
    /// The session's first track (the video, as <see cref="MediaTimeline"/> adds it): a discontinuity is bridged so that
    /// this stream follows its own last packet by its spacing, and every other stream takes the same shift.
    /// </summary>
    internal TimestampTrack? Lead => _tracks.Count > 0 ? _tracks[0] : null;

    // Where a bridged session resumes, microseconds: the end (last DTS + spacing) of the lead stream, so the video goes on
    // one frame after its last frame, not after whichever stream happened to end last; the end of the stream that
    // reached furthest while the lead has no packet yet.
    internal long ResumeMicros()
    {
        if (Lead?.EndMicros is { } lead) return lead;
        var end = long.MinValue;
        foreach (var t in _tracks)
            if (t.EndMicros is { } e && e > end) end = e;
        return end;
    }
}

/// <summary>
/// Makes one stream's timestamps valid for a muxer while changing as little as possible: timestamps that increase go
/// out exactly as they came; a counter wrap (MPEG-TS 33 bits, FLV 32 bits, and 31 bits as FFmpeg's FLV muxer writes)
/// is unwrapped; a jump backwards, or forwards far beyond the packet spacing, is a discontinuity (a publisher restart
/// spliced into one stream, a corrupt packet): from there the stream is shifted to follow the previous packet by the
/// spacing, and a one-packet outlier is undone at the next packet. A missing DTS is interpolated from the neighbours; a
/// missing PTS from the picture order count when the packet's is given (a neighbour's PTS plus the frame spacing times
/// the count's distance over its step, so B-frames keep the display order their encoder meant), else from the DTS plus
/// the stream's reorder delay. Allocation-free per packet.
/// </summary>
public sealed class TimestampTrack
{
    /// <summary>The value for an absent timestamp (FFmpeg's <c>AV_NOPTS_VALUE</c>).</summary>
    public const long NoTimestamp = long.MinValue;

    private static readonly int[] WrapBits = [33, 32, 31];
    private static readonly Rational Micros = new(1, 1_000_000);

    private readonly TimestampSession _session;
    private readonly long _oneSecond;

    private bool _started, _leading, _freshShift, _ptsDelayKnown, _reorderDepthKnown, _catchingUp;
    private long _wrap, _shift, _previousShift;
    // Where the last packet belongs on the output line, before any catch-up moved it on (a packet without timestamps:
    // one spacing after the one before); the same for the last packet that came with a timestamp; and how many without
    // one were stamped since that one.
    private long _trueDts, _lastGiven = long.MinValue;
    private int _stampedSinceGiven;
    // An audio stream's exact frame duration in ticks (numerator / denominator), 0/0 when not known.
    private readonly long _frameTicksNumerator, _frameTicksDenominator;
    private int _generation;
    private long _lastDts, _spacing, _ptsDelay, _leadingNext;

    // Picture order: the last frame whose PTS and count are known (given or inferred) and in the current count's epoch;
    // the highest PTS so far; the count units per frame, once two frames with given PTS showed it.
    private bool _anchorKnown;
    private long _anchorOrder, _anchorPts, _anchorGivenOrder = long.MinValue, _anchorGivenPts;
    private long _maxPts = long.MinValue;
    private int _orderStep;

    internal TimestampTrack(TimestampSession session, Rational timeBase, long spacing, Rational? frameDuration = null)
    {
        _session = session;
        TimeBase = timeBase;
        _oneSecond = Math.Max(1, timeBase.FromMicroseconds(1_000_000));
        if (frameDuration is { Numerator: > 0, Denominator: > 0 } frame && timeBase.Numerator > 0 && timeBase.Denominator > 0)
        {
            // Ticks per frame as a fraction: seconds per frame × ticks per second.
            _frameTicksNumerator = (long)frame.Numerator * timeBase.Denominator;
            _frameTicksDenominator = (long)frame.Denominator * timeBase.Numerator;
            spacing = Math.Max(1, (_frameTicksNumerator + (_frameTicksDenominator / 2)) / _frameTicksDenominator);
        }
        _spacing = spacing > 0 ? spacing : Math.Max(1, timeBase.FromMicroseconds(40_000));
    }

    /// <summary>The stream's time base.</summary>
    public Rational TimeBase { get; }

    /// <summary>The stream has no timestamps of its own: stamping every packet is the plan, not a repair.</summary>
    public bool Synthesized { get; set; }

    /// <summary>DTS of the last packet written, or null before the first.</summary>
    public long? LastDts => _started || _leading ? _lastDts : null;

    /// <summary>Current distance between packets (the last regular DTS step, or the packet duration).</summary>
    public long Spacing => _spacing;

    /// <summary>Where the next packet is expected, microseconds; null before the first.</summary>
    internal long? EndMicros => LastDts is { } d ? TimeBase.Rescale(d + _spacing, Micros) : null;

    /// <summary>
    /// Where packets that come before any timestamp (PES without PTS at the start of an MPEG-TS) are stamped, one
    /// spacing apart: the earliest start FFmpeg found among the input's streams, as <c>ffmpeg</c> does.
    /// </summary>
    public void SetLeadingStart(long dts) => _leadingNext = dts;

    /// <summary>
    /// The stream's reorder depth in frames (H.264 <c>max_num_reorder_frames</c>, H.265 <c>sps_max_num_reorder_pics</c>):
    /// until a packet brings a DTS, a packet with a PTS only is given the DTS its encoder most likely wrote: the first that
    /// many spacings before its PTS, the next ones one spacing apart (at most their PTS). Call before the first packet.
    /// </summary>
    /// <param name="frames">Reorder depth, at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frames"/> is negative.</exception>
    public void SetReorderDepth(int frames)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        if (_ptsDelayKnown) return;
        _ptsDelay = frames * _spacing;
        _reorderDepthKnown = true;
    }

    /// <summary>Output timestamps for the next packet of the stream.</summary>
    /// <param name="pts">PTS as demuxed, or <see cref="NoTimestamp"/>.</param>
    /// <param name="dts">DTS as demuxed, or <see cref="NoTimestamp"/>.</param>
    /// <param name="duration">Packet duration in the time base, 0 when unknown.</param>
    /// <param name="order">The packet's picture order count when it was read (a video track whose PTS may be missing), else null.</param>
    /// <param name="keyframe">The packet is a random access point (a video keyframe): shown after every frame decoded
    /// before it, so where a discontinuity puts it is also bounded by the highest PTS so far.</param>
    public TrackStep Next(long pts, long dts, long duration, PictureOrderCount? order = null, bool keyframe = false)
    {
        keyframe |= order is { Reset: true };
        var repair = TimestampRepair.None;
        if (dts == NoTimestamp && pts == NoTimestamp)
        {
            repair = Synthesized ? TimestampRepair.None : TimestampRepair.Interpolated;
            long outDts;
            if (!_started)
            {
                outDts = _leading ? _lastDts + _spacing : _session.FollowMicros is { } resume ? TimeBase.FromMicroseconds(resume) : _leadingNext;
                _leading = true;
                _trueDts = outDts;
            }
            else
            {
                // One spacing after where the last packet belongs (an exact frame duration: that many frames after the last
                // packet that had a timestamp, rounded as an encoder counting samples rounds); while catching up (see
                // CatchUp), one unit after the last.
                _trueDts = _frameTicksDenominator > 0 && _lastGiven != long.MinValue
                    ? _lastGiven + ((((_stampedSinceGiven + 1L) * _frameTicksNumerator) + (_frameTicksDenominator / 2)) / _frameTicksDenominator)
                    : _trueDts + _spacing;
                outDts = Math.Max(_trueDts, _lastDts + 1);
                _stampedSinceGiven++;
            }
            _lastDts = outDts;
            var leadingPts = PtsByOrder(outDts, order);
            Remember(leadingPts, order, given: false);
            _session.Count(repair);
            return new TrackStep(leadingPts, outDts, repair);
        }
        var dtsMissing = dts == NoTimestamp;
        if (dtsMissing)
        {
            // Only a PTS (a demuxer that cannot tell the DTS of the first B-frame stream packets yet, or a PES with PTS
            // only): the DTS moves on by the least step, so the real ones that follow still fit after it; before any DTS
            // was seen on a stream whose reorder depth is known (see SetReorderDepth), by one spacing from a first DTS that
            // depth before its PTS, as x264 and x265 stamp (the least step put the first frames' DTS one unit apart).
            var step = _reorderDepthKnown && !_ptsDelayKnown ? _spacing : 1;
            dts = _started || _leading ? Math.Min(pts - _ptsDelay, _lastDts - _shift - _wrap + step) : pts - _ptsDelay;
            repair |= TimestampRepair.Interpolated;
        }
        if (duration > 0) _spacing = duration;

        var unwrapped = dts + _wrap;
        long output;
        if (!_started)
        {
            _started = true;
            _shift = TimeBase.FromMicroseconds(_session.StartShiftMicros(TimeBase.Rescale(unwrapped, Micros)));
            output = unwrapped + _shift;
            if (_leading && output <= _lastDts)
            {
                // The stamped leading packets ran past the first real timestamp: follow them instead.
                _shift = _lastDts + _spacing - unwrapped;
                output = unwrapped + _shift;
                _generation = _session.Bridge(TimeBase.Rescale(_shift, Micros));
                repair |= TimestampRepair.Discontinuity;
            }
        }
        else
        {
            if (_session.Generation != _generation && _session.ReshiftedFrom == _generation)
            {
                // This stream is on the shift the lead stream just moved further on (see Reshift): it moves too, so audio
                // stays in step with video (a gap of the moved distance, nothing backwards).
                _shift += TimeBase.FromMicroseconds(_session.ShiftMicros) - TimeBase.FromMicroseconds(_session.ReshiftedFromMicros);
                _generation = _session.Generation;
                repair |= TimestampRepair.Rejoined;
            }
            output = unwrapped + _shift;
            var delta = output - _lastDts;
            if (_freshShift)
            {
                // Right after a discontinuity, a packet that fits the line from before better was an outlier's neighbour.
                _freshShift = false;
                var before = unwrapped + _previousShift;
                var expected = _lastDts + _spacing;
                if (IsStep(before - _lastDts) && Math.Abs(before - expected) < Math.Abs(output - expected))
                {
                    _shift = _previousShift;
                    output = before;
                    delta = output - _lastDts;
                    repair |= TimestampRepair.Rejoined;
                }
            }
            if (!IsStep(delta))
            {
                if (_catchingUp && delta <= 0 && delta > -MaxCatchUp)
                {
                    // Still behind the end of this stream's previous session (see CatchUp): one unit on each packet.
                    output = _lastDts + 1;
                    repair |= TimestampRepair.Interpolated;
                }
                else if (delta <= 0 && delta > -_spacing)
                {
                    // Equal or slightly backwards (jitter, rounding): one unit on, no new shift.
                    output = _lastDts + 1;
                    repair |= TimestampRepair.Interpolated;
                }
                else if (_stampedSinceGiven > 0 && _lastGiven != long.MinValue && output > _lastGiven && output <= _lastDts)
                {
                    // Packets without timestamps were stamped a guessed spacing apart and ran past this one, which still
                    // follows the last packet that had a timestamp: the guess was too wide, the input is not
                    // discontinuous. The stream keeps its shift (in step with the others); this packet and the next go out
                    // one unit apart until their own timestamps pass the stamped ones. The spacing is learnt from them.
                    if (duration <= 0) _spacing = Math.Max(1, (output - _lastGiven) / (_stampedSinceGiven + 1));
                    output = CatchUp(output);
                    repair |= TimestampRepair.Interpolated;
                }
                else if (WrapOf(delta) is var wrap and not 0)
                {
                    _wrap += wrap;
                    unwrapped += wrap;
                    output += wrap;
                    repair |= TimestampRepair.Wrap;
                }
                else if (_session.Generation != _generation
                    && unwrapped + TimeBase.FromMicroseconds(_session.ShiftMicros) is var joined && (IsStep(joined - _lastDts) || CanCatchUp(joined)))
                {
                    _previousShift = _shift;
                    if (ShownBeforeLast(keyframe, pts, unwrapped, joined))
                    {
                        // Another stream chose the shift from this one's last DTS; this frame (an IDR after a restart with a
                        // shorter reorder delay) would be shown before frames already shown: the shift moves on for all.
                        joined = _maxPts + _spacing - LeadOf(pts + _wrap - unwrapped);
                        _generation = _session.Reshift(TimeBase.Rescale(joined - unwrapped, Micros));
                    }
                    else
                    {
                        _generation = _session.Generation;
                    }
                    _shift = joined - unwrapped;
                    output = CatchUp(joined);
                    repair |= TimestampRepair.Rejoined | (output != joined ? TimestampRepair.Interpolated : TimestampRepair.None);
                }
                else
                {
                    var resume = _session.Lead == this ? _lastDts + _spacing : ResumeOfSession();
                    if (resume <= _lastDts && !CanCatchUp(resume)) resume = _lastDts + _spacing;
                    // The new line's first frame (an IDR, after a restart) is shown after every frame already shown, also
                    // when its reorder delay is shorter than the old one's (B-frames before, none after): following the
                    // last DTS alone gave it, and the frames after it, the PTS of the old session's last frames.
                    if (ShownBeforeLast(keyframe, pts, unwrapped, resume)) resume = _maxPts + _spacing - LeadOf(pts + _wrap - unwrapped);
                    _previousShift = _shift;
                    _shift = resume - unwrapped;
                    output = CatchUp(resume);
                    _freshShift = true;
                    _generation = _session.Bridge(TimeBase.Rescale(_shift, Micros));
                    repair |= TimestampRepair.Discontinuity;
                }
            }
            else
            {
                // The step that ends a catch-up is shorter than the real spacing, and the one over a moved shift longer:
                // neither is learnt.
                if (duration <= 0 && !dtsMissing && !_catchingUp && (repair & TimestampRepair.Rejoined) == 0) _spacing = delta;
                _catchingUp = false;
            }
        }

        long outPts;
        if (pts == NoTimestamp)
        {
            outPts = PtsByOrder(output, order);
            repair |= TimestampRepair.Interpolated;
        }
        else
        {
            var lead = LeadOf(pts + _wrap - unwrapped);
            if (lead < 0)
            {
                lead = _ptsDelay;
                repair |= TimestampRepair.Interpolated;
            }
            else if (!dtsMissing && (!_ptsDelayKnown || lead < _ptsDelay))
            {
                _ptsDelay = lead;
                _ptsDelayKnown = true;
            }
            // From the DTS as it came, not as nudged: a DTS moved one unit on leaves its PTS where it was.
            outPts = unwrapped + _shift + lead;
            if (outPts < output)
            {
                outPts = output;
                repair |= TimestampRepair.Interpolated;
            }
        }
        _lastDts = output;
        _trueDts = _lastGiven = unwrapped + _shift;
        _stampedSinceGiven = 0;
        Remember(outPts, order, given: pts != NoTimestamp && (repair & (TimestampRepair.Discontinuity | TimestampRepair.Rejoined)) == 0);
        _session.Count(repair);
        return new TrackStep(outPts, output, repair);
    }

    /// <summary>
    /// Timestamps for the frames that came before this track's first timestamp (PES without PTS at the start of an
    /// MPEG-TS, held until it arrived), stamped backwards from that first frame as FFmpeg stamps a probed backlog: DTS one
    /// spacing apart before its DTS; PTS by picture order count: from its PTS for the frames of its count epoch; for each
    /// earlier epoch (ended by a count reset, an IDR), its last picture shown one spacing before the next epoch's first and
    /// the others by their counts from it; DTS plus the first frame's reorder delay where a count is unknown. Call before
    /// the first frame is placed.
    /// </summary>
    /// <remarks>
    /// <para>The next epoch's first picture in display order may be decoded after the first frame: an H.265 IDR_W_RADL,
    /// BLA or CRA is followed in decode order by its leading pictures (RADL, RASL), shown before it (H.265 7.4.2.2:
    /// they precede its trailing pictures in decode order); <paramref name="earliestLater"/> names the lowest count among them, so the earlier epoch ends before them,
    /// not on their PTS.</para>
    /// <para>A first frame with a PTS and no DTS (a PES with PTS only), or a DTS equal to its PTS (FFmpeg's demuxer fills
    /// the DTS of such a PES with its PTS when it does not know the frame is delayed), gets the latest DTS that keeps every
    /// stamped frame's PTS at or after its DTS, at most its PTS: the leading frames' DTS are lowered, their PTS never
    /// raised (raising them repeated PTS that later frames have, and the frame after the first, with its own DTS, came
    /// before the made-up line: a discontinuity). Where the DTS really was the PTS this is that DTS again. The result is
    /// the first frame's DTS, for it to be placed with.</para>
    /// </remarks>
    /// <param name="leading">The leading frames' counts, in decode order (null where unread).</param>
    /// <param name="firstPts">The first frame with a timestamp: its PTS, or <see cref="NoTimestamp"/>.</param>
    /// <param name="firstDts">Its DTS, or <see cref="NoTimestamp"/>.</param>
    /// <param name="firstOrder">Its picture order count, or null.</param>
    /// <param name="pts">Receives the leading frames' PTS (as long as <paramref name="leading"/>).</param>
    /// <param name="dts">Receives their DTS.</param>
    /// <param name="earliestLater">The lowest count among the frames decoded after the first one that are in its count
    /// epoch and shown before that epoch's first frame (the leading pictures of its IRAP), or null when none was seen.</param>
    /// <returns>The first frame's DTS: <paramref name="firstDts"/>, or the one made up when it is <see cref="NoTimestamp"/>
    /// or the PTS.</returns>
    /// <exception cref="ArgumentException">A destination is shorter than <paramref name="leading"/>, or the first frame has no timestamp.</exception>
    public long StampLeading(ReadOnlySpan<PictureOrderCount?> leading, long firstPts, long firstDts, PictureOrderCount? firstOrder, Span<long> pts, Span<long> dts,
        PictureOrderCount? earliestLater = null)
    {
        if (pts.Length < leading.Length || dts.Length < leading.Length) throw new ArgumentException("the destinations are shorter than the leading frames");
        if (firstDts == NoTimestamp && firstPts == NoTimestamp) throw new ArgumentException("the first frame has no timestamp", nameof(firstDts));
        // A DTS equal to the PTS may be no DTS at all: FFmpeg's demuxer copies a PES's lone PTS into the DTS while it does
        // not know the frame is delayed (compute_pkt_fields).
        var dtsMissing = firstDts == NoTimestamp || firstDts == firstPts;
        var delay = firstPts == NoTimestamp || dtsMissing ? 0 : Math.Max(0, firstPts - firstDts);
        if (firstPts == NoTimestamp) firstPts = firstDts;
        // Frames at or after the last count reset share the first frame's count epoch.
        var sameEpochFrom = firstOrder is { Reset: true } ? leading.Length : 0;
        for (var i = leading.Length - 1; i >= 0 && sameEpochFrom == 0; i--)
            if (leading[i] is { Reset: true }) sameEpochFrom = i;
        // PTS by count first (NoTimestamp where no count places a frame), DTS from them, then the rest.
        for (var i = 0; i < leading.Length; i++)
            pts[i] = firstOrder is { } first && i >= sameEpochFrom && leading[i] is { } own
                ? firstPts + OrderTicks(own.Value - first.Value, first.UnitsPerFrame)
                : NoTimestamp;
        if (firstOrder is { } firstCount && sameEpochFrom > 0)
        {
            // Earlier epochs, each ended by a count reset (an IDR: every picture before it is shown before it, H.264 8.2.5.2,
            // H.265 C.5.2.2), from the last back: the epoch's last picture in display order one spacing before the next
            // epoch's first, the others by their counts from it. (DTS plus the first frame's delay would put them in decode
            // order: a whole GOP held at the start came out with its B-frames' PTS out of order and repeated.) The next
            // epoch's first may be one of the leading pictures decoded after the first frame (see remarks).
            var nextFirstShown = firstPts;
            if (earliestLater is { Reset: false } later && later.Value < firstCount.Value)
                nextFirstShown = firstPts + OrderTicks(later.Value - firstCount.Value, firstCount.UnitsPerFrame);
            for (var i = sameEpochFrom; i < leading.Length; i++)
                if (pts[i] != NoTimestamp) nextFirstShown = Math.Min(nextFirstShown, pts[i]);
            var end = sameEpochFrom;
            while (end > 0)
            {
                var start = end - 1;
                while (start > 0 && leading[start] is not { Reset: true }) start--;
                long lastOrder = long.MinValue;
                var unitsPerFrame = 0;
                for (var i = start; i < end; i++)
                    if (leading[i] is { } o && o.Value > lastOrder)
                        (lastOrder, unitsPerFrame) = (o.Value, o.UnitsPerFrame);
                var firstShown = nextFirstShown;
                for (var i = start; i < end; i++)
                {
                    if (leading[i] is not { } own || lastOrder == long.MinValue) continue;
                    pts[i] = nextFirstShown - _spacing - OrderTicks(lastOrder - own.Value, unitsPerFrame);
                    firstShown = Math.Min(firstShown, pts[i]);
                }
                nextFirstShown = firstShown;
                end = start;
            }
        }
        if (dtsMissing)
        {
            // The latest DTS line, one spacing a frame, under every PTS: an encoder's DTS meets some frame's PTS (a
            // non-reference B-frame's, or every frame's without B-frames), so this is the one it wrote.
            firstDts = firstPts;
            for (var i = 0; i < leading.Length; i++)
                if (pts[i] != NoTimestamp) firstDts = Math.Min(firstDts, pts[i] + ((leading.Length - i) * _spacing));
        }
        for (var i = 0; i < leading.Length; i++)
        {
            dts[i] = firstDts - ((leading.Length - i) * _spacing);
            pts[i] = pts[i] == NoTimestamp ? dts[i] + delay : Math.Max(dts[i], pts[i]);
        }
        return firstDts;
    }

    // How far a packet's PTS is ahead of its DTS (both unwrapped alike, `lead` their difference): PTS and DTS may
    // straddle a counter wrap, so the PTS is unwrapped against its own DTS; -1 when no wrap makes it 0 to 60 s.
    private long LeadOf(long lead)
    {
        var maxLead = _oneSecond * 60;
        if (lead < 0 || lead > maxLead)
        {
            foreach (var bits in WrapBits)
            {
                var period = 1L << bits;
                if (lead + period is var up && up >= 0 && up <= maxLead) return up;
                if (lead - period is var down && down >= 0 && down <= maxLead) return down;
            }
            return -1;
        }
        return lead;
    }

    // Whether the lead stream's keyframe, its DTS put at `output`, would be shown at or before a frame already shown (the
    // highest PTS so far): after a restart whose reorder delay is shorter than the one before, the last DTS plus the
    // spacing is too early a line. Only a keyframe: a B-frame is shown before frames decoded earlier. A packet without a
    // PTS is placed by its picture order count (an IDR after every frame before it, see PtsByOrder).
    private bool ShownBeforeLast(bool keyframe, long pts, long unwrapped, long output) =>
        keyframe && _session.Lead == this && pts != NoTimestamp && _maxPts != long.MinValue
        && LeadOf(pts + _wrap - unwrapped) is var lead and >= 0 && output + lead <= _maxPts;

    // The PTS of a frame whose own is missing, from its picture order count: after the last frame with a known PTS in the
    // same count epoch by the distance of their counts; an IDR (a count reset, closed GOP) one spacing after every frame
    // before it; without a count, the DTS plus the reorder delay.
    private long PtsByOrder(long dts, PictureOrderCount? order)
    {
        if (order is { } o)
        {
            if (o.Reset && _maxPts != long.MinValue) return Math.Max(dts, _maxPts + _spacing);
            if (!o.Reset && _anchorKnown) return Math.Max(dts, _anchorPts + OrderTicks(o.Value - _anchorOrder, o.UnitsPerFrame));
        }
        return dts + _ptsDelay;
    }

    // A distance in picture order count units as time: frame spacing × distance / count units per frame.
    private long OrderTicks(long distance, int unitsPerFrame)
    {
        var step = _orderStep > 0 ? _orderStep : Math.Max(1, unitsPerFrame);
        return (long)Math.Round(distance * (double)_spacing / step, MidpointRounding.AwayFromZero);
    }

    // Keeps the anchor the next PTS-less frame is placed from; learns the count step from two neighbours with given PTS
    // (an H.264 encoder may count one per frame instead of two).
    private void Remember(long outPts, PictureOrderCount? order, bool given)
    {
        if (outPts > _maxPts) _maxPts = outPts;
        if (order is not { } o)
        {
            _anchorKnown = false;
            _anchorGivenOrder = long.MinValue;
            return;
        }
        if (given && !o.Reset && _anchorGivenOrder != long.MinValue && o.Value != _anchorGivenOrder)
        {
            var ptsDistance = outPts - _anchorGivenPts;
            var orderDistance = o.Value - _anchorGivenOrder;
            // units per frame = distance × spacing / PTS distance, when that is a small whole number.
            if (ptsDistance != 0 && (orderDistance * _spacing) % ptsDistance == 0 && (orderDistance * _spacing) / ptsDistance is var step and >= 1 and <= 4)
                _orderStep = (int)step;
        }
        _anchorKnown = true;
        _anchorOrder = o.Value;
        _anchorPts = outPts;
        _anchorGivenOrder = given ? o.Value : long.MinValue;
        _anchorGivenPts = outPts;
    }

    // A regular step: forwards, and not far beyond the spacing (at most 1 s, or 10 spacings when packets are sparse).
    private bool IsStep(long delta) => delta > 0 && delta <= Math.Max(_oneSecond, 10 * _spacing);

    // The multiple of a counter wrap (±2^33, ±2^32, ±2^31 units) that turns `delta` into a regular step, or 0.
    private long WrapOf(long delta)
    {
        foreach (var bits in WrapBits)
        {
            var period = 1L << bits;
            if (IsStep(delta + period)) return period;
            if (IsStep(delta - period)) return -period;
        }
        return 0;
    }

    private long ResumeOfSession()
    {
        var end = _session.ResumeMicros();
        return end == long.MinValue ? _lastDts + _spacing : TimeBase.FromMicroseconds(end);
    }

    // How far behind its own last packet a stream may be put by the shift the lead stream chose: audio usually runs a
    // few frames past the video's last frame, so the new session's audio starts before where the old one's ended.
    private long MaxCatchUp => _oneSecond;

    private bool CanCatchUp(long target) => target <= _lastDts && _lastDts - target < MaxCatchUp;

    // A packet the shared shift puts at or before this stream's last one goes out one unit after it, as do the next
    // ones until the shifted timestamps pass the old session's end: the stream stays strictly increasing and in step
    // with the others, and no packet is lost.
    private long CatchUp(long target)
    {
        if (target > _lastDts) return target;
        _catchingUp = true;
        return _lastDts + 1;
    }
}
