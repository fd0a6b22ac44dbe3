using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>The operator's log lines for link state changes (<see cref="LiveSession.SetLink"/>).</summary>
public class LinkLogTests
{
    private static List<string> Lines(params (LinkSide Side, LinkState State, string? Detail)[] changes)
    {
        var log = new StringWriter();
        var history = new CueHistory(null);
        using var session = new LiveSession(new CueBook(new CueBookOptions { StreamId = "show" }, history), new PacketMonitor(), null, log, history);
        foreach (var (side, state, detail) in changes) session.SetLink(side, state, detail);
        return log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    [Test]
    public void RunEndsBeforeTheOutputOpened_SaysNoOutputWasOpened_NotClosed()
    {
        var lines = Lines((LinkSide.Input, LinkState.Closed, null), (LinkSide.Output, LinkState.Closed, null));
        Assert.That(lines, Is.EqualTo(new[]
        {
            "sei-inject: the input never came up (no video stream was read from it)",
            "sei-inject: no output was opened",
        }));
    }

    [Test]
    public void FirstOutputOpenFailedThenRunEnded_SaysNoOutputWasOpened()
    {
        var lines = Lines((LinkSide.Output, LinkState.Reconnecting, "refused; next attempt in 500 ms"), (LinkSide.Output, LinkState.Closed, null));
        Assert.That(lines, Is.EqualTo(new[]
        {
            "sei-inject: output reconnecting: refused; next attempt in 500 ms",
            "sei-inject: no output was opened",
        }));
    }

    [Test]
    public void RunFailedBeforeTheLinksCameUp_LogsNothingForThem_TheErrorSpeaksAlone()
    {
        var log = new StringWriter();
        var history = new CueHistory(null);
        using var session = new LiveSession(new CueBook(new CueBookOptions { StreamId = "show" }, history), new PacketMonitor(), null, log, history);
        session.SetLink(LinkSide.Input, LinkState.Closed, null, runFailed: true);
        session.SetLink(LinkSide.Output, LinkState.Closed, null, runFailed: true);
        Assert.Multiple(() =>
        {
            Assert.That(log.ToString(), Is.Empty);
            Assert.That(session.Status().Input, Is.EqualTo(LinkState.Closed), "still recorded");
        });
    }

    [Test]
    public void RunFailedAfterTheOutputWasOpen_StillSaysClosed()
    {
        var log = new StringWriter();
        var history = new CueHistory(null);
        using var session = new LiveSession(new CueBook(new CueBookOptions { StreamId = "show" }, history), new PacketMonitor(), null, log, history);
        session.SetLink(LinkSide.Output, LinkState.Connected, "out.ts");
        session.SetLink(LinkSide.Output, LinkState.Closed, null, runFailed: true);
        Assert.That(log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "sei-inject: output connected: out.ts", "sei-inject: output closed" }));
    }

    [Test]
    public void OutputThatWasOpen_SaysClosed()
    {
        var lines = Lines((LinkSide.Output, LinkState.Connected, "out.ts"), (LinkSide.Output, LinkState.Reconnecting, "gone"),
            (LinkSide.Output, LinkState.Closed, null));
        Assert.That(lines, Is.EqualTo(new[]
        {
            "sei-inject: output connected: out.ts",
            "sei-inject: output reconnecting: gone",
            "sei-inject: output closed",
        }));
    }
}
