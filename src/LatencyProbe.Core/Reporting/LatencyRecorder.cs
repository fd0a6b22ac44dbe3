namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Collects the samples and event counts of one instrument run; safe to use from several threads.
/// The live console view, the Prometheus exporter and the final report all read from it.
/// </summary>
public sealed class LatencyRecorder
{
    private readonly Lock _gate = new();
    private readonly List<LatencySample> _samples = [];
    private readonly SortedDictionary<string, long> _counters = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _properties = new(StringComparer.Ordinal);
    private Action<LatencySample>[] _observers = [];

    /// <summary>Creates a recorder for the named instrument (<c>sei</c>, <c>timecode</c>, <c>device</c>, ...).</summary>
    public LatencyRecorder(string instrument, DateTimeOffset startedUtc)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instrument);
        Instrument = instrument;
        StartedUtc = startedUtc;
    }

    /// <summary>The instrument's name as it appears in reports and metric labels.</summary>
    public string Instrument { get; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedUtc { get; }

    /// <summary>Raised after each sample is added, on the thread that added it.</summary>
    public event Action<LatencySample>? SampleRecorded;

    /// <summary>Raised after a counter changes, with the counter's name and the amount added.</summary>
    public event Action<string, long>? CounterIncremented;

    /// <summary>Number of samples so far.</summary>
    public int Count
    {
        get { lock (_gate) return _samples.Count; }
    }

    /// <summary>Adds one sample.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The latency is not finite or the uncertainty is negative or not finite.</exception>
    public void Add(LatencySample sample)
    {
        if (!double.IsFinite(sample.LatencyMilliseconds))
            throw new ArgumentOutOfRangeException(nameof(sample), sample.LatencyMilliseconds, "latency must be finite");
        if (!double.IsFinite(sample.UncertaintyMilliseconds) || sample.UncertaintyMilliseconds < 0)
            throw new ArgumentOutOfRangeException(nameof(sample), sample.UncertaintyMilliseconds, "uncertainty must be finite and not negative");
        lock (_gate)
        {
            _samples.Add(sample);
            foreach (var observer in _observers) observer(sample);
        }
        SampleRecorded?.Invoke(sample);
    }

    /// <summary>
    /// Calls <paramref name="observer"/> with every sample recorded so far and then with each sample added later, in
    /// the order they were added and exactly once each: the replay and every later call hold the recorder's lock, so a
    /// sample added meanwhile is neither missed nor seen twice (unlike a <see cref="SampleRecorded"/> handler added
    /// after the first sample). The observer must be quick and must not call the recorder. Dispose the result to stop.
    /// </summary>
    public IDisposable Observe(Action<LatencySample> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate)
        {
            foreach (var sample in _samples) observer(sample);
            _observers = [.. _observers, observer];
        }
        return new Unsubscriber(this, observer);
    }

    /// <summary>Adds <paramref name="amount"/> to the named event counter (for example <c>missed_screen_edges</c>).</summary>
    public void Increment(string counter, long amount = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(counter);
        lock (_gate)
        {
            _counters.TryGetValue(counter, out var value);
            _counters[counter] = value + amount;
        }
        CounterIncremented?.Invoke(counter, amount);
    }

    /// <summary>Records a descriptive property of the run (device name, stream URL, ...), shown in the report.</summary>
    public void SetProperty(string name, string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        lock (_gate) _properties[name] = value;
    }

    /// <summary>Current value of a counter; 0 when it never fired.</summary>
    public long GetCounter(string counter)
    {
        lock (_gate) return _counters.TryGetValue(counter, out var v) ? v : 0;
    }

    /// <summary>Every event counter and its value so far, by name (ordinal order).</summary>
    public KeyValuePair<string, long>[] GetCounters()
    {
        lock (_gate) return [.. _counters];
    }

    /// <summary>Summary of the samples so far.</summary>
    public LatencySummary Summarize()
    {
        LatencySample[] copy;
        lock (_gate) copy = [.. _samples];
        return LatencySummary.Of(copy);
    }

    /// <summary>A consistent copy of everything recorded so far, ending now.</summary>
    public LatencyReport ToReport(DateTimeOffset endedUtc)
    {
        LatencySample[] copy;
        KeyValuePair<string, long>[] counters;
        KeyValuePair<string, string>[] properties;
        lock (_gate)
        {
            copy = [.. _samples];
            counters = [.. _counters];
            properties = [.. _properties];
        }
        return new LatencyReport(Instrument, StartedUtc, endedUtc, LatencySummary.Of(copy), copy, counters, properties);
    }

    private sealed class Unsubscriber(LatencyRecorder recorder, Action<LatencySample> observer) : IDisposable
    {
        public void Dispose()
        {
            lock (recorder._gate) recorder._observers = Array.FindAll(recorder._observers, o => !ReferenceEquals(o, observer));
        }
    }
}
