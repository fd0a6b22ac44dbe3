using System.Runtime.InteropServices;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// The Linux scheduler's time slice of the calling thread (EEVDF custom slices, Linux 6.12+), which the pipeline thread
/// of a run can be given (<c>sei-inject run --sched-slice</c>). That thread wakes for every packet, works a few tens of µs
/// and sleeps in <c>poll()</c>; with the kernel's default slice (1.4 ms on the 2-CPU machine measured), the nginx process
/// it had just sent a packet to, woken on the same CPU, preempted it on the return from <c>send()</c> about six times as
/// often as the <c>ffmpeg</c> relay beside it (1,402 against 236 in 15 s). Measured on Linux 6.18 (benchmarks/RESULTS.md,
/// twelfth pass): with a 20 ms slice a live injector used about 4 % less CPU beside nginx and relays, the machine as a
/// whole switching less; beside two CPU-bound processes it used 15-20 % more (a later virtual deadline than theirs: it
/// is preempted on the tick mid-packet). Hence measured rather than assumed: a live run's <see cref="SliceTuner"/> compares
/// the two while the show goes on (<c>--sched-slice auto</c>, the default), and a fixed slice is for who knows the box.
/// </summary>
/// <remarks>
/// Source: <c>sched_setattr(2)</c> / <c>sched_getattr(2)</c>; <c>struct sched_attr</c> (include/uapi/linux/sched/types.h,
/// <c>SCHED_ATTR_SIZE_VER0</c> = 48 bytes); for <c>SCHED_OTHER</c> and <c>SCHED_BATCH</c> since Linux 6.12,
/// <c>sched_runtime</c> is the thread's slice, clamped by the kernel to 0.1-100 ms (kernel/sched/syscalls.c,
/// <c>__setparam_fair</c>). Older kernels report no slice, and nothing is changed there. No privilege is needed: the
/// policy and nice value are kept; threads the calling thread starts afterwards do not inherit the slice
/// (<c>SCHED_FLAG_RESET_ON_FORK</c>, which also starts such a thread at nice 0 if the caller's nice is negative).
/// Called through <c>syscall(2)</c> (glibc before 2.41 has no wrapper).
/// </remarks>
public static unsafe partial class SchedulerSlice
{
    /// <summary>The shortest slice the kernel takes (0.1 ms).</summary>
    public static readonly TimeSpan Minimum = TimeSpan.FromMilliseconds(0.1);

    /// <summary>The longest slice the kernel takes (100 ms).</summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromMilliseconds(100);

    private const int SchedOther = 0, SchedBatch = 3;
    private const ulong ResetOnFork = 0x01;

    /// <summary>
    /// Sets the calling thread's slice to <paramref name="slice"/> (0.1-100 ms), keeping its policy and nice value.
    /// </summary>
    /// <param name="slice">The slice asked for.</param>
    /// <param name="previous">The slice the thread had (to give back with another call), when the call succeeded.</param>
    /// <param name="outcome">Why it was not set (not Linux, a kernel before 6.12, a policy other than SCHED_OTHER or
    /// SCHED_BATCH, the kernel refused), or "".</param>
    /// <returns>True when the kernel reads back the slice asked for.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="slice"/> is outside 0.1-100 ms.</exception>
    public static bool TryApply(TimeSpan slice, out TimeSpan previous, out string outcome)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slice, Minimum);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slice, Maximum);
        previous = default;
        if (!TryRead(out var attr, out outcome)) return false;
        if (attr.Policy is not (SchedOther or SchedBatch))
        {
            outcome = $"the thread's scheduling policy {attr.Policy} is not SCHED_OTHER or SCHED_BATCH, the only ones with a custom slice";
            return false;
        }
        if (attr.Runtime == 0)
        {
            // Before 6.12 a fair thread reports no slice; setting one would change nothing but the reset-on-fork flag.
            outcome = "custom slices need Linux 6.12 or later";
            return false;
        }
        previous = TimeSpan.FromTicks((long)(attr.Runtime / 100));
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
            var error = Marshal.GetLastPInvokeError();
            outcome = $"sched_setattr failed: errno {error} ({Marshal.GetPInvokeErrorMessage(error)})";
            return false;
        }
        if (!TryRead(out var after, out outcome)) return false;
        if (after.Runtime != wanted)
        {
            outcome = $"the kernel kept a slice of {after.Runtime / 1e6:0.###} ms";
            return false;
        }
        outcome = "";
        return true;
    }

    /// <summary>The calling thread's slice as the kernel reports it (Linux 6.12+), or null where it reports none.</summary>
    public static TimeSpan? Current() =>
        TryRead(out var attr, out _) && attr.Runtime > 0 && attr.Policy is SchedOther or SchedBatch
            ? TimeSpan.FromTicks((long)(attr.Runtime / 100))
            : null;

    private static bool TryRead(out SchedAttr attr, out string outcome)
    {
        attr = default;
        if (!OperatingSystem.IsLinux() || Number(set: false) < 0)
        {
            outcome = "not Linux on x64, arm64, riscv64 or loongarch64";
            return false;
        }
        fixed (SchedAttr* p = &attr)
        {
            if (SchedGetattr(Number(set: false), 0, p, (uint)sizeof(SchedAttr), 0) != 0)
            {
                var error = Marshal.GetLastPInvokeError();
                outcome = $"sched_getattr failed: errno {error} ({Marshal.GetPInvokeErrorMessage(error)})";
                return false;
            }
        }
        outcome = "";
        return true;
    }

    // arch/x86/entry/syscalls/syscall_64.tbl (314, 315); include/uapi/asm-generic/unistd.h (274, 275) for the
    // architectures on the generic table (arm64, riscv64, loongarch64).
    private static long Number(bool set) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => set ? 314 : 315,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => set ? 274 : 275,
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
