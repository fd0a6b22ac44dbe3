namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Chooses, while a live run goes on, between the packet thread's own scheduler slice and a long one
/// (<see cref="SchedulerSlice"/>), by measuring which costs the thread less CPU time per packet on this machine now.
/// A long slice made a live injector 4-8 % cheaper beside nginx and other relays (fewer preemptions by the process each
/// packet is sent to) and 5-30 % dearer beside CPU-bound work such as an encoder (the tick then preempts it mid-packet):
/// which one wins depends on the neighbours, which can change during a show (benchmarks/RESULTS.md, twelfth and
/// fourteenth passes). The tuner holds no clock and no thread: the pipeline runs each window on <see cref="Current"/>
/// and reports the window's CPU time and packets to <see cref="EndWindow"/>, which says the slice of the next window.
/// </summary>
/// <remarks>
/// <para>Procedure. Windows are compared in adjacent pairs (one on each slice), so a change in the stream's content or the
/// machine's load between pairs cancels; the order inside a pair alternates (kernel-long, long-kernel, ...), so a trend
/// inside a pair cancels over two. Each pair gives d = ln(cost on the long slice / cost on the thread's own), costs in ns
/// of CPU per packet, clamped to ±<see cref="SliceTunerOptions.MaxLogRatio"/> (a window with a garbage collection or a
/// reconnect in it is not a 50 % effect).</para>
/// <para>What the thread measures is its own cost with its neighbours as they are. A long slice also saves its neighbours
/// work (nginx and the other processes are preempted less: the whole machine was 6 % and nginx 9 % less busy with every
/// injector on a long slice than on the kernel's, RESULTS.md, twelfth pass), which no in-thread measurement sees. So the
/// long slice is kept while it costs the thread at most <see cref="SliceTunerOptions.LongAllowance"/> more; beside
/// CPU-bound work, where it costs 4-30 % more, the thread's own slice is chosen.</para>
/// <para>The run starts on the long slice; after <see cref="SliceTunerOptions.FirstTrialAfter"/> windows (start-up
/// over) a trial of <see cref="SliceTunerOptions.TrialPairs"/> pairs compares the two; the estimate is their mean and the
/// choice is the long slice when the estimate is below <see cref="SliceTunerOptions.LongAllowance"/> (below). Then the
/// choice runs for <see cref="SliceTunerOptions.SettledWindows"/> windows, followed by one check pair, which moves the
/// estimate (exponential average, weight <see cref="SliceTunerOptions.CheckWeight"/>) when it agrees with the choice. A
/// check pair that disagrees starts a retrial of <see cref="SliceTunerOptions.RetrialPairs"/> pairs at once, whose
/// estimate is the plain mean of the old estimate (as one pair), the check and the retrial's pairs, so a change of
/// neighbours is followed within a minute or so, while a quiet machine spends about one window in
/// <see cref="SliceTunerOptions.SettledWindows"/> on the other slice.</para>
/// <para>A window with fewer than <see cref="SliceTunerOptions.MinPackets"/> packets (the output down, the input stalled)
/// measures nothing: the pair it belongs to is started again.</para>
/// </remarks>
public sealed class SliceTuner
{
    private readonly SliceTunerOptions _options;
    private Phase _phase = Phase.Trial;
    private int _phasePairsLeft;
    private int _settledLeft;
    private int _pairIndex;        // pairs completed or started, for the order inside a pair
    private bool _secondOfPair;
    private double _firstCost;     // ns per packet of the pair's first window
    private double _sum;           // first trial: sum of d; a retrial: the old estimate, the check's d and the retrial's
    private int _retrialPairs;     // terms in _sum during a retrial
    private int _count;            // pairs measured in all

    /// <summary>Creates a tuner that starts on the long slice and compares after <see cref="SliceTunerOptions.FirstTrialAfter"/>
    /// windows (or at once, first window on the thread's own slice, when that is 0).</summary>
    /// <exception cref="ArgumentException">An option out of its range (see <see cref="SliceTunerOptions"/>).</exception>
    public SliceTuner(SliceTunerOptions options)
    {
        options.Validate();
        _options = options;
        _phasePairsLeft = options.TrialPairs;
        if (options.FirstTrialAfter > 0)
        {
            // Start on the long slice, the cheaper on a relay box; compare once start-up is over.
            _phase = Phase.Settled;
            _settledLeft = options.FirstTrialAfter;
            Choice = SliceChoice.Long;
        }
        Current = Choice;
    }

    /// <summary>The slice the window now running should have.</summary>
    public SliceChoice Current { get; private set; }

    /// <summary>The slice chosen so far (the long one until the first trial ends, or the thread's own without
    /// <see cref="SliceTunerOptions.FirstTrialAfter"/>).</summary>
    public SliceChoice Choice { get; private set; } = SliceChoice.Own;

    /// <summary>Estimated ln(CPU per packet on the long slice / CPU per packet on the thread's own); negative: the long one is
    /// cheaper. 0 before the first pair. The long slice is chosen while this is below
    /// <see cref="SliceTunerOptions.LongAllowance"/>.</summary>
    public double Estimate { get; private set; }

    /// <summary>Pairs of windows measured so far.</summary>
    public int PairsMeasured => _count;

    /// <summary>True while the tuner compares (a trial), false while it runs its choice between checks.</summary>
    public bool Comparing => _phase != Phase.Settled;

    /// <summary>
    /// Ends the window that ran on <see cref="Current"/> and gives the slice of the next one.
    /// </summary>
    /// <param name="cpuNanoseconds">CPU time the packet thread used in the window, ns (CLOCK_THREAD_CPUTIME_ID).</param>
    /// <param name="packets">Packets the thread passed in the window.</param>
    /// <returns>The slice of the next window (also <see cref="Current"/>); when it differs from the window just ended, the
    /// caller changes the thread's slice.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative CPU time or packet count.</exception>
    public SliceChoice EndWindow(long cpuNanoseconds, long packets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpuNanoseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(packets);
        if (_phase == Phase.Settled)
        {
            if (--_settledLeft <= 0)
            {
                // The first comparison of the run is a trial; later ones start with one check pair.
                _phase = _count == 0 ? Phase.Trial : Phase.Check;
                StartPair();
            }
            return Current;
        }
        if (packets < _options.MinPackets || cpuNanoseconds == 0)
        {
            // Nothing measured: the pair starts again, in the same order.
            _secondOfPair = false;
            Current = FirstOf(_pairIndex);
            return Current;
        }
        var cost = (double)cpuNanoseconds / packets;
        if (!_secondOfPair)
        {
            _firstCost = cost;
            _secondOfPair = true;
            Current = Other(Current);
            return Current;
        }
        var first = FirstOf(_pairIndex);
        var (own, longer) = first == SliceChoice.Own ? (_firstCost, cost) : (cost, _firstCost);
        var d = Math.Clamp(Math.Log(longer / own), -_options.MaxLogRatio, _options.MaxLogRatio);
        _secondOfPair = false;
        _pairIndex++;
        _count++;
        EndPair(d);
        return Current;
    }

    /// <summary>
    /// The window now running measures nothing (a link dropped in it): a comparison starts its pair again. Between checks
    /// nothing changes.
    /// </summary>
    /// <returns>The slice the window from now on should have (also <see cref="Current"/>).</returns>
    public SliceChoice Restart()
    {
        if (_phase != Phase.Settled) StartPair();
        return Current;
    }

    private void EndPair(double d)
    {
        if (_phase == Phase.Check)
        {
            if (PrefersLong(d) != (Choice == SliceChoice.Long))
            {
                // The check disagrees with the choice: the neighbours may have changed. Measure again now, the estimate so
                // far counting as one pair beside the check and the retrial's pairs, so that a real change is followed
                // at the retrial's end (an exponential average would take minutes to cross the allowance).
                _sum = Estimate + d;
                _retrialPairs = 2;
                Estimate = _sum / _retrialPairs;
                _phase = Phase.Retrial;
                _phasePairsLeft = _options.RetrialPairs;
                StartPair();
                return;
            }
            // It agrees: one more pair in the long-run estimate.
            Estimate += _options.CheckWeight * (d - Estimate);
        }
        else
        {
            // The first trial's pairs, or a retrial's (after the old estimate and the check), make a plain mean.
            _sum += d;
            Estimate = _phase == Phase.Retrial ? _sum / ++_retrialPairs : _sum / _count;
            if (--_phasePairsLeft > 0)
            {
                StartPair();
                return;
            }
        }
        Choice = PrefersLong(Estimate) ? SliceChoice.Long : SliceChoice.Own;
        _phase = Phase.Settled;
        _settledLeft = _options.SettledWindows;
        Current = Choice;
    }

    // The long slice unless it costs the thread more than the allowance for what it saves the neighbours.
    private bool PrefersLong(double logRatio) => logRatio < _options.LongAllowance;

    private void StartPair()
    {
        _secondOfPair = false;
        Current = FirstOf(_pairIndex);
    }

    private static SliceChoice FirstOf(int pair) => pair % 2 == 0 ? SliceChoice.Own : SliceChoice.Long;

    private static SliceChoice Other(SliceChoice c) => c == SliceChoice.Own ? SliceChoice.Long : SliceChoice.Own;

    private enum Phase { Trial, Settled, Check, Retrial }
}

/// <summary>Which scheduler slice a <see cref="SliceTuner"/> window runs on.</summary>
public enum SliceChoice
{
    /// <summary>The slice the thread had when the run started (the kernel's default, unless its owner set one).</summary>
    Own,

    /// <summary>The long slice compared with it (<see cref="SliceTunerOptions.Long"/>).</summary>
    Long,
}

/// <summary>Settings of a <see cref="SliceTuner"/>; the defaults are what a live run uses.</summary>
public sealed record SliceTunerOptions
{
    /// <summary>The long slice compared with the thread's own (0.1-100 ms; default 100 ms, the kernel's longest, which was
    /// cheaper than 50 ms, itself cheaper than 20 ms, beside nginx: RESULTS.md, fourteenth pass).</summary>
    public TimeSpan Long { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Length of a window of wall-clock time (default 2 s: about 150 packets of 720p30 with audio; one pair of
    /// 2 s windows varied by a standard deviation of ~6 % on a quiet 2-CPU machine, 17 % beside two CPU-bound
    /// processes).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Windows run on the long slice before the first trial (default 15: 30 s). The start-up of a show is
    /// CPU-bound work beside the packet thread (the process's own and, on a relay box, the other injectors' and relays'),
    /// which is when a long slice costs more; a trial then would choose for the minutes after by the seconds before
    /// them (at eight injectors started at once, every one chose its own slice, each one's steady state being 4-8 %
    /// cheaper on the long one). 0: a trial from the first window, starting on the thread's own slice.</summary>
    public int FirstTrialAfter { get; init; } = 15;

    /// <summary>Fewest packets for a window to count (default 30).</summary>
    public int MinPackets { get; init; } = 30;

    /// <summary>Pairs of the first trial (default 5: 20 s).</summary>
    public int TrialPairs { get; init; } = 5;

    /// <summary>Pairs of a trial started by a check pair that disagrees with the choice (default 3).</summary>
    public int RetrialPairs { get; init; } = 3;

    /// <summary>Windows run on the choice between two check pairs (default 30: a minute with 2 s windows).</summary>
    public int SettledWindows { get; init; } = 30;

    /// <summary>Weight of a pair after the first trial in the estimate's exponential average (0-1, default 0.1).</summary>
    public double CheckWeight { get; init; } = 0.1;

    /// <summary>Largest |ln ratio| one pair may contribute (default 0.3, about ±35 %).</summary>
    public double MaxLogRatio { get; init; } = 0.3;

    /// <summary>How much more the long slice may cost the thread itself, as ln(long / own), and still be chosen (0-0.1,
    /// default 0.03, about 3 %): the share of its saving that falls on the neighbours, which the thread cannot measure
    /// (the whole machine 6 % and nginx 9 % less busy with long slices, twelfth pass). Beside CPU-bound work a long slice
    /// costs 4-30 % more and is left. 0: the cheaper for the thread alone.</summary>
    public double LongAllowance { get; init; } = 0.03;

    internal void Validate()
    {
        if (Long < SchedulerSlice.Minimum || Long > SchedulerSlice.Maximum)
            throw new ArgumentException($"Long: a slice from 0.1 ms to 100 ms, not {Long.TotalMilliseconds} ms", nameof(Long));
        if (Window <= TimeSpan.Zero) throw new ArgumentException("Window: a positive duration", nameof(Window));
        if (MinPackets < 1) throw new ArgumentException("MinPackets: at least 1", nameof(MinPackets));
        if (TrialPairs < 1 || RetrialPairs < 1) throw new ArgumentException("TrialPairs and RetrialPairs: at least 1", nameof(TrialPairs));
        if (FirstTrialAfter < 0) throw new ArgumentException("FirstTrialAfter: 0 or more", nameof(FirstTrialAfter));
        if (SettledWindows < 1) throw new ArgumentException("SettledWindows: at least 1", nameof(SettledWindows));
        if (!(CheckWeight > 0 && CheckWeight <= 1)) throw new ArgumentException("CheckWeight: above 0, at most 1", nameof(CheckWeight));
        if (!(MaxLogRatio > 0)) throw new ArgumentException("MaxLogRatio: above 0", nameof(MaxLogRatio));
        if (!(LongAllowance >= 0 && LongAllowance <= 0.1)) throw new ArgumentException("LongAllowance: 0 to 0.1", nameof(LongAllowance));
    }
}
