using System.Text.Json;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Cli;

/// <summary>The <c>sei-inject</c> command line as an operator uses it: a separate process, its output and exit code.</summary>
[NonParallelizable]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class SeiInjectCliTests() : SeiInjectCliFixture("sei-inject-cli-", TimeSpan.FromMinutes(2))
{

    [Test]
    public void Keygen_WritesThePrivateKeyWithMode0600_AndNeverOverwrites()
    {
        var again = SeiInject("keygen", "--private", PrivateKey, "--public", Path.Combine(Work, "other.pub"));
        Assert.Multiple(() =>
        {
            Assert.That(File.GetUnixFileMode(PrivateKey), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.That(File.ReadAllText(PrivateKey), Does.Contain("PRIVATE KEY"));
            Assert.That(File.ReadAllText(PublicKey), Does.Contain("PUBLIC KEY"));
            Assert.That(again.ExitCode, Is.EqualTo(3));
            Assert.That(again.StdErr, Does.Contain(PrivateKey).And.Contain("already exists"));
        });
    }

    [Test]
    public void Run_RefusesAPrivateKeyThatGroupOrOthersCanRead()
    {
        var loose = Path.Combine(Work, "loose.key");
        File.Copy(PrivateKey, loose);
        File.SetUnixFileMode(loose, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var r = SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", Path.Combine(Work, "never.flv"), "--key", loose);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3));
            Assert.That(r.StdErr, Does.Contain("--key " + loose).And.Contain("chmod 600"));
            Assert.That(File.Exists(Path.Combine(Work, "never.flv")), Is.False);
        });
    }

    // A newcomer who gives the public key (mode 644) was told to chmod it, then that it was not a private key.
    [Test]
    public void Run_GivenThePublicKeyOrADirectory_SaysSo_BeforeAnyPermissionAdvice()
    {
        File.SetUnixFileMode(PublicKey, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var input = TestMedia.Get(VideoProfile.H264Main, Container.Flv);
        var publicKey = SeiInject("run", "-i", input, "-o", Path.Combine(Work, "never.flv"), "--key", PublicKey);
        var directory = SeiInject("run", "-i", input, "-o", Path.Combine(Work, "never.flv"), "--key", Work);
        Assert.Multiple(() =>
        {
            Assert.That(publicKey.ExitCode, Is.EqualTo(3));
            Assert.That(publicKey.StdErr, Does.Contain("--key " + PublicKey + ": not a CatEvening private key").And.Contain("holds a PUBLIC KEY").And.Not.Contain("chmod"));
            Assert.That(directory.ExitCode, Is.EqualTo(3));
            Assert.That(directory.StdErr, Does.Contain("--key " + Work + ": a directory"));
            Assert.That(File.Exists(Path.Combine(Work, "never.flv")), Is.False);
        });
    }

    // A newcomer's remark: an output no muxer matches was found only after the input was connected, with FFmpeg's raw
    // "[NULL @ 0x…] Unable to find a suitable output format" line before ours.
    [Test]
    public void Run_OutputNoMuxerMatches_IsRefusedBeforeTheInputOpens_InOurWordsOnly()
    {
        // An input that fails loudly if it is opened: the output's refusal must come first.
        var missingInput = Path.Combine(Work, "no-such-input.flv");
        var r = SeiInject("run", "-i", missingInput, "-o", Path.Combine(Work, "out.xyz"), "--key", PrivateKey);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(1));
            Assert.That(r.StdErr, Does.Contain("no output format matches").And.Contain("--output-format"));
            Assert.That(r.StdErr, Does.Not.Contain(missingInput + ":").And.Not.Contain("No such file"), "the input was never opened");
            Assert.That(r.StdErr, Does.Not.Contain(" @ 0x"), "no raw FFmpeg log line");
        });
    }

    [TestCase(new[] { "run", "-i", "in.flv" }, "--output")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--heartbeat", "often" }, "--heartbeat 'often'")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--repeat", "-1" }, "--repeat")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--analyze-duration", "soon" }, "--analyze-duration")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--sched-slice", "0.05ms" }, "--sched-slice '0.05ms'")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--sched-slice", "101ms" }, "--sched-slice '101ms'")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--rtmp-client", "fast" }, "--rtmp-client takes managed or ffmpeg, not 'fast'")]
    [TestCase(new[] { "run", "--frobnicate" }, "--frobnicate")]
    [TestCase(new[] { "keygen", "--private", "a", "--public", "b", "--key-id", "70000" }, "--key-id")]
    // Every numeric option, with text that is no number or does not fit an int: a validator reading the value threw
    // InvalidOperationException out of Parse (unhandled, exit 134).
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--repeat", "99999999999" }, "--repeat '99999999999' is not a whole number from 0 to 1000")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--repeat", "abc" }, "--repeat 'abc' is not a whole number from 0 to 1000")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--format-version", "x" }, "--format-version 'x' is not a whole number from 1 to 2")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--format-version", "99999999999" }, "--format-version '99999999999' is not a whole number from 1 to 2")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--format-version", "3" }, "--format-version '3' is not a whole number from 1 to 2")]
    [TestCase(new[] { "keygen", "--private", "a", "--public", "b", "--key-id", "abc" }, "--key-id 'abc' is not a whole number from 0 to 65535")]
    [TestCase(new[] { "keygen", "--private", "a", "--public", "b", "--key-id", "99999999999" }, "--key-id '99999999999' is not a whole number from 0 to 65535")]
    [TestCase(new[] { "inspect", "-i", "in.flv", "--frame-rate", "99999999999" }, "--frame-rate '99999999999'")]
    // The stream id was checked first by the cue book (ArgumentException: "internal error", exit 70).
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--stream-id", "" }, "--stream-id must be 1-64 UTF-8 bytes, not 0")]
    [TestCase(new[] { "run", "-i", "in.flv", "-o", "out.flv", "--key", "k", "--stream-id", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, "--stream-id must be 1-64 UTF-8 bytes, not 65")]
    public void BadCommandLine_ExitsWith2_NamingTheOption(string[] args, string named)
    {
        var r = SeiInject(args);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.StdErr);
        Assert.That(r.StdErr, Does.Contain(named));
    }

    // Each of these once ended in an unhandled exception (134), an out-of-memory after 22 s (the alias bomb), or an
    // "internal error" (70): a schedule is a file, so it is exit 3 naming file:line:column and the field, at once.
    [TestCase("empty stream id", "1:9: stream must be 1-64 UTF-8 bytes, not 0")]
    [TestCase("long stream id", "1:9: stream must be 1-64 UTF-8 bytes, not 65")]
    [TestCase("complex key in data", "6:14: cues[0].data has a key that is a list or mapping")]
    [TestCase("complex key in a cue", "3:7: cues[0] has a key that is a list or mapping")]
    [TestCase("data 1001 deep", "6:75: cues[0].data[0][0]")]
    [TestCase("data 200000 deep", "6:75: cues[0].data[0][0]")]
    [TestCase("recursive alias", "6:11: cues[0].data[0][0]")]
    [TestCase("alias bomb", "cues[0].data.l2[0][5][3] makes more than 1024 bytes as JSON")]
    [TestCase("alias of a list holding itself as key", "6:24: cues[0].data has a key that is a list or mapping")]
    public void Run_ScheduleFieldThatCannotBe_ExitsWith3_NamingFileLineAndField(string what, string expected)
    {
        var cue = "cues:\n  - id: a\n    kind: custom\n    at: 1s\n";
        var text = what switch
        {
            "empty stream id" => "stream: ''\n",
            "long stream id" => $"stream: {new string('a', 65)}\n",
            "complex key in data" => $"stream: s\n{cue}    data: {{? [1,2] : 3}}\n",
            "complex key in a cue" => "stream: s\ncues:\n  - ? {a: 1}\n    : x\n",
            "data 1001 deep" => $"stream: s\n{cue}    data: {new string('[', 1001)}{new string(']', 1001)}\n",
            "data 200000 deep" => $"stream: s\n{cue}    data: {new string('[', 200_000)}{new string(']', 200_000)}\n",
            "recursive alias" => $"stream: s\n{cue}    data: &d [*d]\n",
            // Hashing the key went round the list for ever (stack overflow).
            "alias of a list holding itself as key" => $"stream: s\n{cue}    data: {{x: &d [*d], *d : 1}}\n",
            // Billion laughs: each anchor a list of ten aliases of the one before, nine deep (10^9 strings written out).
            "alias bomb" => $"stream: s\n{cue}    data:\n      l0: &a0 [{string.Join(",", Enumerable.Repeat("\"lol\"", 10))}]\n"
                + string.Concat(Enumerable.Range(1, 9).Select(i => $"      l{i}: &a{i} [{string.Join(",", Enumerable.Repeat($"*a{i - 1}", 10))}]\n")),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };
        var schedule = Path.Combine(Work, "bad-" + what.Replace(' ', '-') + ".yaml");
        File.WriteAllText(schedule, text);
        var r = SeiInject("run", "-i", "in.flv", "-o", Path.Combine(Work, "never.flv"), "--key", PrivateKey, "--schedule", schedule);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3), r.StdErr);
            Assert.That(r.StdErr, Does.Contain($"--schedule {schedule}:").And.Contain(expected));
            Assert.That(File.Exists(Path.Combine(Work, "never.flv")), Is.False);
        });
    }

    // A sequence number no injector can have written (at or above 2^53 - 1) failed the run's first signature after the
    // output had opened: "internal error" (70) and an empty output. It is a bad file, refused before anything opens.
    [TestCase("9223372036854775000", "is not a whole number from 0 to 2^53 - 1")]
    [TestCase("9007199254740991", "leaves the next run fewer than 2^32 sequence numbers below 2^53 - 1")]
    public void Run_AuditLogWithASequenceNumberOutOfRange_ExitsWith3_NamingFileAndLine(string through, string problem)
    {
        var audit = Path.Combine(Work, $"overflow-audit-{through}.jsonl");
        File.WriteAllText(audit, $"{{\"n\":1,\"event\":\"seq_reserved\",\"through\":{through}}}\n");
        var r = SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", Path.Combine(Work, "never.flv"), "--key", PrivateKey, "--audit", audit);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3), r.StdErr);
            Assert.That(r.StdErr, Does.Contain($"--audit {audit}: line 1 (byte 0) is not a valid audit record: through {through} {problem}"));
            Assert.That(File.Exists(Path.Combine(Work, "never.flv")), Is.False);
        });
    }

    [Test]
    public void Run_BadScheduleFile_ExitsWith3_NamingFileLineAndField()
    {
        var schedule = Path.Combine(Work, "bad.yaml");
        File.WriteAllText(schedule, "stream: s\ncues:\n  - id: a\n    kind: custom\n    at: tomorrow\n");
        var r = SeiInject("run", "-i", "in.flv", "-o", "out.flv", "--key", PrivateKey, "--schedule", schedule);
        Assert.That(r.ExitCode, Is.EqualTo(3));
        Assert.That(r.StdErr, Does.Contain($"{schedule}:5:9: cues[0].at"));
    }

    // A fresh tester: cues still pending when the input ended were counted in the summary, never named.
    [Test]
    public void Run_CuesPendingAtTheEnd_AreNamed()
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var schedule = Path.Combine(Work, "late.yaml");
        File.WriteAllText(schedule, "stream: s\ncues:\n  - {id: early, kind: custom, at: 0s}\n  - {id: late-one, kind: custom, at: 1h}\n  - {id: late-two, kind: custom, at: 2h}\n");
        var r = SeiInject("run", "-i", input, "-o", Path.Combine(Work, "late.ts"), "--key", PrivateKey, "--schedule", schedule);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdErr, Does.Contain("cues pending 2,").And.Contain("sei-inject: never sent (pending at the end): late-one, late-two\n"));
    }

    // 'default' once crashed the run (System.CommandLine took the parser's null for a missing value: InvalidCastException).
    [TestCase("default")]
    [TestCase("auto")]
    [TestCase("5ms")]
    public void Run_SchedSlice_IsTaken(string slice)
    {
        var input = TestMedia.Get(VideoProfile.H264HighBPyramid, Container.MpegTs);
        var r = SeiInject("run", "-i", input, "-o", Path.Combine(Work, "sliced.ts"), "--key", PrivateKey, "--sched-slice", slice);
        Assert.That(r.ExitCode, Is.Zero, r.StdErr);
        Assert.That(r.StdErr, Does.Not.Contain("Unhandled exception"));
        // A file input is not called live (a newcomer's remark).
        Assert.That(r.StdErr, Does.Contain("sei-inject: started: ").And.Not.Contain("sei-inject: live"));
        // The operator is told the slice the packet thread got (or why not), and nothing when none was asked for.
        // 'auto' (the default) tunes a live input's thread only: a file is read flat out, where a long slice would only
        // delay its neighbours.
        if (slice is "default" or "auto") Assert.That(r.StdErr, Does.Not.Contain("scheduler slice"));
        else Assert.That(r.StdErr, Does.Contain("pipeline thread: scheduler slice 5 ms").Or.Contain("the scheduler slice stays as it was"));
    }

    [Test]
    public void Run_UnreadableInput_ExitsWith1_WithFFmpegsReason()
    {
        var r = SeiInject("run", "-i", Path.Combine(Work, "missing.flv"), "-o", Path.Combine(Work, "out.flv"), "--key", PrivateKey);
        Assert.That(r.ExitCode, Is.EqualTo(1));
        // The cause is the first thing said, and alone: not after "the input never came up" and "no output was opened"
        // (a newcomer's remark), and never "output closed" for an output that was not opened.
        var lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("nonces computed ahead")).ToList();
        Assert.That(lines[0], Does.Contain("missing.flv").And.Contain("No such file or directory"), r.StdErr);
        Assert.That(r.StdErr, Does.Not.Contain("never came up").And.Not.Contain("no output was opened").And.Not.Contain("output closed"));
    }

    [Test]
    public void RunThenInspectJson_ReportsEveryContractField_PtsTimeAsFFprobe_AndCuesVerified()
    {
        var input = TestMedia.Get(VideoProfile.H264HighBPyramid, Container.MpegTs);
        var output = Path.Combine(Work, "signed.ts");
        var schedule = Path.Combine(Work, "show.yaml");
        File.WriteAllText(schedule, """
            stream: cli-test
            cues:
              - id: rain
                kind: interaction-start
                at: 500ms
                duration: 1s
                spread: 2s
                data: { prize: "coupon-50" }
              - id: rain-end
                kind: interaction-end
                closes: rain
                at: 1.5s
            """);
        var run = SeiInject("run", "-i", input, "-o", output, "--key", PrivateKey, "--schedule", schedule, "--heartbeat", "500ms", "--repeat", "2");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        var inspect = SeiInject("inspect", output, "--public-key", PublicKey, "--json");
        Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
        var lines = inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var framePts = Probe.VideoFrames(output).Select(f => Probe.Seconds(f.Pts)).ToList();
        var firstPts = Probe.Seconds(Probe.VideoPackets(output)[0].Pts);
        var rain = lines.Where(l => l.GetProperty("kind").GetString() == "interaction-start").ToList();
        Assert.Multiple(() =>
        {
            foreach (var l in lines)
            {
                foreach (var field in new[] { "pts_time", "fire_time", "kind", "id", "seq", "verified", "error", "first" })
                    Assert.That(l.TryGetProperty(field, out _), Is.True, $"field {field} in {l}");
                Assert.That(l.GetProperty("verified").GetBoolean(), Is.True, l.ToString());
                Assert.That(framePts, Has.Some.EqualTo(l.GetProperty("pts_time").GetDouble()).Within(1e-6), "pts_time is the pts_time ffprobe gives the carrier frame");
            }
            Assert.That(lines.Count(l => l.GetProperty("kind").GetString() == "heartbeat"), Is.EqualTo(4), "2 s at one heartbeat per 500 ms");
            Assert.That(lines.Where(l => l.GetProperty("kind").GetString() == "heartbeat").Select(l => l.GetProperty("id").ValueKind), Is.All.EqualTo(JsonValueKind.Null));
            Assert.That(rain.Count(l => l.GetProperty("first").GetBoolean()), Is.EqualTo(1));
            Assert.That(rain[0].GetProperty("first").GetBoolean(), Is.True);
            Assert.That(rain.Select(l => l.GetProperty("id").GetString()), Is.All.EqualTo("rain"));
            Assert.That(rain[0].GetProperty("fire_time").GetDouble(), Is.EqualTo(framePts.Where(t => t >= firstPts + 0.5 - 1e-9).Min()).Within(1e-6));
            Assert.That(rain[0].GetProperty("data").GetProperty("prize").GetString(), Is.EqualTo("coupon-50"));
            Assert.That(lines.Single(l => l.GetProperty("kind").GetString() == "interaction-end" && l.GetProperty("first").GetBoolean()).GetProperty("id").GetString(), Is.EqualTo("rain"));
        });
    }

    // A newcomer's remark: `cue --id` with bytes that are not UTF-8 was sent with U+FFFD in their place, where the API
    // refuses such an id with 400. The command line is refused before anything is sent (exit 2), naming the option and
    // the byte. The bytes go through bash: a .NET process cannot pass them as an argument.
    [TestCase("--id", "a\\xffb", 1)]
    [TestCase("--closes", "\\xc3", 0)]
    public void Cue_IdThatIsNotUtf8_IsRefusedBeforeSending_NamingTheByte(string option, string printf, int offset)
    {
        var ids = option == "--id" ? $"--id \"$(printf '{printf}')\"" : $"--id ok --kind cancel --closes \"$(printf '{printf}')\"";
        var r = FFmpegCli.Run("bash", ["-c", $"dotnet {Cli} cue --control 127.0.0.1:9 --token-file /nonexistent {ids}"], TimeSpan.FromMinutes(1));
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(2), r.StdErr);
            Assert.That(r.StdErr, Does.Contain($"{option} is not valid UTF-8 (byte {offset} of it"));
            Assert.That(r.StdErr, Does.Not.Contain("Connection refused").And.Not.Contain("nonexistent"), "nothing was sent");
        });
    }

    // The demo's tampered copy (one bit of the first signed body flipped): its refusal was listed as "(repeat)", a word
    // that means a carousel repeat of a message already listed. A payload whose body cannot be read repeats nothing.
    [Test]
    public void Inspect_TamperedPayload_IsListedAsRefused_NotAsARepeat()
    {
        var signed = Path.Combine(Work, "to-tamper.flv");
        Assert.That(SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", signed, "--key", PrivateKey).ExitCode, Is.EqualTo(0));
        var bytes = File.ReadAllBytes(signed);
        byte[] uuidStart = [0x7f, 0x4d, 0xd1, 0x1c, 0xdf, 0xb8, 0x4e, 0x31, 0x82, 0xfd];
        // The body's first byte (its MessagePack header, 0x94: an array of four) becomes 0x84 (a map): the body cannot be
        // read, and the signature fails. Neither byte is 00-03, so the SEI syntax (emulation prevention) stays intact.
        var at = bytes.AsSpan().IndexOf(uuidStart) + 19;
        Assert.That(bytes[at], Is.EqualTo(0x94), "the first body of a version-2 stream: a bundle of four fields");
        bytes[at] ^= 0x10;
        var tampered = Path.Combine(Work, "tampered.flv");
        File.WriteAllBytes(tampered, bytes);
        var r = SeiInject("inspect", tampered, "--public-key", PublicKey);
        var refused = r.StdOut.Split('\n').Where(l => l.Contains("NOT verified", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(5));
            Assert.That(refused, Has.Count.EqualTo(1), r.StdOut);
            Assert.That(refused, Is.All.Contain("unreadable message").And.All.Contain("BadSignature").And.All.Not.Contain("(repeat)"));
        });
    }

    // A newcomer's remark: a public key of another key pair with the same id (keygen's default, 1) read only
    // "BadSignature ... key id 1" on every message. Now the summary says what is most likely wrong; a stream where some
    // messages verify (a tampered copy) does not get the hint.
    [Test]
    public void Inspect_WithAnotherKeyPairsPublicKeyOfTheSameId_SaysSo()
    {
        var output = Path.Combine(Work, "signed-other-key.flv");
        var run = SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", output, "--key", PrivateKey, "--heartbeat", "500ms");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        var otherPrivate = Path.Combine(Work, "same-id-other-pair.pem");
        var otherPublic = Path.Combine(Work, "same-id-other-pair.pub");
        Assert.That(SeiInject("keygen", "--private", otherPrivate, "--public", otherPublic).ExitCode, Is.EqualTo(0));
        var wrong = SeiInject("inspect", output, "--public-key", otherPublic);
        var right = SeiInject("inspect", output, "--public-key", PublicKey);
        // With --json the JSON lines stay alone on stdout; the summary and the hint go to stderr all the same.
        var wrongJson = SeiInject("inspect", output, "--public-key", otherPublic, "--json");
        var unkeyedJson = SeiInject("inspect", output, "--json");
        Assert.Multiple(() =>
        {
            Assert.That(wrong.ExitCode, Is.EqualTo(5));
            Assert.That(wrong.StdErr, Does.Contain("not one message verified").And.Contain("under key id 1").And.Contain(otherPublic).And.Contain("--key-id"));
            Assert.That(wrongJson.ExitCode, Is.EqualTo(5));
            Assert.That(wrongJson.StdErr, Does.Contain("not one message verified").And.Contain("0 verified"));
            Assert.That(wrongJson.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.ValueKind),
                Is.All.EqualTo(JsonValueKind.Object), "stdout: JSON lines only");
            Assert.That(unkeyedJson.StdErr, Does.Contain("not verified (no --public-key)"));
            Assert.That(right.ExitCode, Is.EqualTo(0), right.StdErr);
            Assert.That(right.StdErr, Does.Not.Contain("not one message verified"));
        });
    }

    // A tester's remark: a recording that begins after a cue fired showed its carousel re-sends as "fires 0.000s", as if
    // the cue were due on the first frame. Oracle: the same run's whole output, where no target precedes the first frame;
    // the cut (FFmpeg's own stream copy from the keyframe at 2 s) holds only re-sends of a cue due at 0.5 s.
    [Test]
    public void Inspect_ACutThatBeginsAfterACueFired_FlagsItsReSends_AndSaysSoInWords()
    {
        var input = Pipeline.FieldMedia.Clip("inspect-late-cut", 6, "mpegts");
        var output = Path.Combine(Work, "late-whole.ts");
        var cut = Path.Combine(Work, "late-cut.ts");
        var schedule = Path.Combine(Work, "late.yaml");
        File.WriteAllText(schedule, "{stream: late, cues: [{id: quiz, kind: interaction-start, at: 500ms, duration: 5s}]}");
        var run = SeiInject("run", "-i", input, "-o", output, "--key", PrivateKey, "--schedule", schedule, "--heartbeat", "off", "--repeat", "0");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        FFmpegCli.Ffmpeg("-v", "error", "-y", "-ss", "2.5", "-i", output, "-map", "0", "-c", "copy", cut).EnsureSuccess("cutting at the 2 s keyframe");

        var whole = InspectJson(output);
        var late = InspectJson(cut);
        var firstPts = Probe.VideoFrames(cut).Select(f => Probe.Seconds(f.Pts)).Min();
        var text = SeiInject("inspect", cut, "--public-key", PublicKey);
        Assert.Multiple(() =>
        {
            Assert.That(whole, Has.Count.GreaterThan(1), "the first delivery and keyframe re-sends");
            Assert.That(whole.Select(l => l.TryGetProperty("target_before_first_frame", out _)), Is.All.False);
            Assert.That(late, Has.Count.GreaterThanOrEqualTo(2), "re-sends on the keyframes at 2, 3, 4 and 5 s");
            Assert.That(late.Select(l => l.GetProperty("target_before_first_frame").GetBoolean()), Is.All.True);
            Assert.That(late.Select(l => l.GetProperty("fire_time").GetDouble()), Is.All.EqualTo(firstPts).Within(1e-6));
            Assert.That(late.Select(l => l.GetProperty("target_time").GetDouble()), Is.All.LessThan(firstPts));
            Assert.That(text.ExitCode, Is.EqualTo(0), text.StdErr);
            Assert.That(text.StdOut, Does.Contain("came before the stream began"));
        });

        List<JsonElement> InspectJson(string path)
        {
            var inspect = SeiInject("inspect", path, "--public-key", PublicKey, "--json");
            Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
            return [.. inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(l => l.GetProperty("id").ValueKind == JsonValueKind.String)];
        }
    }

    // A raw Annex B stream has no timestamps: inspect stamps it as run does, so every message has the PTS run gave its
    // frame. Oracle: the same messages read from run's MPEG-TS output (whose PTS ffprobe agrees with, see above) sit on
    // the same frames, their PTS one constant (the TS start offset) apart. Without the stamping every pts_time is null.
    [Test]
    public void InspectRawH264_StampsFramesAsRunDoes_PtsTimeIsRunsPtsUpToTheStartOffset()
    {
        var raw = Pipeline.FieldMedia.Clip("inspect-raw-h264", 3, "h264", ["-c:v", "libx264", "-preset", "veryfast"], ["-an"]);
        var signedTs = Path.Combine(Work, "raw-signed.ts");
        var signedRaw = Path.Combine(Work, "raw-signed.h264");
        var run = SeiInject("run", "-i", raw, "--input-format", "h264", "-o", signedTs, "--key", PrivateKey, "--heartbeat", "500ms");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        FFmpegCli.Ffmpeg("-v", "error", "-y", "-i", signedTs, "-c", "copy", "-f", "h264", signedRaw).EnsureSuccess("TS to raw H.264");

        var fromTs = InspectJson(signedTs);
        var fromRaw = InspectJson(signedRaw, "--input-format", "h264");
        var text = SeiInject("inspect", signedRaw, "--input-format", "h264", "--public-key", PublicKey);
        Assert.Multiple(() =>
        {
            Assert.That(fromRaw, Has.Count.EqualTo(6), "3 s at one heartbeat per 500 ms");
            Assert.That(fromRaw.Select(l => l.GetProperty("frame").GetInt64()), Is.EqualTo(fromTs.Select(l => l.GetProperty("frame").GetInt64())));
            Assert.That(fromRaw.Select(l => l.GetProperty("pts_time").ValueKind), Is.All.EqualTo(JsonValueKind.Number), "every message has a PTS");
            if (fromRaw.Count == fromTs.Count && fromRaw.All(l => l.GetProperty("pts_time").ValueKind == JsonValueKind.Number))
            {
                var offsets = fromTs.Zip(fromRaw, (t, r) => t.GetProperty("pts_time").GetDouble() - r.GetProperty("pts_time").GetDouble()).ToList();
                Assert.That(offsets, Is.All.EqualTo(offsets[0]).Within(1e-6), "the raw PTS are run's, up to one start offset");
            }
            Assert.That(fromRaw.Select(l => l.GetProperty("verified").GetBoolean()), Is.All.True);
            Assert.That(text.ExitCode, Is.EqualTo(0), text.StdErr);
            Assert.That(text.StdOut, Does.Not.Contain("no-pts"));
        });

        List<JsonElement> InspectJson(string path, params string[] extra)
        {
            var inspect = SeiInject(["inspect", path, "--public-key", PublicKey, "--json", .. extra]);
            Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
            return [.. inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)];
        }
    }

    [Test]
    public void RestartedWithoutAuditLog_NeverReusesASequenceNumber_SoViewersDoNotTakeItForAReplay()
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var sequences = new List<List<long>>();
        for (var run = 0; run < 2; run++)
        {
            var output = Path.Combine(Work, $"restart-{run}.ts");
            var r = SeiInject("run", "-i", input, "-o", output, "--key", PrivateKey, "--heartbeat", "frame");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
            var inspect = SeiInject("inspect", output, "--public-key", PublicKey, "--json");
            Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
            sequences.Add(inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()).ToList());
        }
        Assert.Multiple(() =>
        {
            Assert.That(sequences[0], Has.Count.EqualTo(TestMedia.FrameCount), "a heartbeat on every frame");
            Assert.That(sequences[1].Min(), Is.GreaterThan(sequences[0].Max()), "the second run starts above every number the first used");
        });
    }

    private static IEnumerable<BrokenKey> BrokenPrivateKeys() => BrokenKeys.Representative(privateKey: true);

    private static IEnumerable<BrokenKey> BrokenPublicKeys() => BrokenKeys.Representative(privateKey: false);

    [TestCaseSource(nameof(BrokenPrivateKeys))]
    public void Run_MalformedOrUnsupportedKey_ExitsWith3_WithOneLineNamingTheFile(BrokenKey broken)
    {
        var path = Path.Combine(Work, "broken-" + Guid.NewGuid().ToString("N") + ".key");
        KeyFiles(path, broken.Pem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var output = Path.Combine(Work, "never-" + Guid.NewGuid().ToString("N") + ".flv");
        var r = SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", output, "--key", path);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3), r.StdErr);
            Assert.That(r.StdErr.Trim().Split('\n'), Has.Length.EqualTo(1), r.StdErr);
            Assert.That(r.StdErr, Does.Contain("--key " + path).And.Contain(broken.Error));
            Assert.That(File.Exists(output), Is.False);
        });
    }

    [TestCaseSource(nameof(BrokenPublicKeys))]
    public void Inspect_MalformedOrUnsupportedPublicKey_ExitsWith3_WithOneLineNamingTheFile(BrokenKey broken)
    {
        var path = Path.Combine(Work, "broken-" + Guid.NewGuid().ToString("N") + ".pub");
        KeyFiles(path, broken.Pem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = SeiInject("inspect", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "--public-key", path);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(3), r.StdErr);
            Assert.That(r.StdErr.Trim().Split('\n'), Has.Length.EqualTo(1), r.StdErr);
            Assert.That(r.StdErr, Does.Contain("--public-key " + path).And.Contain(broken.Error));
        });
    }

    private static void KeyFiles(string path, string text, UnixFileMode mode)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
    }

    [Test]
    public void Inspect_WithAnotherPublicKey_ExitsWith5_AndSaysWhy()
    {
        var output = Path.Combine(Work, "for-other-key.flv");
        Assert.That(SeiInject("run", "-i", TestMedia.Get(VideoProfile.H264Main, Container.Flv), "-o", output, "--key", PrivateKey).ExitCode, Is.EqualTo(0));
        var otherPrivate = Path.Combine(Work, "other.key");
        var otherPublic = Path.Combine(Work, "other-key.pub");
        SeiInject("keygen", "--private", otherPrivate, "--public", otherPublic, "--key-id", "1");
        var r = SeiInject("inspect", output, "--public-key", otherPublic);
        Assert.That(r.ExitCode, Is.EqualTo(5));
        Assert.That(r.StdOut, Does.Contain("NOT verified (BadSignature"));
    }

    [Test]
    public void PipeInputWithInputFormat_ToPipeOutput_KeepsEveryFrame()
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var output = Path.Combine(Work, "piped.ts");
        var r = FFmpegCli.Run("sh", ["-c", $"dotnet '{Cli}' run -i pipe:0 --input-format mpegts --analyze-duration 500ms -o pipe:1 --output-format mpegts --key '{PrivateKey}' < '{input}' > '{output}'"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
        Assert.That(Probe.VideoFrames(output).Zip(Probe.VideoFrames(input)).Count(f => f.First.Unregistered > f.Second.Unregistered), Is.EqualTo(2), "a heartbeat per second");
        // A pipe is a live input: its packet thread's scheduler slice is tuned by default (Linux 6.12+), and the operator told.
        Assert.That(r.StdErr, Does.Contain("pipeline thread: scheduler slice 100 ms (its own: ").Or.Contain("the scheduler slice is not tuned ("));
    }

    // Field cases (fresh tester, 2026-12-01): a live MPEG-TS read with the README's --analyze-duration 500ms.
    // "pes-8000": AAC packed 15+ frames to a PES; FFmpeg gives the frames after a PES's first no timestamp and no duration
    // until its parser knows the frame size: they were stamped 40 ms apart, the next PES read as a jump back, and the audio
    // went out ~300 ms late for the rest of the run. "audio-0.6s-late": the audio's first frames come after the probe
    // ended, so the stream has no sample rate: the TS muxer refused the header ("sample rate not set") and the run exited 1
    // (ffmpeg -c copy leaves the audio out). Right value: exit 0, every packet of every stream with the timestamps it came
    // with (ffprobe), video and audio decoded identical.
    // "two-late-audio": a second audio stream 1.5 s after the video (fresh tester, 2nd pass): the first stream's completed
    // sample rate was emptied again by libavformat while the pipeline read on for the second, and the header failed.
    [TestCase("0", "8000", null, TestName = "ShortAnalyzeDuration_AacPesOfManyFrames_EveryAudioFrameKeepsItsTimestamp")]
    [TestCase("0.6", "2930", null, TestName = "ShortAnalyzeDuration_AudioStartingAfterTheProbe_IsCompletedAndWritten")]
    [TestCase("0.6", "2930", "1.5", TestName = "ShortAnalyzeDuration_TwoAudioStreamsStartingAfterTheProbe_AreCompletedAndWritten")]
    public void ShortAnalyzeDuration_LiveMpegTs_EveryStreamAsItCame(string audioOffset, string pesPayloadSize, string? secondAudioOffset)
    {
        var input = Path.Combine(Work, $"analyze-{audioOffset}-{pesPayloadSize}-{secondAudioOffset}.ts");
        string[] second = secondAudioOffset is null ? [] : ["-itsoffset", secondAudioOffset, "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000:duration=6"];
        string[] maps = secondAudioOffset is null ? [] : ["-map", "0", "-map", "1", "-map", "2"];
        FFmpegCli.Ffmpeg(["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6", "-itsoffset", audioOffset,
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6", .. second, .. maps, "-c:v", "libx264", "-g", "25", "-c:a", "aac",
            "-pes_payload_size", pesPayloadSize, "-f", "mpegts", "-y", input]).EnsureSuccess("the input");
        var output = Path.Combine(Work, $"analyze-{audioOffset}-{pesPayloadSize}-{secondAudioOffset}-out.ts");
        var r = FFmpegCli.Run("sh", ["-c", $"dotnet '{Cli}' run -i pipe:0 --input-format mpegts --analyze-duration 500ms -o '{output}' --key '{PrivateKey}' < '{input}'"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        var given = Probe.Packets(input);
        var written = Probe.Packets(output);
        Assert.Multiple(() =>
        {
            Assert.That(written.Select(p => p.Stream).Distinct().Count(), Is.EqualTo(secondAudioOffset is null ? 2 : 3), "every stream written");
            foreach (var stream in secondAudioOffset is null ? new[] { 0, 1 } : [0, 1, 2])
                Assert.That(written.Where(p => p.Stream == stream).Select(p => (p.Pts, p.Dts)), Is.EqualTo(given.Where(p => p.Stream == stream).Select(p => (p.Pts, p.Dts))),
                    $"stream #{stream}: every packet, with the timestamps it came with");
            Assert.That(written.Count(p => p.Stream == 1), Is.GreaterThan(250), "6 s of AAC at 48 kHz");
            Assert.That(r.StdErr, Does.Not.Contain("discontinuity"));
            Assert.That(r.StdErr, Does.Contain($"{given.Count} packets written (").And.Contain(" 0 packets skipped, 0 dropped;"), "the summary: every packet read was written");
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
            // Timestamps, size and checksum of each audio packet; not the side data: FFmpeg's TS demuxer tags each PES's
            // first frame with its stream id, and the output's PES hold one frame each (libavformat's default max_delay, where
            // ffmpeg's -muxdelay 0.7 packs several).
            static IEnumerable<string> Audio(string path) => FFmpegCli.AudioPacketMd5(path).Select(l => string.Join(',', l.Split(',').Take(6)));
            Assert.That(Audio(output), Is.EqualTo(Audio(input)));
        });
    }

    // H12 variant (fresh tester, 2026-12-01): an FLV whose audio comes a second before the video, read with a 500 ms probe.
    // FFmpeg's FLV muxer writes the AVC sequence header at 0, so the demuxer announces the video stream within the probe,
    // but with no frame seen it has no picture size: the FLV and MP4 muxers refused the header ("dimensions not set", exit 1), TS took
    // it. Right value: every output format, exit 0, every packet written, the video decoded identical.
    [TestCase("flv")]
    [TestCase("mp4")]
    [TestCase("mpegts")]
    public void ShortAnalyzeDuration_FlvAudioFirst_VideoAnnouncedByMetadata_WaitsForItsFramesInEveryOutput(string format)
    {
        var input = AudioFirstFlv();
        var output = Path.Combine(Work, $"announced-late.{format}");
        var r = SeiInject("run", "-i", input, "-o", output, "--output-format", format, "--key", PrivateKey, "--analyze-duration", "500ms");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        Assert.Multiple(() =>
        {
            Assert.That(r.StdErr, Does.Contain($"waiting for the first frames of video stream #1 on {input} (audio came first"));
            Assert.That(r.StdErr, Does.Contain($"{Probe.Packets(input).Count} packets written (").And.Contain(" 0 packets skipped, 0 dropped;"), "every packet read was written");
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
        });
    }

    // The same file without its video frames (the sequence header kept): the stream is announced and never comes. A clear error naming it, not the
    // muxer's "Invalid argument".
    [Test]
    public void ShortAnalyzeDuration_VideoAnnouncedButNeverSent_FailsNamingTheStream()
    {
        var input = Path.Combine(Work, "announced-never.flv");
        File.WriteAllBytes(input, Pipeline.FieldMedia.FlvWithoutVideoFrames(File.ReadAllBytes(AudioFirstFlv())));
        var r = SeiInject("run", "-i", input, "-o", Path.Combine(Work, "announced-never-out.flv"), "--key", PrivateKey, "--analyze-duration", "500ms");
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(1), r.StdErr);
            Assert.That(r.StdErr, Does.Contain($"{input}: video stream #1 gave no picture size before the input ended (").And.Contain("0 of them its own"));
            Assert.That(r.StdErr, Does.Not.Contain("Invalid argument"));
        });
    }

    private static string AudioFirstFlv() => TestMedia.GetOrMake("h12-file-audio-first.flv", path => FFmpegCli.Ffmpeg(
        "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6", "-itsoffset", "1",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=5", "-map", "0:a", "-map", "1:v",
        "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac", "-f", "flv", path).EnsureSuccess("making the audio-first FLV"));

    // H14 as inspect sees it (fresh tester's remark: the summary never said that broken SEI was skipped). Before every
    // SEI NAL unit of an injected raw stream goes an encoder's broken one whose size runs past its end: every message is
    // still found and verified, and the summary counts what was skipped.
    [Test]
    public void Inspect_BrokenSeiBeforeOurs_FindsEveryMessage_AndTheSummaryCountsTheSkipped()
    {
        var raw = Path.Combine(Work, "h14-in.h264");
        FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=3", "-c:v", "libx264", "-f", "h264", "-y", raw).EnsureSuccess("the input");
        var injected = Path.Combine(Work, "h14-injected.h264");
        Assert.That(SeiInject("run", "-i", raw, "--input-format", "h264", "-o", injected, "--output-format", "h264", "--key", PrivateKey, "--heartbeat", "500ms").ExitCode, Is.EqualTo(0));
        byte[] seiStart = [0, 0, 1, 0x06, 0x05];
        byte[] broken = [0, 0, 1, 0x06, 0x05, 0xff, 0xff, 0x10, 0x41, 0x42, 0x80];
        var bytes = File.ReadAllBytes(injected);
        var withBroken = new List<byte>();
        var seiUnits = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes.AsSpan(i).StartsWith(seiStart))
            {
                withBroken.AddRange(broken);
                seiUnits++;
            }
            withBroken.Add(bytes[i]);
        }
        var corrupted = Path.Combine(Work, "h14-broken.h264");
        File.WriteAllBytes(corrupted, [.. withBroken]);
        var clean = SeiInject("inspect", injected, "--input-format", "h264", "--public-key", PublicKey);
        var r = SeiInject("inspect", corrupted, "--input-format", "h264", "--public-key", PublicKey);
        Assert.Multiple(() =>
        {
            Assert.That(seiUnits, Is.GreaterThanOrEqualTo(7), "x264's SEI and six heartbeats");
            Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
            Assert.That(r.StdErr, Does.Contain("6 message occurrence(s), 6 verified, 0 not verified;").And.Contain($"{seiUnits} malformed SEI NAL unit(s) or message(s) skipped"));
            Assert.That(clean.StdErr, Does.Contain("6 message occurrence(s), 6 verified, 0 not verified").And.Not.Contain("malformed"));
            Assert.That(r.StdOut, Is.EqualTo(clean.StdOut), "the same messages on the same frames");
        });
    }

    // H14 variant (fresh tester, 2026-12-01): an encoder's unit with an unreadable header (forbidden_zero_bit set, `86 05`)
    // before the slice of every access unit. The injector treated it as the end of the access unit's NAL units: no SEI was
    // spliced (0 carried SEI), both cues stayed pending, exit 0 without a word. FFmpeg's parser skips such a unit; so does
    // ours now. Right value: the cues delivered, every message found and verified, the decoded video as FFmpeg decodes
    // the input.
    [Test]
    public void Run_UnitWithAnUnreadableHeaderBeforeEverySlice_StillCarriesTheCues()
    {
        var raw = Path.Combine(Work, "unreadable-in.h264");
        FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=4", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
            "-f", "h264", "-y", raw).EnsureSuccess("the input");
        var bytes = File.ReadAllBytes(raw);
        var broken = new List<byte>();
        var inserted = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            // Before every slice NAL unit (types 1 and 5) that starts a picture (first_mb_in_slice 0: its first bit set).
            if (i + 4 < bytes.Length && bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 1 && (bytes[i + 3] & 0x1f) is 1 or 5 && (bytes[i + 4] & 0x80) != 0)
            {
                broken.AddRange([0, 0, 1, 0x86, 0x05, 0x01, 0x00, 0x80]);
                inserted++;
            }
            broken.Add(bytes[i]);
        }
        var input = Path.Combine(Work, "unreadable.h264");
        File.WriteAllBytes(input, [.. broken]);
        var schedule = Path.Combine(Work, "unreadable.yaml");
        File.WriteAllText(schedule, "{stream: field, cues: [{id: a, kind: custom, at: 1500ms}, {id: b, kind: interaction-start, at: 2500ms, duration: 1s}]}");
        var output = Path.Combine(Work, "unreadable-out.ts");
        var run = SeiInject("run", "-i", input, "--input-format", "h264", "-o", output, "--key", PrivateKey, "--schedule", schedule);
        var inspect = SeiInject("inspect", output, "--public-key", PublicKey, "--json");
        var ids = inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.GetProperty("id").ValueKind == JsonValueKind.String).Select(l => l.GetProperty("id").GetString()).Distinct().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(inserted, Is.EqualTo(100), "one broken unit per frame");
            Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
            Assert.That(run.StdErr, Does.Contain("cues pending 0,").And.Contain("delivered 2"));
            Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
            Assert.That(inspect.StdErr, Does.Contain("0 not verified"));
            Assert.That(ids, Is.EquivalentTo(new[] { "a", "b" }));
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(raw)), "decoded as the clean input");
        });
    }

    // Fresh tester (2026-12-01): 257 cues due at one moment aborted the run (exit 134, "holds 257 messages, 1 to 256
    // allowed"). One frame carries 256 entries; the rest ride the next frame. In format version 1 (one payload per
    // message) readers look at 16 payloads of an access unit: 20 cues at once left 4 refused unchecked on every frame
    // that carried them (inspect exit 5). Every cue is delivered once and every message verifies.
    [TestCase(300, "2", "off", 256, TestName = "Run_MoreCuesAtOneMomentThanOneFrameHolds_EveryCueDelivered_NoCrash")]
    [TestCase(20, "1", "frame", 16, TestName = "Run_FormatVersion1_TwentyCuesAtOneMoment_EveryMessageVerifies")]
    public void Run_MoreDueAtOneMomentThanAFrameHolds(int cues, string formatVersion, string heartbeat, int perFrame)
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var schedule = Path.Combine(Work, $"crowd-{cues}.yaml");
        File.WriteAllText(schedule, "{stream: crowd, cues: [" + string.Join(", ", Enumerable.Range(0, cues).Select(i => $"{{id: m{i}, kind: custom, at: 500ms}}")) + "]}");
        var output = Path.Combine(Work, $"crowd-{cues}.ts");
        var run = SeiInject("run", "-i", input, "-o", output, "--key", PrivateKey, "--schedule", schedule, "--repeat", "0", "--format-version", formatVersion, "--heartbeat", heartbeat);
        var inspect = SeiInject("inspect", output, "--public-key", PublicKey, "--json");
        var messages = inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var firsts = messages.Where(l => l.GetProperty("id").ValueKind == JsonValueKind.String && l.GetProperty("first").GetBoolean()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
            Assert.That(run.StdErr, Does.Contain($"delivered {cues},"));
            Assert.That(run.StdErr, Does.Contain("waited for a later one: more was due at once than one frame holds"), "the operator is told");
            Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
            Assert.That(inspect.StdErr, Does.Contain(" 0 not verified"));
            Assert.That(firsts.Select(l => l.GetProperty("id").GetString()).ToList(), Is.Unique.And.Count.EqualTo(cues));
            Assert.That(messages.GroupBy(l => l.GetProperty("frame").GetInt64()).Select(g => g.Count()), Is.All.LessThanOrEqualTo(perFrame), $"at most {perFrame} messages a frame");
        });
    }

    // Fresh tester: a piped input that ended while the output (a closed loopback port) never opened exited 0 after
    // dropping every packet. Nothing went out: exit 1, saying so, after the summary.
    [Test]
    public void Run_InputEndsBeforeTheOutputEverOpened_Exits1_NothingWritten()
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        var r = FFmpegCli.Run("sh", ["-c", $"dotnet '{Cli}' run -i pipe:0 --input-format mpegts -o rtmp://127.0.0.1:{port}/live/never --output-format flv --key '{PrivateKey}' < '{input}'"],
            TimeSpan.FromMinutes(2));
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(1), r.StdErr);
            Assert.That(r.StdErr, Does.Contain("no output was opened").And.Contain("the input ended before the output ever opened: nothing was written ("));
            Assert.That(r.StdErr.TrimEnd(), Does.EndWith("packets read and dropped)"), "the cause is the last word");
        });
    }

    // Fresh tester, bug 6: two injectors in a chain, the upstream one signing with key id 1 on every frame, the
    // downstream one with key id 2 and a cue. A key-2 reader refused every key-2 message (AccessUnitLimit: the
    // upstream version-2 payload, under a key it does not trust, had closed the access unit) and cue q never arrived.
    [Test]
    public void Inspect_ChainOfTwoInjectors_EachReaderVerifiesItsOwnKeysMessages()
    {
        var key2 = Path.Combine(Work, "chain2.key");
        var pub2 = Path.Combine(Work, "chain2.pub");
        Assert.That(SeiInject("keygen", "--private", key2, "--public", pub2, "--key-id", "2").ExitCode, Is.EqualTo(0));
        var schedule = Path.Combine(Work, "chain.yaml");
        File.WriteAllText(schedule, "{stream: field, cues: [{id: q, kind: custom, at: 1500ms}]}\n");
        var up = Path.Combine(Work, "chain-up.ts");
        var down = Path.Combine(Work, "chain-down.ts");
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        SeiInject("run", "-i", input, "-o", up, "--key", PrivateKey, "--heartbeat", "frame").EnsureSuccess("upstream run");
        SeiInject("run", "-i", up, "-o", down, "--key", key2, "--schedule", schedule).EnsureSuccess("downstream run");
        var downstream = SeiInject("inspect", down, "--public-key", pub2, "--json");
        var keys2 = JsonLines(downstream.StdOut).Where(o => o.TryGetProperty("key_id", out var k) && k.ValueKind == JsonValueKind.Number && k.GetInt32() == 2).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(keys2, Is.Not.Empty);
            Assert.That(keys2.Where(o => !o.GetProperty("verified").GetBoolean()).Select(o => o.GetProperty("error").GetString()), Is.Empty, "every key-2 message verifies");
            Assert.That(keys2.Any(o => o.GetProperty("id").ValueKind == JsonValueKind.String && o.GetProperty("id").GetString() == "q"), Is.True, "cue q reaches a key-2 reader");
            Assert.That(downstream.StdOut, Does.Not.Contain("AccessUnitLimit"));
        });
    }

    private static List<JsonElement> JsonLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    // Fresh tester, bug 4: `run -i same.ts -o same.ts` truncated the input, read nothing from it and exited 0 ("0
    // packets written"). Refused before anything is opened, exit 2, naming both; also through a symbolic link (of the
    // file or of its folder), a hard link (same device and inode) and FFmpeg's file: protocol.
    [TestCase("same", TestName = "Run_OutputIsTheInput_SamePath_Exits2_InputUntouched")]
    [TestCase("symlink", TestName = "Run_OutputIsTheInput_ThroughASymbolicLink_Exits2_InputUntouched")]
    [TestCase("folder-symlink", TestName = "Run_OutputIsTheInput_ThroughASymbolicLinkToItsFolder_Exits2_InputUntouched")]
    [TestCase("hardlink", TestName = "Run_OutputIsTheInput_ThroughAHardLink_Exits2_InputUntouched")]
    [TestCase("file-protocol", TestName = "Run_OutputIsTheInput_AsFileUrl_Exits2_InputUntouched")]
    public void Run_OutputIsTheInput_Exits2_InputUntouched(string how)
    {
        var folder = Path.Combine(Work, "same-" + how);
        Directory.CreateDirectory(folder);
        var input = Path.Combine(folder, "show.ts");
        File.Copy(TestMedia.Get(VideoProfile.H264Main, Container.MpegTs), input);
        var before = File.ReadAllBytes(input);
        var output = how switch
        {
            "same" => input,
            "symlink" => File.CreateSymbolicLink(Path.Combine(folder, "link.ts"), input).FullName,
            "folder-symlink" => Path.Combine(Directory.CreateSymbolicLink(Path.Combine(Work, "same-link-" + how), folder).FullName, "show.ts"),
            "hardlink" => HardLink(input, Path.Combine(folder, "hard.ts")),
            _ => "file:" + input,
        };
        var r = SeiInject("run", "-i", input, "-o", output, "--key", PrivateKey);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(2), r.StdErr);
            Assert.That(r.StdErr, Does.Contain($"-i {input} and -o {output} are the same file").And.Contain("would destroy the input"));
            Assert.That(r.StdErr, Does.Not.Contain("packets written"), "refused before anything was opened");
            Assert.That(File.ReadAllBytes(input), Is.EqualTo(before), "the input is untouched");
        });
    }

    private static string HardLink(string existing, string link)
    {
        FFmpegCli.Run("ln", [existing, link]).EnsureSuccess("ln");
        return link;
    }

    // Bug 4, second half: a file input that ends with no packet written (here an MP4 cut right after its moov: the
    // streams are known, no sample is there) made an empty output and exited 0. Nothing went out: exit 1, saying so.
    [Test]
    public void Run_FileInputEndsWithNoPacketWritten_Exits1()
    {
        var mp4 = Path.Combine(Work, "faststart.mp4");
        FFmpegCli.Ffmpeg("-v", "error", "-i", TestMedia.Get(VideoProfile.H264Main, Container.MpegTs), "-c", "copy", "-movflags", "+faststart", "-y", mp4).EnsureSuccess("the MP4");
        var bytes = File.ReadAllBytes(mp4);
        var mdat = bytes.AsSpan().IndexOf("mdat"u8) - 4;
        Assert.That(mdat, Is.GreaterThan(0));
        var cut = Path.Combine(Work, "moov-only.mp4");
        File.WriteAllBytes(cut, bytes[..mdat]);
        var r = SeiInject("run", "-i", cut, "-o", Path.Combine(Work, "moov-only-out.ts"), "--key", PrivateKey);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.EqualTo(1), r.StdErr);
            Assert.That(r.StdErr, Does.Contain("0 packets written").And.Contain("the input file ended with no packet written"));
        });
    }

    // Fresh tester, bug 7: `-i -`, `-o -` and `inspect -` opened files named "-". As for ffmpeg, - is stdin or stdout.
    [Test]
    public void Run_DashInputAndOutput_AreStdinAndStdout_EveryFrameKept_AndInspectDashReadsStdin()
    {
        var input = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs);
        var output = Path.Combine(Work, "dash-piped.ts");
        var r = FFmpegCli.Run("sh", ["-c", $"cd '{Work}' && dotnet '{Cli}' run -i - --input-format mpegts --analyze-duration 500ms -o - --output-format mpegts --key '{PrivateKey}' < '{input}' > '{output}'"]);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.StdErr);
        var inspected = FFmpegCli.Run("sh", ["-c", $"cd '{Work}' && dotnet '{Cli}' inspect - --public-key '{PublicKey}' < '{output}'"]);
        Assert.Multiple(() =>
        {
            Assert.That(FFmpegCli.VideoFrameMd5(output), Is.EqualTo(FFmpegCli.VideoFrameMd5(input)));
            Assert.That(File.Exists(Path.Combine(Work, "-")), Is.False, "no file named -");
            Assert.That(r.StdErr, Does.Contain("pipe:0 -> pipe:1"));
            Assert.That(inspected.ExitCode, Is.EqualTo(0), inspected.StdErr);
            Assert.That(inspected.StdOut, Does.Contain("heartbeat").And.Contain("verified"));
            Assert.That(inspected.StdErr, Does.Match(@"[1-9]\d* message occurrence\(s\), [1-9]\d* verified, 0 not verified"));
        });
    }

    [Test]
    public void Help_ListsTheVerbsAndTheExitCodes()
    {
        var r = SeiInject("--help");
        Assert.That(r.ExitCode, Is.EqualTo(0));
        Assert.That(r.StdOut, Does.Contain("run").And.Contain("keygen").And.Contain("inspect").And.Contain("Exit codes"));
        Assert.That(r.StdOut, Does.Contain("A URL of - is standard input"));
        var run = SeiInject("run", "--help").StdOut;
        Assert.That(run, Does.Contain("--heartbeat").And.Contain("frame").And.Contain("--schedule"));
        Assert.That(run, Does.Contain("- or pipe:0 (standard input)").And.Contain("- or pipe:1 (standard output)"));
        Assert.That(SeiInject("inspect", "--help").StdOut, Does.Contain("- or pipe:0 (standard input)"));
        // Durations read as the operator writes them (30s), never as a TimeSpan's 00:00:30.
        Assert.That(run, Does.Contain("Default 30s").And.Contain("Default 10s").And.Not.Contain("00:00"));
    }
}
