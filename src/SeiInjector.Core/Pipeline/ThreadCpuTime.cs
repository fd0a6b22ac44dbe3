using System.Runtime.InteropServices;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>CPU time the calling thread has used (user + system), ns: what <see cref="SliceTuner"/> compares.</summary>
/// <remarks>Source: <c>clock_gettime(2)</c> with <c>CLOCK_THREAD_CPUTIME_ID</c> (POSIX; 3 on Linux,
/// include/uapi/linux/time.h), <c>struct timespec</c> as two 64-bit fields on 64-bit Linux. A system call (the vDSO does
/// not serve thread CPU clocks): read once per tuning window, not per packet.</remarks>
public static unsafe partial class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Reads the calling thread's CPU time.</summary>
    /// <param name="nanoseconds">CPU time since the thread started, ns; 0 when not read.</param>
    /// <returns>False where it cannot be read (not 64-bit Linux, or the call failed).</returns>
    public static bool TryRead(out long nanoseconds)
    {
        nanoseconds = 0;
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess) return false;
        TimeSpec now;
        if (ClockGettime(ClockThreadCpuTimeId, &now) != 0) return false;
        nanoseconds = now.Seconds * 1_000_000_000 + now.Nanoseconds;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, TimeSpec* time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
