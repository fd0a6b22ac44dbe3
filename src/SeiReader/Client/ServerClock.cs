using System;
using System.Collections.Generic;

namespace CatEvening.SeiReader.Client;

/// <summary>Why <see cref="ServerClock.AddExchange"/> refused an exchange.</summary>
public enum ClockExchangeStatus
{
    /// <summary>The exchange was added.</summary>
    Accepted = 0,

    /// <summary>t3 is before t0: the local clock went backwards during the exchange.</summary>
    LocalClockWentBack = 1,

    /// <summary>t2 is before t1: the server answered before it received.</summary>
    ServerTimesReversed = 2,

    /// <summary>The server held the request longer than the round trip took: the times cannot be right.</summary>
    NegativeDelay = 3,
}

/// <summary>The estimate of a <see cref="ServerClock"/> at one local instant.</summary>
public readonly struct ClockEstimate
{
    internal ClockEstimate(long atLocalMicros, long offsetMicros, long uncertaintyMicros, double driftPpm, long minRoundTripMicros, int samplesUsed, int samplesHeld)
    {
        AtLocalMicros = atLocalMicros;
        OffsetMicros = offsetMicros;
        UncertaintyMicros = uncertaintyMicros;
        DriftPpm = driftPpm;
        MinRoundTripMicros = minRoundTripMicros;
        SamplesUsed = samplesUsed;
        SamplesHeld = samplesHeld;
    }

    /// <summary>The local instant the estimate is for (microseconds since the Unix epoch by the local clock).</summary>
    public long AtLocalMicros { get; }

    /// <summary>Server time minus local time, microseconds: <c>server = local + offset</c>.</summary>
    public long OffsetMicros { get; }

    /// <summary>Half-width of the interval the true offset lies in, if no path delay was negative: a hard bound under
    /// that assumption, not a standard deviation. Grows with the time since the last exchange.</summary>
    public long UncertaintyMicros { get; }

    /// <summary>Estimated rate of the server clock against the local one, parts per million (0 until the exchanges
    /// span <see cref="ServerClockOptions.MinDriftSpan"/>).</summary>
    public double DriftPpm { get; }

    /// <summary>The smallest round trip (network delay without server processing) among the exchanges held, microseconds.</summary>
    public long MinRoundTripMicros { get; }

    /// <summary>How many exchanges agree on the estimate; the others were rejected as outliers.</summary>
    public int SamplesUsed { get; }

    /// <summary>How many exchanges are held.</summary>
    public int SamplesHeld { get; }
}

/// <summary>Settings of a <see cref="ServerClock"/>.</summary>
public sealed class ServerClockOptions
{
    /// <summary>How many recent exchanges are kept. Default 64.</summary>
    public int MaxSamples { get; set; } = 64;

    /// <summary>The exchanges must span at least this long before drift is estimated. Default 30 s.</summary>
    public TimeSpan MinDriftSpan { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest drift believed, parts per million (crystals are within ±100 ppm; the clamp guards against noise). Default 500.</summary>
    public double MaxDriftPpm { get; set; } = 500;

    /// <summary>How much an exchange's interval widens per second of age, parts per million, to allow for drift
    /// not yet estimated. Default 50 ppm (50 µs per second).</summary>
    public double DriftAllowancePpm { get; set; } = 50;

    internal void Validate()
    {
        if (MaxSamples is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(MaxSamples), MaxSamples, "must be 1-4096");
        if (MinDriftSpan <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MinDriftSpan), MinDriftSpan, "must be positive");
        if (MaxDriftPpm is < 0 or > 10000) throw new ArgumentOutOfRangeException(nameof(MaxDriftPpm), MaxDriftPpm, "must be 0-10000");
        if (DriftAllowancePpm is < 0 or > 10000) throw new ArgumentOutOfRangeException(nameof(DriftAllowancePpm), DriftAllowancePpm, "must be 0-10000");
    }
}

/// <summary>
/// Estimates the offset between the local clock and a time server from request/response exchanges that the app
/// makes over its own transport: t0 = local send, t1 = server receive, t2 = server send, t3 = local receive (all
/// microseconds since the Unix epoch, each by its own clock).
/// <para>Each exchange bounds the offset: θ = ((t1 - t0) + (t2 - t3)) / 2 and δ = (t3 - t0) - (t2 - t1) give
/// server - local ∈ [θ - δ/2, θ + δ/2] (RFC 5905 section 8), since neither leg can take negative time. The
/// estimate is the intersection of those intervals that agree with most others (Marzullo's algorithm, as in NTP's
/// selection): its lower edge comes from the exchange with the fastest server→client leg and its upper edge from the
/// one with the fastest client→server leg, so it is a minimum-delay selection done per leg; exchanges whose
/// interval misses the majority (a stepped server clock, a bogus reply) are outliers and ignored. Intervals widen
/// with age by <see cref="ServerClockOptions.DriftAllowancePpm"/>, and once exchanges span
/// <see cref="ServerClockOptions.MinDriftSpan"/> the drift is fitted (least squares weighted toward low-delay
/// exchanges) and older exchanges are carried forward along it.</para>
/// <para>What no two-way exchange can see is a path whose two directions have different minimum delays: the
/// estimate is then off by half that difference. Thread-safe.</para>
/// </summary>
public sealed class ServerClock
{
    private readonly ServerClockOptions _options;
    private const int MaxHistory = 1024;
    private readonly List<Sample> _samples = new();
    private readonly List<Sample> _history = new();
    private readonly object _gate = new();
    private ClockEstimate? _last;
    private double _drift;

    /// <summary>Creates an estimator with no exchanges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ServerClock(ServerClockOptions? options = null)
    {
        _options = options ?? new ServerClockOptions();
        _options.Validate();
    }

    /// <summary>True once at least one exchange was accepted.</summary>
    public bool IsSynchronized
    {
        get
        {
            lock (_gate) return _last.HasValue;
        }
    }

    /// <summary>Adds one exchange and updates the estimate.</summary>
    /// <param name="t0">Local time the request left.</param>
    /// <param name="t1">Server time the request arrived.</param>
    /// <param name="t2">Server time the response left.</param>
    /// <param name="t3">Local time the response arrived.</param>
    public ClockExchangeStatus AddExchange(long t0, long t1, long t2, long t3)
    {
        if (t3 < t0) return ClockExchangeStatus.LocalClockWentBack;
        if (t2 < t1) return ClockExchangeStatus.ServerTimesReversed;
        var delay = (t3 - t0) - (t2 - t1);
        if (delay < 0) return ClockExchangeStatus.NegativeDelay;
        // θ = ((t1 - t0) + (t2 - t3)) / 2, kept doubled to stay exact in integers.
        var theta2 = (t1 - t0) + (t2 - t3);
        var at = t0 + (t3 - t0) / 2;
        lock (_gate)
        {
            _samples.Add(new Sample(at, theta2, delay));
            if (_samples.Count > _options.MaxSamples) _samples.RemoveAt(0);
            Recompute(at);
        }
        return ClockExchangeStatus.Accepted;
    }

    /// <summary>The estimate at local instant <paramref name="nowLocalMicros"/>: the offset carried along the
    /// drift and the uncertainty widened by the drift allowance since the last exchange.</summary>
    /// <exception cref="InvalidOperationException">No exchange yet (<see cref="IsSynchronized"/> is false).</exception>
    public ClockEstimate GetEstimate(long nowLocalMicros)
    {
        lock (_gate)
        {
            var e = _last ?? throw new InvalidOperationException("no clock exchange has been added yet");
            var age = nowLocalMicros - e.AtLocalMicros;
            var offset = e.OffsetMicros + (long)Math.Round(e.DriftPpm * age / 1e6);
            var widen = (long)Math.Ceiling(_options.DriftAllowancePpm * Math.Abs(age) / 1e6);
            return new ClockEstimate(nowLocalMicros, offset, e.UncertaintyMicros + widen, e.DriftPpm, e.MinRoundTripMicros, e.SamplesUsed, e.SamplesHeld);
        }
    }

    /// <summary>Like <see cref="GetEstimate"/> but false instead of throwing before the first exchange.</summary>
    public bool TryGetEstimate(long nowLocalMicros, out ClockEstimate estimate)
    {
        lock (_gate)
        {
            if (!_last.HasValue)
            {
                estimate = default;
                return false;
            }
        }
        estimate = GetEstimate(nowLocalMicros);
        return true;
    }

    /// <summary>Server time at local instant <paramref name="localMicros"/>.</summary>
    /// <exception cref="InvalidOperationException">No exchange yet.</exception>
    public long ToServerTime(long localMicros) => localMicros + GetEstimate(localMicros).OffsetMicros;

    /// <summary>The local instant at which the server clock reads <paramref name="serverMicros"/>.</summary>
    /// <exception cref="InvalidOperationException">No exchange yet.</exception>
    public long ToLocalTime(long serverMicros)
    {
        var guess = serverMicros - GetEstimate(serverMicros).OffsetMicros;
        return serverMicros - GetEstimate(guess).OffsetMicros;
    }

    private void Recompute(long now)
    {
        var (lo, hi, used) = Intersect(now, _drift);
        _history.Add(new Sample(now, (long)Math.Round(lo + hi), (long)Math.Ceiling(hi - lo)));
        if (_history.Count > MaxHistory) _history.RemoveAt(0);
        if (_history[_history.Count - 1].At - _history[0].At >= _options.MinDriftSpan.Ticks / 10)
        {
            _drift = FitDrift();
            (lo, hi, used) = Intersect(now, _drift);
        }
        var minDelay = long.MaxValue;
        foreach (var s in _samples) minDelay = Math.Min(minDelay, s.Delay);
        var offset = (long)Math.Round((lo + hi) / 2.0);
        var uncertainty = (long)Math.Ceiling((hi - lo) / 2.0);
        _last = new ClockEstimate(now, offset, uncertainty, _drift, minDelay, used, _samples.Count);
    }

    /// <summary>Marzullo's algorithm over the samples' intervals carried to <paramref name="now"/>: the region covered
    /// by the most intervals (the latest such region on ties, the newest exchanges being the most relevant).</summary>
    private (double Lo, double Hi, int Count) Intersect(long now, double driftPpm)
    {
        var edges = new List<(double Value, int Type)>(_samples.Count * 2);
        foreach (var s in _samples)
        {
            var age = now - s.At;
            var center = s.Theta2 / 2.0 + driftPpm * age / 1e6;
            var half = s.Delay / 2.0 + _options.DriftAllowancePpm * Math.Abs(age) / 1e6;
            edges.Add((center - half, -1));
            edges.Add((center + half, +1));
        }
        // Starts sort before ends at the same value so that touching intervals count as overlapping.
        edges.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Type.CompareTo(b.Type));
        int best = 0, count = 0;
        double lo = 0, hi = 0;
        for (var i = 0; i < edges.Count; i++)
        {
            count -= edges[i].Type;
            if (edges[i].Type == -1 && count >= best)
            {
                best = count;
                lo = edges[i].Value;
                hi = edges[i + 1].Value;
            }
        }
        return (lo, hi, best);
    }

    /// <summary>Least-squares slope of the successive estimates (each the midpoint of its intersection, at its
    /// local time), weighted by 1/(uncertainty + 0.5 ms)² so that the tight estimates dominate; clamped to ±MaxDriftPpm.
    /// Fitting the filtered estimates rather than raw exchanges is what NTP's frequency discipline does: a raw
    /// exchange on a cellular path is off by tens of milliseconds, an estimate by one or two.</summary>
    private double FitDrift()
    {
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        var origin = _history[0].At;
        foreach (var h in _history)
        {
            var width = h.Delay + 1000.0;
            var w = 1.0 / (width * width);
            var x = (h.At - origin) / 1e6;
            var y = h.Theta2 / 2.0;
            sw += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            sxy += w * x * y;
        }
        var det = sw * sxx - sx * sx;
        if (det <= 0) return _drift;
        var slope = (sw * sxy - sx * sy) / det;
        return Math.Max(-_options.MaxDriftPpm, Math.Min(_options.MaxDriftPpm, slope));
    }

    /// <summary>One exchange (or, in the history, one estimate: offset doubled and interval width in place of delay).</summary>
    private readonly struct Sample
    {
        internal Sample(long at, long theta2, long delay)
        {
            At = at;
            Theta2 = theta2;
            Delay = delay;
        }

        internal long At { get; }
        internal long Theta2 { get; }
        internal long Delay { get; }
    }
}
