using System.Text;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Live;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Live;

/// <summary>
/// Fresh tester (H6 kind): <c>POST /v1/cues</c> with an interaction-end whose <c>closes</c> names a cue this injector
/// does not hold answered a plain 201, where <c>DELETE</c> of the same id answers 404: a typo left the interaction open
/// without a word. The close is still accepted (readers may know the cue by that id), and the answer and the log say so.
/// </summary>
public class CloseOfAnUnknownCueTests
{
    private static (ControlResult Result, string Log) Fire(LiveSession session, StringWriter log, string json)
    {
        Assert.That(CueOrderJson.TryParse(Encoding.UTF8.GetBytes(json), out var order, out var error), Is.True, error);
        return (session.Fire(order!), log.ToString());
    }

    [Test]
    public void CloseOfAnUnknownCue_IsAccepted_WithANoteInTheAnswerAndTheLog_ACloseOfAKnownOneWithout()
    {
        var log = new StringWriter();
        var history = new CueHistory(null);
        using var session = new LiveSession(new CueBook(new CueBookOptions { StreamId = "show" }, history), new PacketMonitor(), null, log, history);
        var start = Fire(session, log, """{"id":"quiz","kind":"interaction-start","at":"5s","duration":"10s"}""");
        var known = Fire(session, log, """{"id":"quiz-end","kind":"interaction-end","closes":"quiz","at":"8s"}""");
        var unknown = Fire(session, log, """{"id":"typo-end","kind":"interaction-end","closes":"qiuz","at":"9s"}""");
        Assert.Multiple(() =>
        {
            Assert.That(start.Result.Outcome, Is.EqualTo(ControlOutcome.Accepted));
            Assert.That(known.Result.Outcome, Is.EqualTo(ControlOutcome.Accepted));
            Assert.That(known.Result.Message, Does.Not.Contain("note"));
            Assert.That(unknown.Result.Outcome, Is.EqualTo(ControlOutcome.Accepted));
            Assert.That(unknown.Result.Message, Does.Contain("note: no cue 'qiuz' is known to this injector"));
            Assert.That(unknown.Log, Does.Contain("cue 'typo-end' closes 'qiuz', which this injector does not hold"));
            Assert.That(known.Log, Does.Not.Contain("does not hold"));
        });
    }
}
