namespace CatEvening.LatencyProbe.Device;

/// <summary>What became of an edge once the pairer decided.</summary>
public enum PairingOutcome
{
    /// <summary>A screen edge was paired with its studio flash; the delay is valid.</summary>
    Paired,

    /// <summary>A flash got no screen edge within the window: the screen edge was missed (or the flash was extra).</summary>
    UnmatchedFlash,

    /// <summary>A screen edge had no flash to belong to: an extra edge, or its flash was missed.</summary>
    UnmatchedScreenEdge,

    /// <summary>
    /// A flash had several screen edges in its window before any delay was established, so none was trusted.
    /// </summary>
    AmbiguousFlash,

    /// <summary>
    /// The only screen edge a flash could take lay further than the jump tolerance from the reference delay, and
    /// no run of agreeing edges showed the delay had really changed: an extra edge standing in for a missed one.
    /// </summary>
    Outlier,
}

/// <summary>One decision of the pairer, in device microseconds.</summary>
/// <param name="Outcome">What was decided.</param>
/// <param name="FlashMicroseconds">Flash time (for <see cref="PairingOutcome.UnmatchedScreenEdge"/>: -1).</param>
/// <param name="ScreenMicroseconds">Screen-edge time (for unmatched or ambiguous flashes: -1).</param>
public readonly record struct PairingEvent(PairingOutcome Outcome, long FlashMicroseconds, long ScreenMicroseconds)
{
    /// <summary>Screen time minus flash time, for <see cref="PairingOutcome.Paired"/>.</summary>
    public long DelayMicroseconds => ScreenMicroseconds - FlashMicroseconds;
}

/// <summary>
/// Pairs each screen edge (channel 1) with the studio flash (channel 0) that caused it, in one device clock,
/// coping with missed and extra edges on either channel.
/// </summary>
/// <remarks>
/// A flash at F may own one screen edge in its window [F + min, F + max]. The window is decided when the
/// device's time has passed F + max (or on <see cref="Flush"/>), flashes in order:
/// <list type="bullet">
/// <item>Once delays have been measured, the reference is the median of the last
/// <see cref="ReferenceLength"/> paired delays. The flash takes the candidate whose delay is closest to it,
/// except candidates that a later flash in the queue would explain better (a spurious flash between the true
/// flash and its screen edge, or just before the true flash, therefore loses to the true one).</item>
/// <item>Before any delay is known, a screen edge belongs to the latest flash before it; a flash that is then
/// left with exactly one candidate takes it, one with several is <see cref="PairingOutcome.AmbiguousFlash"/>
/// and pairs nothing, so a spurious edge cannot seed a wrong reference.</item>
/// </list>
/// A chosen edge further than the jump tolerance from the reference is held back. When
/// <see cref="JumpConfirmation"/> such edges in a row agree with each other, the delay really changed: they are
/// paired and become the new reference. A good pair in between shows they were <see cref="PairingOutcome.Outlier"/>s.
/// A screen edge that no open window can claim is <see cref="PairingOutcome.UnmatchedScreenEdge"/>; a flash
/// that takes nothing is <see cref="PairingOutcome.UnmatchedFlash"/>. Pairing needs flashes further apart than
/// the window is wide; the device must send its lines in time order.
/// </remarks>
public sealed class EdgePairer
{
    /// <summary>Number of recent delays whose median is the reference.</summary>
    public const int ReferenceLength = 15;

    /// <summary>Number of agreeing out-of-tolerance pairs in a row that prove a real change of delay.</summary>
    public const int JumpConfirmation = 3;

    private readonly long _minDelay;
    private readonly long _maxDelay;
    private readonly List<long> _flashes = [];
    private readonly List<long> _screens = [];
    private readonly Queue<long> _recent = new();
    private readonly List<(long Flash, long Screen)> _suspects = [];
    private readonly long _jumpTolerance;
    private long _now = long.MinValue;

    /// <summary>
    /// Creates a pairer accepting delays in [<paramref name="minDelayMicroseconds"/>, <paramref name="maxDelayMicroseconds"/>]
    /// that holds back delays further than <paramref name="jumpToleranceMicroseconds"/> from the reference.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The minimum is negative, the maximum not above it, or the tolerance not positive.</exception>
    public EdgePairer(long minDelayMicroseconds, long maxDelayMicroseconds, long jumpToleranceMicroseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minDelayMicroseconds);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxDelayMicroseconds, minDelayMicroseconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(jumpToleranceMicroseconds);
        _minDelay = minDelayMicroseconds;
        _maxDelay = maxDelayMicroseconds;
        _jumpTolerance = jumpToleranceMicroseconds;
    }

    /// <summary>Median of the recent paired delays in microseconds, or null before the first pair.</summary>
    public long? ReferenceDelayMicroseconds
    {
        get
        {
            if (_recent.Count == 0) return null;
            var sorted = _recent.ToArray();
            Array.Sort(sorted);
            return sorted[sorted.Length / 2];
        }
    }

    /// <summary>Takes one edge (device time, unwrapped) and appends every decision it makes possible to <paramref name="events"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The channel is neither 0 nor 1.</exception>
    public void Add(int channel, long microseconds, List<PairingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var list = channel switch
        {
            ProbeLine.FlashChannel => _flashes,
            ProbeLine.ScreenChannel => _screens,
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "channel must be 0 or 1"),
        };
        InsertSorted(list, microseconds);
        _now = Math.Max(_now, microseconds);
        while (_flashes.Count > 0 && _flashes[0] + _maxDelay < _now) CloseFirstFlash(events);
        DropUnclaimableScreens(events, final: false);
    }

    /// <summary>Decides every open window now: the run ended or the device went away.</summary>
    public void Flush(List<PairingEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        while (_flashes.Count > 0) CloseFirstFlash(events);
        DropUnclaimableScreens(events, final: true);
        ReleaseSuspectsAsOutliers(events);
    }

    /// <summary>Forgets open windows and the reference: the device restarted and its clock with it.</summary>
    public void Reset()
    {
        _flashes.Clear();
        _screens.Clear();
        _recent.Clear();
        _suspects.Clear();
        _now = long.MinValue;
    }

    private void CloseFirstFlash(List<PairingEvent> events)
    {
        var flash = _flashes[0];
        _flashes.RemoveAt(0);
        var reference = ReferenceDelayMicroseconds;
        var chosen = -1;
        var eligible = 0;
        for (var i = 0; i < _screens.Count; i++)
        {
            var delay = _screens[i] - flash;
            if (delay < _minDelay) continue;
            if (delay > _maxDelay) break;
            if (ExplainedBetterByLaterFlash(_screens[i], delay, reference)) continue;
            eligible++;
            if (chosen < 0 || (reference is long r && Math.Abs(delay - r) < Math.Abs(_screens[chosen] - flash - r))) chosen = i;
        }
        if (chosen < 0)
        {
            events.Add(new PairingEvent(PairingOutcome.UnmatchedFlash, flash, -1));
            return;
        }
        if (reference is null && eligible > 1)
        {
            events.Add(new PairingEvent(PairingOutcome.AmbiguousFlash, flash, -1));
            return;
        }
        var screen = _screens[chosen];
        _screens.RemoveAt(chosen);
        if (reference is long known && Math.Abs(screen - flash - known) > _jumpTolerance)
        {
            _suspects.Add((flash, screen));
            if (_suspects.Count >= JumpConfirmation && TailOfSuspectsAgrees())
            {
                // Only the agreeing tail proves the new delay; suspects before it were outliers.
                var older = _suspects.Count - JumpConfirmation;
                for (var i = 0; i < older; i++) events.Add(new PairingEvent(PairingOutcome.Outlier, _suspects[i].Flash, _suspects[i].Screen));
                _recent.Clear();
                for (var i = older; i < _suspects.Count; i++) Accept(_suspects[i].Flash, _suspects[i].Screen, events);
                _suspects.Clear();
            }
            return;
        }
        ReleaseSuspectsAsOutliers(events);
        Accept(flash, screen, events);
    }

    private void Accept(long flash, long screen, List<PairingEvent> events)
    {
        _recent.Enqueue(screen - flash);
        if (_recent.Count > ReferenceLength) _recent.Dequeue();
        events.Add(new PairingEvent(PairingOutcome.Paired, flash, screen));
    }

    private bool TailOfSuspectsAgrees()
    {
        long lo = long.MaxValue, hi = long.MinValue;
        for (var i = _suspects.Count - JumpConfirmation; i < _suspects.Count; i++)
        {
            var delay = _suspects[i].Screen - _suspects[i].Flash;
            lo = Math.Min(lo, delay);
            hi = Math.Max(hi, delay);
        }
        return hi - lo <= _jumpTolerance;
    }

    private void ReleaseSuspectsAsOutliers(List<PairingEvent> events)
    {
        foreach (var (flash, screen) in _suspects) events.Add(new PairingEvent(PairingOutcome.Outlier, flash, screen));
        _suspects.Clear();
    }

    private bool ExplainedBetterByLaterFlash(long screen, long delay, long? reference)
    {
        foreach (var later in _flashes)
        {
            var laterDelay = screen - later;
            if (laterDelay < _minDelay) break;
            if (reference is not long r) return true;
            if (Math.Abs(laterDelay - r) < Math.Abs(delay - r)) return true;
        }
        return false;
    }

    private void DropUnclaimableScreens(List<PairingEvent> events, bool final)
    {
        while (_screens.Count > 0)
        {
            var screen = _screens[0];
            var claimable = !final && (_flashes.Count == 0
                ? screen - _minDelay >= _now
                : _flashes.Exists(f => screen - f >= _minDelay && screen - f <= _maxDelay) || screen - _minDelay >= _now);
            if (claimable) break;
            _screens.RemoveAt(0);
            events.Add(new PairingEvent(PairingOutcome.UnmatchedScreenEdge, -1, screen));
        }
    }

    private static void InsertSorted(List<long> list, long value)
    {
        var index = list.Count;
        while (index > 0 && list[index - 1] > value) index--;
        list.Insert(index, value);
    }
}
