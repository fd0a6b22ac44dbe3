using System.Diagnostics;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Runs a <see cref="SliceTuner"/> on the packet thread: reads the thread's CPU time at the end of each window, sets the
/// slice the tuner gives (<see cref="SchedulerSlice"/>), tells the operator what it chose, and gives the thread its own
/// slice back at the end. Created and called on the packet thread only.
/// </summary>
internal sealed class TunedSlice
{
    private readonly SliceTuner _tuner;
    private readonly SliceTunerOptions _options;
    private readonly TimeSpan _own;
    private readonly Action<string>? _log;
    private readonly Action<TimeSpan>? _changed;
    private readonly long _windowTicks;
    private bool _measuring;       // false: the window running is a warm-up (the start, or after a link dropped)
    private long _cpu, _packets;   // at the start of the window running
    private SliceChoice _applied = SliceChoice.Own;
    private SliceChoice? _announced;

    private TunedSlice(SliceTunerOptions options, TimeSpan own, Action<string>? log, Action<TimeSpan>? changed)
    {
        _tuner = new SliceTuner(options);
        _options = options;
        _own = own;
        _log = log;
        _changed = changed;
        _windowTicks = (long)(options.Window.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Starts tuning the calling thread's slice, or says why it cannot (a kernel before 6.12, not Linux).</summary>
    public static TunedSlice? TryStart(SliceTunerOptions options, Action<string>? log, Action<TimeSpan>? changed)
    {
        if (SchedulerSlice.Current() is not { } own || own < SchedulerSlice.Minimum || own > SchedulerSlice.Maximum)
        {
            log?.Invoke("pipeline thread: the scheduler slice is not tuned (custom slices need Linux 6.12 or later)");
            return null;
        }
        if (!ThreadCpuTime.TryRead(out _))
        {
            log?.Invoke("pipeline thread: the scheduler slice is not tuned (the thread's CPU time cannot be read)");
            return null;
        }
        var tuned = new TunedSlice(options, own, log, changed);
        changed?.Invoke(own);
        if (!tuned.Apply(tuned._tuner.Current)) return null;
        var from = options.FirstTrialAfter * options.Window;
        log?.Invoke($"pipeline thread: scheduler slice {Ms(tuned.Slice(tuned._tuner.Current))} (its own: {Ms(own)}); the two compared by CPU time per packet " +
            (from > TimeSpan.Zero ? $"from {from.TotalSeconds:0.###} s on, " : "") + $"in {options.Window.TotalSeconds:0.###} s windows");
        return tuned;
    }

    /// <summary>
    /// Ends the window running (the clock passed the time this call last returned) and starts the next one.
    /// </summary>
    /// <param name="now">The clock now (<see cref="Stopwatch.GetTimestamp"/>).</param>
    /// <param name="packets">Packets the pipeline has passed in all.</param>
    /// <returns>When to call again (<see cref="Stopwatch"/> ticks); <see cref="long.MaxValue"/> once tuning stopped (the
    /// kernel refused a slice).</returns>
    public long Check(long now, long packets)
    {
        ThreadCpuTime.TryRead(out var cpu);
        if (_measuring)
        {
            var next = _tuner.EndWindow(Math.Max(0, cpu - _cpu), Math.Max(0, packets - _packets));
            if (!Apply(next)) return long.MaxValue;
            Announce();
        }
        _measuring = true;
        _cpu = cpu;
        _packets = packets;
        return now + _windowTicks;
    }

    /// <summary>A link dropped: the window running measures nothing, and the next one is a warm-up.</summary>
    public void Interrupted()
    {
        _measuring = false;
        Apply(_tuner.Restart());
    }

    /// <summary>Gives the thread its own slice back.</summary>
    public void Restore()
    {
        if (_applied != SliceChoice.Own) SchedulerSlice.TryApply(_own, out _, out _);
        _applied = SliceChoice.Own;
    }

    private bool Apply(SliceChoice choice)
    {
        if (choice == _applied) return true;
        var slice = Slice(choice);
        if (!SchedulerSlice.TryApply(slice, out _, out var why))
        {
            _log?.Invoke($"pipeline thread: scheduler slice tuning stopped ({why})");
            Restore();
            return false;
        }
        _applied = choice;
        _changed?.Invoke(slice);
        return true;
    }

    private TimeSpan Slice(SliceChoice choice) => choice == SliceChoice.Long ? _options.Long : _own;

    private void Announce()
    {
        if (_tuner.Comparing || _tuner.PairsMeasured == 0 || _announced == _tuner.Choice) return;
        _announced = _tuner.Choice;
        var percent = Math.Abs(Math.Exp(_tuner.Estimate) - 1) * 100;
        var pairs = $"({_tuner.PairsMeasured} pairs of windows measured)";
        _log?.Invoke(_tuner.Choice != SliceChoice.Long
            ? $"pipeline thread: keeps its own scheduler slice {Ms(_own)}: {Ms(_options.Long)} cost {percent:0.0} % more CPU per packet {pairs}"
            : _tuner.Estimate < 0
                ? $"pipeline thread: scheduler slice {Ms(_options.Long)}: {percent:0.0} % less CPU per packet than its own {Ms(_own)} {pairs}"
                : $"pipeline thread: scheduler slice {Ms(_options.Long)}: {percent:0.0} % more CPU per packet than its own {Ms(_own)}, within the {(Math.Exp(_options.LongAllowance) - 1) * 100:0} % allowed for what it saves the neighbours {pairs}");
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0.###} ms";
}
