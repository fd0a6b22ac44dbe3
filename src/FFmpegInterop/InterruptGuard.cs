using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// The <c>AVIOInterruptCB</c> of one format context: FFmpeg polls it during blocking I/O, and it answers "stop" once the
/// current call has run longer than its timeout or the owner was cancelled, so a stalled network peer makes the call
/// fail with <see cref="AvError.Exit"/> instead of hanging. The managed RTMP client re-arms it whenever bytes move, so
/// there the timeout is "no progress for that long".
/// </summary>
/// <remarks>
/// <para>FFmpeg polls the callback many times per packet (every retry of a non-blocking socket, every buffer refill), so
/// the poll is kept native: the callback is the C library's <c>strlen</c> and its opaque pointer a two-byte string
/// {stop, 0} in native memory, so one poll reads one byte and returns 0 ("go on") or 1 ("stop") without entering managed
/// code. The byte is set at once by <see cref="Cancel"/>, and by one watchdog thread per process when a call's deadline
/// has passed. The watchdog sleeps until the earliest armed deadline (re-arming for each packet only moves deadlines
/// later, so a live run wakes it about once per timeout, not per packet); a call armed with an earlier deadline than
/// the one it sleeps towards wakes it.</para>
/// <para>Where no <c>strlen</c> export is found (an unusual C library), the callback is a managed function that checks the
/// deadline itself, as before.</para>
/// </remarks>
internal sealed unsafe class InterruptGuard : IDisposable
{
    private static readonly nint NativePoll = FindStrlen();
    private static readonly List<InterruptGuard> Armed = [];
    private static readonly AutoResetEvent WakeWatchdog = new(false);
    private static Thread? s_watchdog;

    // The deadline (Stopwatch ticks) the watchdog sleeps towards; long.MaxValue while it scans or has nothing to wait for.
    private static long s_nextWake = long.MaxValue;

    private readonly long _timeoutTicks;
    private readonly object _gate = new();
    private GCHandle _self;
    private AVIOInterruptCB* _native;
    private byte* _stop;
    private long _deadline = long.MaxValue;

    // How long a deadline may be kept before Arm renews it (0: renewed at every call), and when it was last renewed
    // (Environment.TickCount64); only the thread making the calls touches them.
    private readonly long _slackMillis;
    private long _armedAtMillis = long.MinValue / 2;
    private volatile bool _cancelled;
    private bool _timedOut;

    internal InterruptGuard(TimeSpan timeout)
    {
        Timeout = timeout;
        _timeoutTicks = timeout == System.Threading.Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        // Environment.TickCount64 moves in steps of up to ~16 ms: timeouts under a second are renewed at every call.
        _slackMillis = timeout == System.Threading.Timeout.InfiniteTimeSpan || timeout < TimeSpan.FromSeconds(1)
            ? 0
            : (long)Math.Min(timeout.TotalMilliseconds / 100, 100);
        _native = (AVIOInterruptCB*)NativeMemory.AllocZeroed((nuint)sizeof(AVIOInterruptCB));
        if (NativePoll != 0)
        {
            _stop = (byte*)NativeMemory.AllocZeroed(2);
            _native->Callback = (delegate* unmanaged[Cdecl]<nint, int>)NativePoll;
            _native->Opaque = (nint)_stop;
            Watch(this);
        }
        else
        {
            _self = GCHandle.Alloc(this);
            _native->Callback = &OnInterrupt;
            _native->Opaque = GCHandle.ToIntPtr(_self);
        }
    }

    internal TimeSpan Timeout { get; }

    /// <summary>The native struct, to pass to <c>avio_open2</c> or copy into a context; lives until disposal.</summary>
    internal AVIOInterruptCB* Native => _native;

    /// <summary>True when the native poll (<c>strlen</c> over the stop byte) is in use rather than the managed callback.</summary>
    internal static bool PollsNatively => NativePoll != 0;

    internal bool TimedOut
    {
        get { lock (_gate) return _timedOut; }
    }

    internal bool Cancelled => _cancelled;

    /// <summary>
    /// True when the current call should stop (its deadline passed or the owner cancelled): what FFmpeg's poll of the
    /// callback answers, for I/O done in managed code (the RTMP client) that FFmpeg's protocols do not see.
    /// </summary>
    internal bool StopRequested
    {
        get
        {
            if (_cancelled) return true;
            if (_stop != null) return Volatile.Read(ref *_stop) != 0;
            if (Stopwatch.GetTimestamp() <= Volatile.Read(ref _deadline)) return false;
            lock (_gate) _timedOut = true;
            return true;
        }
    }

    /// <summary>Arms the timeout for the blocking call that follows: it is stopped once it has run for
    /// <see cref="Timeout"/>, or up to 1 % (at most 100 ms) less.</summary>
    /// <remarks>Called before every read and write, i.e. once per packet and side. A deadline set less than the slack ago
    /// is kept as it is (a comparison with the coarse tick count and one byte read, no lock and no precise clock read):
    /// the deadline is renewed about ten times a second on a live stream instead of for every packet.</remarks>
    internal void Arm()
    {
        if (_slackMillis > 0 && Environment.TickCount64 - _armedAtMillis < _slackMillis && _stop != null && *_stop == 0) return;
        _armedAtMillis = Environment.TickCount64;
        SetDeadline(_timeoutTicks == long.MaxValue ? long.MaxValue : Stopwatch.GetTimestamp() + _timeoutTicks);
    }

    /// <summary>Lets the blocking call that follows wait without a bound (a listener waiting for its peer); cancellation still stops it.</summary>
    internal void ArmUnbounded()
    {
        // The next Arm sets a bounded deadline again, however soon it comes.
        _armedAtMillis = long.MinValue / 2;
        SetDeadline(long.MaxValue);
    }

    private void SetDeadline(long deadline)
    {
        // Under the gate, so the watchdog never stops a call by the deadline of the call before it.
        lock (_gate)
        {
            _timedOut = false;
            _deadline = deadline;
            if (_stop != null && !_cancelled) *_stop = 0;
        }
        // Read after the deadline was written: either the watchdog's scan saw it, or this read sees the scan's marker
        // (long.MaxValue) or the wake it chose, and a deadline before that wakes it now.
        if (_stop != null && deadline < Volatile.Read(ref s_nextWake)) WakeWatchdog.Set();
    }

    /// <summary>Makes every further blocking call on this context stop at once.</summary>
    internal void Cancel()
    {
        lock (_gate)
        {
            _cancelled = true;
            if (_stop != null) *_stop = 1;
        }
    }

    /// <summary>Copies the callback into the context's <c>interrupt_callback</c> field.</summary>
    internal void Install(nint formatContext) =>
        *(AVIOInterruptCB*)(formatContext + FFmpegLibrary.Layout.FormatInterruptCallback) = *_native;

    // The watchdog's check of one guard: stops the current call once its deadline has passed; returns the deadline it
    // still has to watch (long.MaxValue for none).
    private long Check(long now)
    {
        lock (_gate)
        {
            if (_stop == null || *_stop != 0) return long.MaxValue;
            if (now <= _deadline) return _deadline;
            _timedOut = true;
            *_stop = 1;
            return long.MaxValue;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnInterrupt(nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not InterruptGuard guard) return 1;
        if (guard._cancelled) return 1;
        if (Stopwatch.GetTimestamp() <= Volatile.Read(ref guard._deadline)) return 0;
        lock (guard._gate) guard._timedOut = true;
        return 1;
    }

    public void Dispose()
    {
        if (_stop != null)
        {
            lock (Armed) Armed.Remove(this);
            lock (_gate)
            {
                NativeMemory.Free(_stop);
                _stop = null;
            }
        }
        if (_native != null)
        {
            NativeMemory.Free(_native);
            _native = null;
        }
        if (_self.IsAllocated) _self.Free();
    }

    private static void Watch(InterruptGuard guard)
    {
        lock (Armed)
        {
            Armed.Add(guard);
            if (s_watchdog != null) return;
            s_watchdog = new Thread(RunWatchdog) { IsBackground = true, Name = "FFmpeg I/O watchdog" };
            s_watchdog.Start();
        }
    }

    private static void RunWatchdog()
    {
        var guards = new List<InterruptGuard>();
        while (true)
        {
            Volatile.Write(ref s_nextWake, long.MaxValue);
            guards.Clear();
            lock (Armed) guards.AddRange(Armed);
            var now = Stopwatch.GetTimestamp();
            var next = long.MaxValue;
            foreach (var guard in guards) next = Math.Min(next, guard.Check(now));
            Volatile.Write(ref s_nextWake, next);
            var wait = next == long.MaxValue ? System.Threading.Timeout.Infinite
                : (int)Math.Clamp(((next - now) * 1000 / Stopwatch.Frequency) + 1, 1, 3_600_000);
            WakeWatchdog.WaitOne(wait);
        }
    }

    // The C library's strlen, whose (size_t) result read as FFmpeg's int is 0 for "" and 1 for "\x01".
    private static nint FindStrlen()
    {
        string[] libraries = OperatingSystem.IsWindows() ? ["ucrtbase.dll", "msvcrt.dll"]
            : OperatingSystem.IsMacOS() ? ["/usr/lib/libSystem.B.dylib", "libSystem.dylib"]
            : ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];
        foreach (var name in libraries)
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "strlen", out var strlen))
                return strlen;
        }
        return 0;
    }
}
