using System.Runtime.InteropServices;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiInjector.Signing;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// The packet thread's scheduler slice (<see cref="SchedulerSlice"/>, Linux 6.12+ custom slices): set and read back on the
/// calling thread only, the nice value kept, out-of-range slices refused, and the pipeline setting it on the thread it runs
/// on when <see cref="PipelineOptions.SchedulerSlice"/> asks. Each case runs on a thread of its own, so the test runner's
/// threads keep the kernel's default.
/// </summary>
public partial class SchedulerSliceTests
{
    // Linux: PRIO_PROCESS with who = 0 is the calling thread (setpriority(2), NOTES).
    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, uint who);

    private static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.That(thread.Join(TimeSpan.FromMinutes(2)), Is.True, "the thread ended");
        if (failure is not null) throw failure;
        return result;
    }

    // Custom slices are read back as the thread's slice since Linux 6.12; before, the field reads 0 and nothing applies.
    private static bool KernelHasCustomSlices() => OnOwnThread(() => SchedulerSlice.Current() is not null);

    [Test]
    public void TryApply_SetsTheCallingThreadsSlice_KeepsItsNiceValue_AndNoOtherThreads()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("a Linux scheduler setting");
        if (!KernelHasCustomSlices()) Assert.Ignore($"this kernel ({Environment.OSVersion.Version}) has no custom slices (Linux 6.12+)");
        var (applied, outcome, previous, slice, niceBefore, niceAfter, otherThread) = OnOwnThread(() =>
        {
            // A nice value of its own (one more than the runner's: raising one's nice needs no privilege), to see it kept.
            var nice = Math.Min(19, getpriority(0, 0) + 1);
            Assert.That(setpriority(0, 0, nice), Is.Zero, "raising one's own nice value needs no privilege");
            var ok = SchedulerSlice.TryApply(TimeSpan.FromMilliseconds(20), out var before, out var why);
            var seenElsewhere = OnOwnThread(SchedulerSlice.Current);
            return (ok, why, before, SchedulerSlice.Current(), nice, getpriority(0, 0), seenElsewhere);
        });
        Assert.Multiple(() =>
        {
            Assert.That(applied, Is.True, outcome);
            Assert.That(outcome, Is.Empty);
            Assert.That(previous, Is.GreaterThan(TimeSpan.Zero).And.Not.EqualTo(TimeSpan.FromMilliseconds(20)), "the kernel's default slice before");
            Assert.That(slice, Is.EqualTo(TimeSpan.FromMilliseconds(20)));
            Assert.That(niceAfter, Is.EqualTo(niceBefore), "the nice value the thread had is kept");
            Assert.That(otherThread, Is.EqualTo(previous), "a thread it starts afterwards has the kernel's default, not its slice");
        });
    }

    [Test]
    public void TryApply_OutsideTheKernelsRange_IsRefused()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => SchedulerSlice.TryApply(TimeSpan.FromMilliseconds(0.05), out _, out _));
            Assert.Throws<ArgumentOutOfRangeException>(() => SchedulerSlice.TryApply(TimeSpan.FromMilliseconds(101), out _, out _));
        });
    }

    [Test]
    public void Pipeline_SetsTheSliceOnTheThreadItRunsOn_OnlyWhenAsked_AndGivesTheThreadsOwnBack()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("a Linux scheduler setting");
        if (!KernelHasCustomSlices()) Assert.Ignore($"this kernel ({Environment.OSVersion.Version}) has no custom slices (Linux 6.12+)");
        var work = Directory.CreateTempSubdirectory("sched-slice-");
        try
        {
            var input = Path.Combine(work.FullName, "in.flv");
            FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1", "-c:v", "libx264",
                "-preset", "ultrafast", "-f", "flv", "-y", input).EnsureSuccess("clip");
            var key = SigningKey.Generate(1);
            // The thread has a slice of its own (5 ms); the pipeline runs with `slice`; returns the slice seen by the
            // SEI source (on the pipeline's thread, mid-run) and the thread's slice after the run.
            (TimeSpan? During, TimeSpan? After) Run(TimeSpan? slice) => OnOwnThread(() =>
            {
                Assert.That(SchedulerSlice.TryApply(TimeSpan.FromMilliseconds(5), out _, out var why), Is.True, why);
                var book = new CueBook(new CueBookOptions { StreamId = "slice" });
                var source = new SliceSeenSource(new CueSeiSource(book, new MessageSigner(key)));
                var pipeline = new InjectionPipeline(
                    new PipelineOptions { InputUrl = input, OutputUrl = Path.Combine(work.FullName, Guid.NewGuid().ToString("N") + ".flv"), SchedulerSlice = slice },
                    source);
                Assert.That(pipeline.Run().Packets, Is.EqualTo(25));
                return (source.Seen, SchedulerSlice.Current());
            });
            var asked = Run(TimeSpan.FromMilliseconds(7));
            var left = Run(null);
            Assert.Multiple(() =>
            {
                Assert.That(asked.During, Is.EqualTo(TimeSpan.FromMilliseconds(7)), "the slice asked for, while packets pass");
                Assert.That(asked.After, Is.EqualTo(TimeSpan.FromMilliseconds(5)), "the thread's own slice, given back");
                Assert.That(left.During, Is.EqualTo(TimeSpan.FromMilliseconds(5)), "without the option the thread keeps its slice");
                Assert.That(left.After, Is.EqualTo(TimeSpan.FromMilliseconds(5)));
            });
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Test]
    public void Pipeline_TuningTheSlice_RunsWindowsOnBothSlices_ReportsThem_AndGivesTheThreadsOwnBack()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("a Linux scheduler setting");
        if (!KernelHasCustomSlices()) Assert.Ignore($"this kernel ({Environment.OSVersion.Version}) has no custom slices (Linux 6.12+)");
        var work = Directory.CreateTempSubdirectory("sched-slice-");
        try
        {
            // 500 frames: with windows of 1 ms of wall clock, the warm-up window and a first pair end long before the input does.
            var input = Path.Combine(work.FullName, "in.ts");
            FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=50:duration=10", "-c:v", "libx264",
                "-preset", "ultrafast", "-f", "mpegts", "-y", input).EnsureSuccess("clip");
            var key = SigningKey.Generate(1);
            var log = new List<string>();
            var monitor = new CatEvening.SeiInjector.Live.PacketMonitor();
            var (seen, after, reported) = OnOwnThread(() =>
            {
                Assert.That(SchedulerSlice.TryApply(TimeSpan.FromMilliseconds(5), out _, out var why), Is.True, why);
                var source = new SliceSeenSource(new CueSeiSource(new CueBook(new CueBookOptions { StreamId = "tuned" }), new MessageSigner(key)));
                var pipeline = new InjectionPipeline(
                    new PipelineOptions
                    {
                        InputUrl = input,
                        OutputUrl = Path.Combine(work.FullName, "out.ts"),
                        SchedulerSliceTuning = new SliceTunerOptions { Long = TimeSpan.FromMilliseconds(30), Window = TimeSpan.FromMilliseconds(1), MinPackets = 1, FirstTrialAfter = 2 },
                        Monitor = monitor,
                        Log = line => { lock (log) log.Add(line); },
                    },
                    source);
                Assert.That(pipeline.Run().Packets, Is.EqualTo(500));
                return (source.All, SchedulerSlice.Current(), monitor.SchedulerSlice);
            });
            Assert.Multiple(() =>
            {
                Assert.That(seen, Does.Contain(TimeSpan.FromMilliseconds(5)).And.Contain(TimeSpan.FromMilliseconds(30)), "windows on the thread's own slice and on the long one");
                Assert.That(seen, Is.SubsetOf(new[] { TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(30) }));
                Assert.That(after, Is.EqualTo(TimeSpan.FromMilliseconds(5)), "the thread's own slice, given back");
                Assert.That(reported, Is.Not.Null, "the status's scheduler slice");
                Assert.That(log, Has.One.Contains("pipeline thread: scheduler slice 30 ms (its own: 5 ms); the two compared by CPU time per packet from 0.002 s on"));
            });
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    // Reads the slice of the thread the pipeline calls it on, at the first frame (and every frame's, in All).
    private sealed class SliceSeenSource(IFrameSeiSource inner) : IFrameSeiSource
    {
        public TimeSpan? Seen { get; private set; }

        public CatEvening.SeiInjector.Timing.MediaTimeline? Timeline => inner.Timeline;

        public void Start(VideoStreamDescription video) => inner.Start(video);

        public HashSet<TimeSpan> All { get; } = [];

        public ReadOnlyMemory<byte> SeiFor(in VideoFrame frame)
        {
            Seen ??= SchedulerSlice.Current();
            if (SchedulerSlice.Current() is { } now) All.Add(now);
            return inner.SeiFor(frame);
        }

        public void Delivered(in VideoFrame frame, ReadOnlySpan<byte> sei) => inner.Delivered(frame, sei);

        public void NotCarried(in VideoFrame frame, string reason) => inner.NotCarried(frame, reason);

        public void Skipped(in VideoFrame frame) => inner.Skipped(frame);
    }
}
