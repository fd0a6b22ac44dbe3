using System.Collections.Concurrent;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Security;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// A viewer for the live tests: pulls a stream (over RTMP from the ingest) and keeps every CatEvening message it finds.
/// The server ends a play when its publisher goes (an injector reconnecting, an ingest restart): it plays again until
/// stopped, at most 10,000 times.
/// </summary>
internal sealed class LiveViewer : IDisposable
{
    private readonly ConcurrentQueue<InspectedMessage> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _task;

    private LiveViewer(string url, VerificationKey key)
    {
        var inspector = new StreamInspector(key);
        _task = Task.Run(() =>
        {
            for (var attempt = 0; attempt < 10_000 && !_stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    inspector.Inspect(url, null, TimeSpan.FromSeconds(5), _seen.Enqueue, _stop.Token);
                }
                catch (Exception e) when (e is FFmpegException or InjectionException)
                {
                    if (_stop.Token.WaitHandle.WaitOne(100)) return;
                }
            }
        });
    }

    /// <summary>Starts pulling <paramref name="url"/>, verifying with <paramref name="key"/> (not owned).</summary>
    public static LiveViewer Start(string url, VerificationKey key) => new(url, key);

    /// <summary>Waits (polling what was found) until <paramref name="condition"/> holds; fails the test after
    /// <paramref name="timeout"/>, which only a real fault reaches.</summary>
    public void WaitUntilSeen(Func<IReadOnlyCollection<InspectedMessage>, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(_seen.ToArray()))
        {
            if (DateTime.UtcNow > deadline || _task.IsCompleted) Assert.Fail($"timed out waiting for {what}; the viewer got {_seen.Count} message(s)");
            Thread.Sleep(50);
        }
    }

    /// <summary>Stops within 3 s and returns every message found.</summary>
    public IReadOnlyList<InspectedMessage> Finish()
    {
        _stop.CancelAfter(TimeSpan.FromSeconds(3));
        _task.Wait(TimeSpan.FromSeconds(15));
        return _seen.ToList();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _task.Wait(TimeSpan.FromSeconds(15));
        _stop.Dispose();
    }
}
