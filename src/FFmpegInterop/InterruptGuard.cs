using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CatEvening.FFmpegInterop.Native;

namespace CatEvening.FFmpegInterop;

/// <summary>
/// The <c>AVIOInterruptCB</c> of one format context: FFmpeg polls it during blocking I/O, and it answers "stop" once the
/// current call has run longer than its timeout or the owner was cancelled, so a stalled network peer makes the call
/// fail with <see cref="AvError.Exit"/> instead of hanging.
/// </summary>
internal sealed unsafe class InterruptGuard : IDisposable
{
    private readonly long _timeoutTicks;
    private GCHandle _self;
    private AVIOInterruptCB* _native;
    private long _deadline = long.MaxValue;
    private volatile bool _cancelled;

    internal InterruptGuard(TimeSpan timeout)
    {
        Timeout = timeout;
        _timeoutTicks = timeout == System.Threading.Timeout.InfiniteTimeSpan
            ? long.MaxValue
            : (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _self = GCHandle.Alloc(this);
        _native = (AVIOInterruptCB*)NativeMemory.AllocZeroed((nuint)sizeof(AVIOInterruptCB));
        _native->Callback = &OnInterrupt;
        _native->Opaque = GCHandle.ToIntPtr(_self);
    }

    internal TimeSpan Timeout { get; }

    /// <summary>The native struct, to pass to <c>avio_open2</c> or copy into a context; lives until disposal.</summary>
    internal AVIOInterruptCB* Native => _native;

    internal bool TimedOut { get; private set; }

    internal bool Cancelled => _cancelled;

    /// <summary>Arms the timeout for the blocking call that follows.</summary>
    internal void Arm()
    {
        TimedOut = false;
        Volatile.Write(ref _deadline, _timeoutTicks == long.MaxValue ? long.MaxValue : Stopwatch.GetTimestamp() + _timeoutTicks);
    }

    /// <summary>Lets the blocking call that follows wait without a bound (a listener waiting for its peer); cancellation still stops it.</summary>
    internal void ArmUnbounded()
    {
        TimedOut = false;
        Volatile.Write(ref _deadline, long.MaxValue);
    }

    /// <summary>Makes every further blocking call on this context stop at once.</summary>
    internal void Cancel() => _cancelled = true;

    /// <summary>Copies the callback into the context's <c>interrupt_callback</c> field.</summary>
    internal void Install(nint formatContext) =>
        *(AVIOInterruptCB*)(formatContext + FFmpegLibrary.Layout.FormatInterruptCallback) = *_native;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnInterrupt(nint opaque)
    {
        if (GCHandle.FromIntPtr(opaque).Target is not InterruptGuard guard) return 1;
        if (guard._cancelled) return 1;
        if (Stopwatch.GetTimestamp() <= Volatile.Read(ref guard._deadline)) return 0;
        guard.TimedOut = true;
        return 1;
    }

    public void Dispose()
    {
        if (_native != null)
        {
            NativeMemory.Free(_native);
            _native = null;
        }
        if (_self.IsAllocated) _self.Free();
    }
}
