using System.Runtime.InteropServices;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// The Linux scheduler's time slice of the calling thread (EEVDF custom slices, Linux 6.12+): the pipeline thread of a
/// live run asks for a long one. It wakes for every packet, works a few tens of µs and sleeps in <c>poll()</c>; with the
/// kernel's default slice (0.7 ms × (1 + log2 CPUs)) the nginx process it just sent a packet to, woken on the same CPU,
/// preempted it on the return from <c>send()</c> far more often than the <c>ffmpeg</c> relay beside it (1,402 against 236
/// in 15 s, RESULTS.md twelfth pass), each preemption an extra pair of context switches and a cache refill. A longer
/// slice tells EEVDF the thread would rather wait its turn than be cut short: it is preempted less, and the machine as a
/// whole switches and works less.
/// </summary>
/// <remarks>
/// Source: <c>sched_setattr(2)</c> / <c>sched_getattr(2)</c>; <c>struct sched_attr</c> (include/uapi/linux/sched/types.h,
/// <c>SCHED_ATTR_SIZE_VER0</c> = 48 bytes); for <c>SCHED_OTHER</c>/<c>SCHED_BATCH</c>/<c>SCHED_IDLE</c> since Linux 6.12,
/// <c>sched_runtime</c> is the thread's slice, clamped by the kernel to 0.1-100 ms (kernel/sched/syscalls.c,
/// <c>__setparam_fair</c>); older kernels accept the call and ignore the field. No privilege is needed: the nice value
/// and the policy are kept as they are; threads the calling thread starts afterwards do not inherit the slice
/// (<c>SCHED_FLAG_RESET_ON_FORK</c>). Called through <c>syscall(2)</c> (glibc before 2.41 has no wrapper).
/// </remarks>
public static unsafe partial class SchedulerSlice
{
    /// <summary>The shortest slice the kernel takes (0.1 ms).</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromMilliseconds(0.1);

    /// <summary>The longest slice the kernel takes (100 ms).</summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromMilliseconds(100);

    private const int SchedOther = 0, SchedBatch = 3, SchedIdle = 5;
    private const ulong ResetOnFork = 0x01;

    /// <summary>
    /// Sets the calling thread's slice to <paramref name="slice"/> (0.1-100 ms), keeping its policy and nice value.
    /// </summary>
    /// <param name="slice">The slice asked for.</param>
    /// <param name="outcome">Why it was not set (not Linux, a real-time policy, the kernel refused or kept its default), or "".</param>
    /// <returns>True when the kernel reads back the slice asked for.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slice"/> is outside 0.1-100 ms.</exception>
    public static bool TryApply(TimeSpan slice, out string outcome)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slice, Minimum);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slice, Maximum);
        if (!TryRead(out var attr, out outcome)) return false;
        if (attr.Policy is not (SchedOther or SchedBatch or SchedIdle))
        {
            outcome = $"the thread runs under real-time or deadline policy {attr.Policy}: its slice is not the fair scheduler's";
            return false;
        }
        var wanted = (ulong)(slice.Ticks * 100);
        attr.Size = (uint)sizeof(SchedAttr);
        // Threads the packet thread starts later (a thread-pool worker it happens to create) keep the kernel's default:
        // SCHED_FLAG_RESET_ON_FORK resets a child's custom slice (kernel/sched/core.c, sched_fork).
        attr.Flags = ResetOnFork;
        attr.Runtime = wanted;
        attr.Deadline = 0;
        attr.Period = 0;
        if (SchedSetattr(Number(set: true), 0, &attr, 0) != 0)
        {
            outcome = $"sched_setattr failed: {Marshal.GetLastSystemError()} ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastSystemError())})";
            return false;
        }
        if (!TryRead(out var after, out outcome)) return false;
        if (after.Runtime != wanted)
        {
            outcome = "the kernel kept its own slice (custom slices need Linux 6.12 or later)";
            return false;
        }
        outcome = "";
        return true;
    }

    /// <summary>The calling thread's slice as the kernel reports it (Linux 6.12+), or null where it reports none.</summary>
    public static TimeSpan? Current() =>
        TryRead(out var attr, out _) && attr.Runtime > 0 && attr.Policy is SchedOther or SchedBatch or SchedIdle
            ? TimeSpan.FromTicks((long)(attr.Runtime / 100))
            : null;

    private static bool TryRead(out SchedAttr attr, out string outcome)
    {
        attr = default;
        if (!OperatingSystem.IsLinux() || Number(set: false) < 0)
        {
            outcome = "not Linux on x64 or arm64";
            return false;
        }
        fixed (SchedAttr* p = &attr)
        {
            if (SchedGetattr(Number(set: false), 0, p, (uint)sizeof(SchedAttr), 0) != 0)
            {
                outcome = $"sched_getattr failed: {Marshal.GetLastSystemError()} ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastSystemError())})";
                return false;
            }
        }
        outcome = "";
        return true;
    }

    // arch/x86/entry/syscalls/syscall_64.tbl (314, 315); include/uapi/asm-generic/unistd.h (274, 275) for arm64.
    private static long Number(bool set) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => set ? 314 : 315,
        Architecture.Arm64 => set ? 274 : 275,
        _ => -1,
    };

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SchedSetattr(long number, int pid, SchedAttr* attr, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SchedGetattr(long number, int pid, SchedAttr* attr, uint size, uint flags);

    /// <summary><c>struct sched_attr</c>, <c>SCHED_ATTR_SIZE_VER0</c> (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }
}
