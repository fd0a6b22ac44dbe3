using CatEvening.FFmpegInterop;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>
/// Watches an output that nothing is written to while the pipeline's input is down, so that a destination which drops
/// the link meanwhile (an ingest restarted during the outage) is known at once: from <see cref="Start"/> to
/// <see cref="Stop"/>, a background task asks <see cref="MediaOutput.CheckIdleLink"/> every <see cref="Interval"/>, and
/// the first failure is handed to the callback as it is found, then kept for <see cref="Stop"/>. Without it, the link's
/// death is learnt from the first packet written after the input is back, and the status says "connected" until then.
/// </summary>
/// <remarks>The pipeline's thread does not touch the output between <see cref="Start"/> and <see cref="Stop"/>; the watch
/// is the only user of it meanwhile, and <see cref="Stop"/> returns only once the task let go of it.</remarks>
internal sealed class IdleOutputWatch
{
    /// <summary>How often the idle output is checked: two <c>poll</c>s with no timeout (may an answer be sent, has the
    /// link closed), an <c>ioctl</c> or two, and a read when the server sent something.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    private CancellationTokenSource? _stop;
    private Task<FFmpegException?>? _task;

    /// <summary>Starts watching <paramref name="output"/>; does nothing when a watch is already running.</summary>
    /// <param name="output">The idle output.</param>
    /// <param name="lost">Called once, on the watch's thread, when the output's link is found gone.</param>
    public void Start(MediaOutput output, Action<FFmpegException> lost)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(lost);
        if (_task is not null) return;
        var stop = new CancellationTokenSource();
        _stop = stop;
        _task = Task.Factory.StartNew(() => Watch(output, lost, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Stops the watch and waits until its task let go of the output; never throws (it runs in a
    /// <c>finally</c>, where it must not hide the exception on its way out).</summary>
    /// <returns>The failure found, or null when the link was still up (or no watch ran).</returns>
    public FFmpegException? Stop()
    {
        if (_task is not { } task) return null;
        var stop = _stop!;
        _task = null;
        _stop = null;
        stop.Cancel();
        // A check does not wait (a poll, a read of bytes that are there, a ping answered only when the socket takes it
        // at once), so this waits for one at most. Watch catches everything, so the task does not fault.
        var failure = task.GetAwaiter().GetResult();
        stop.Dispose();
        return failure;
    }

    private static FFmpegException? Watch(MediaOutput output, Action<FFmpegException> lost, CancellationToken stop)
    {
        while (!stop.WaitHandle.WaitOne(Interval))
        {
            FFmpegException failure;
            try
            {
                output.CheckIdleLink();
                continue;
            }
            catch (FFmpegException e)
            {
                failure = e;
            }
            catch (Exception e)
            {
                // Not a link failure CheckIdleLink knows of: the output is given up and opened again all the same (said,
                // with its words), rather than failing the run from the finally the pipeline stops the watch in.
                failure = new FFmpegException($"checking the idle output {output.Url}", AvError.InputOutput, e.Message, MediaDirection.Output);
            }
            lost(failure);
            return failure;
        }
        return null;
    }
}
