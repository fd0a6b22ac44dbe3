using System.Text;
using CatEvening.SeiInjector.Cues;
using CatEvening.SeiInjector.Schedule;
using CatEvening.SeiReader.Messages;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Schedule;

public class ShowScheduleTests
{
    [Test]
    public void BundledSample_LoadsEveryCue_WithItsTimingAndDataAsCompactJson()
    {
        var show = ShowSchedule.Load(Path.Combine(TestMedia.RepositoryRoot, "samples", "show.yaml"));
        var rain = show.Cues.Single(c => c.Id == "red-packet-rain-1");
        var end = show.Cues.Single(c => c.Id == "red-packet-rain-1-end");
        Assert.Multiple(() =>
        {
            Assert.That(show.StreamId, Is.EqualTo("cat-evening-main"));
            Assert.That(show.Cues.Select(c => c.Id), Is.EqualTo(new[] { "welcome-banner", "red-packet-rain-1", "red-packet-rain-1-end", "vote-best-cat" }));
            Assert.That(rain.Kind, Is.EqualTo(MessageKind.InteractionStart));
            Assert.That(rain.At, Is.EqualTo(CueTime.FromFirstFrame(TimeSpan.FromSeconds(3))));
            Assert.That(rain.Duration, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(rain.Spread, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(Encoding.UTF8.GetString(rain.AppData.Span), Is.EqualTo("""{"prize":"coupon-50","packets":2000}"""));
            Assert.That(end.TargetCueId, Is.EqualTo("red-packet-rain-1"));
        });
    }

    // Fresh tester (H6 kind): a cancel whose `closes` named no cue of the schedule (a typo) ran with no word, and the cue
    // it meant to close stayed open. It is valid (a cue fired through the control API may carry that id), so a warning.
    [Test]
    public void CloseNamingNoCueOfTheSchedule_IsKept_WithAWarningNamingBoth()
    {
        const string yaml = """
            stream: s
            cues:
              - {id: quiz, kind: interaction-start, at: 1s, duration: 10s}
              - {id: quiz-end, kind: interaction-end, closes: quiz, at: 3s}
              - {id: typo-end, kind: cancel, closes: qiuz, at: 4s}
            """;
        var show = ShowSchedule.Parse(yaml, "show.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(show.Cues, Has.Count.EqualTo(3));
            Assert.That(show.Warnings, Has.Count.EqualTo(1));
            Assert.That(show.Warnings[0], Does.StartWith("show.yaml: cue 'typo-end' closes 'qiuz', which the schedule does not hold").And.Contain("typo"));
            Assert.That(ShowSchedule.Load(Path.Combine(TestMedia.RepositoryRoot, "samples", "show.yaml")).Warnings, Is.Empty);
        });
    }

    [Test]
    public void IssueExample_WithWallClockTarget_Parses()
    {
        const string yaml = """
            stream: cat-evening-main
            cues:
              - id: red-packet-rain-1
                kind: interaction-start
                at: 2026-11-11T20:30:00+08:00
                duration: 30s
                spread: 2s
                data: { prize: "coupon-50" }
            """;
        var cue = ShowSchedule.Parse(yaml, "show.yaml").Cues.Single();
        Assert.That(cue.At.WallClock, Is.EqualTo(new DateTimeOffset(2026, 11, 11, 12, 30, 0, TimeSpan.Zero)));
        Assert.That(cue.At.AfterFirstFrame, Is.Null);
    }

    [Test]
    public void JsonSchedule_IsAccepted()
    {
        const string json = """{"stream":"s","cues":[{"id":"a","kind":"custom","at":"500ms","data":{"n":[1,2.5,true,null,"x"]}}]}""";
        var cue = ShowSchedule.Parse(json, "show.json").Cues.Single();
        Assert.Multiple(() =>
        {
            Assert.That(cue.At, Is.EqualTo(CueTime.FromFirstFrame(TimeSpan.FromMilliseconds(500))));
            Assert.That(Encoding.UTF8.GetString(cue.AppData.Span), Is.EqualTo("""{"n":[1,2.5,true,null,"x"]}"""));
        });
    }

    [TestCase("cues:\n  - id: a\n    kind: lottery\n    at: 1s\n", "2:5", "kind", "'lottery' is not one of")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: soon\n", "4:9", "at", "'soon' is neither a duration")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    duration: -2s\n", "5:15", "duration", "not a duration")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n", "2:5", "at", "is required")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    colour: red\n", "5:5", "colour", "unknown field")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n  - id: a\n    kind: custom\n    at: 2s\n", "", "'a'", "appears 2 times")]
    [TestCase("cues: [ {id: a, kind: custom, at: 1s\n", "", "", "not valid YAML/JSON")]
    [TestCase("stream: s\ncues:\n  - id: a\n    kind: custom\n    at: 2026-11-11T20:30:00\n", "5:9", "at", "wall clock with its UTC offset")]
    // Stream ids the cue book refused with ArgumentException, and keys that are lists or mappings (InvalidCastException).
    [TestCase("stream: ''\n", "1:9", "stream", "must be 1-64 UTF-8 bytes, not 0")]
    [TestCase("stream: ééééééééééééééééééééééééééééééééé\n", "1:9", "stream", "must be 1-64 UTF-8 bytes, not 66")]
    [TestCase("? [1, 2]\n: 3\n", "1:3", "the schedule", "has a key that is a list or mapping")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {? [1, 2] : 3}\n", "5:14", "cues[0].data", "has a key that is a list or mapping")]
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {x: &k [1], *k : 3}\n", "5:", "cues[0].data", "has a key that is a list or mapping")]
    // A number no reader's double can hold (JSON.parse reads Infinity), as the control API refuses it.
    [TestCase("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {a: 1e999}\n", "5:15", "cues[0].data.a", "is a number beyond a double's range")]
    public void BadSchedule_IsRefused_NamingFileLineAndField(string text, string position, string field, string problem)
    {
        var e = Assert.Throws<ScheduleException>(() => ShowSchedule.Parse(text, "show.yaml"))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Message, Does.StartWith("show.yaml:" + position));
            Assert.That(e.Message, Does.Contain(field));
            Assert.That(e.Message, Does.Contain(problem));
        });
    }

    // A fresh tester: non-ASCII text was sent as \uXXXX escapes (6 bytes a CJK character against the 1024).
    [Test]
    public void Data_IsUtf8Text_NotEscaped()
    {
        var show = ShowSchedule.Parse("cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {prize: 优惠券 <50>}\n", "show.yaml");
        Assert.That(System.Text.Encoding.UTF8.GetString(show.Cues[0].AppData.Span), Is.EqualTo("""{"prize":"优惠券 <50>"}"""));
    }

    // Utf8JsonWriter threw InvalidOperationException past 1000 levels; YamlStream recurses once per level as it loads.
    [TestCase(65, "5:75")]
    [TestCase(1001, "5:75")]
    public void DataNestedDeeperThanTheLimit_IsRefused_NamingTheField(int depth, string position)
    {
        var yaml = $"cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {new string('[', depth)}{new string(']', depth)}\n";
        var e = Assert.Throws<ScheduleException>(() => ShowSchedule.Parse(yaml, "show.yaml"))!;
        Assert.That(e.Message, Does.StartWith($"show.yaml:{position}: cues[0].data[0][0]").And.EndWith($"nests deeper than {ShowSchedule.MaxDataDepth} levels"));
    }

    [Test]
    public void DataNestedAtTheLimit_IsTaken()
    {
        var depth = ShowSchedule.MaxDataDepth;
        var yaml = $"cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {new string('[', depth)}{new string(']', depth)}\n";
        Assert.That(Encoding.UTF8.GetString(ShowSchedule.Parse(yaml, "show.yaml").Cues.Single().AppData.Span), Is.EqualTo(new string('[', depth) + new string(']', depth)));
    }

    // An alias is written out where it stands: one inside its own anchor never ends, anchors of anchors ("billion
    // laughs") made 3.2 GB and ran out of memory. Writing stops at the size a cue may carry, or at the depth limit.
    [TestCase("&d [*d]", "cues[0].data[0][0]", "nests deeper than 64 levels")]
    [TestCase("&d {x: *d}", "cues[0].data.x.x", "nests deeper than 64 levels")]
    // Anchors of anchors, four deep here (the CLI test has the nine-deep bomb, in a process of its own): 60 kB written
    // out before this was refused with its full size; now writing stops past 1024 bytes.
    [TestCase("{l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol], l1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], "
        + "l2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1], l3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]}",
        "cues[0].data.l2", "makes more than 1024 bytes as JSON")]
    public void DataWhoseAliasesExpandWithoutBound_IsRefused_NamingTheField(string data, string field, string problem)
    {
        var yaml = $"cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {data}\n";
        var e = Assert.Throws<ScheduleException>(() => ShowSchedule.Parse(yaml, "show.yaml"))!;
        Assert.That(e.Message, Does.StartWith("show.yaml:5:").And.Contain(field).And.Contain(problem));
    }

    [Test]
    public void DataWithAliases_IsWrittenOutInFull()
    {
        var yaml = "cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {a: &x [1, two], b: *x}\n";
        Assert.That(Encoding.UTF8.GetString(ShowSchedule.Parse(yaml, "show.yaml").Cues.Single().AppData.Span), Is.EqualTo("""{"a":[1,"two"],"b":[1,"two"]}"""));
    }

    [Test]
    public void OversizedData_IsRefused()
    {
        var yaml = $"cues:\n  - id: a\n    kind: custom\n    at: 1s\n    data: {{ blob: \"{new string('x', 1020)}\" }}\n";
        Assert.That(() => ShowSchedule.Parse(yaml, "show.yaml"), Throws.TypeOf<ScheduleException>().With.Message.Contains("at most 1024"));
    }

    [Test]
    public void MissingFile_IsNamed()
    {
        Assert.That(() => ShowSchedule.Load("/nonexistent/show.yaml"), Throws.TypeOf<ScheduleException>().With.Message.StartsWith("/nonexistent/show.yaml: cannot read"));
    }

    [TestCase("500ms", 500)]
    [TestCase("2s", 2000)]
    [TestCase("1.5s", 1500)]
    [TestCase("1m", 60_000)]
    [TestCase("1h", 3_600_000)]
    [TestCase("0s", 0)]
    public void Durations_ParseAsOperatorsWriteThem(string text, int milliseconds)
    {
        Assert.That(DurationText.TryParse(text, out var d), Is.True);
        Assert.That(d, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.That(DurationText.TryParse(DurationText.Format(d), out var back) && back == d, Is.True, "round trip");
    }

    [TestCase("")]
    [TestCase("5")]
    [TestCase("-1s")]
    [TestCase("s")]
    [TestCase("1d")]
    [TestCase("1,5s")]
    public void NonDurations_AreRejected(string text) => Assert.That(DurationText.TryParse(text, out _), Is.False);
}
