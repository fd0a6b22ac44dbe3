using System.Globalization;
using System.Text.Json;
using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Cli;

/// <summary>
/// Field case H6 with the real CLI and FFmpeg as the oracle: a start with a 10 s window closed by an interaction-end
/// (or a cancel) at 3 s. After the close's first delivery the start never rides again; the close rides the following
/// keyframes until the start's window ends (11 s); a reader joining at a middle keyframe sees the close, never an open
/// interaction.
/// </summary>
[NonParallelizable]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class ClosesEndToEndTests() : SeiInjectCliFixture("sei-inject-closes-", TimeSpan.FromMinutes(3))
{
    private string _input = null!;

    [OneTimeSetUp]
    public void MakeInput()
    {
        // 12 s, 25 fps, a keyframe every 2 s (closed GOPs, no scene cuts).
        _input = TestMedia.GetOrMake("h6-12s-gop2s.ts", path => FFmpegCli.Ffmpeg("-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
            "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "0",
            "-f", "mpegts", path).EnsureSuccess("making the H6 input"));
    }

    [TestCase("interaction-end")]
    [TestCase("cancel")]
    public void ACloseAt3s_StopsTheStartForGood_AndRidesEveryKeyframeUntilItsWindowEnds(string closeKind)
    {
        var output = Path.Combine(Work, $"h6-{closeKind}.ts");
        var audit = Path.Combine(Work, $"h6-{closeKind}.jsonl");
        var schedule = Path.Combine(Work, $"h6-{closeKind}.yaml");
        File.WriteAllText(schedule, $$"""
            stream: h6
            cues:
              - { id: quiz, kind: interaction-start, at: 1s, duration: 10s }
              - { id: quiz-close, kind: {{closeKind}}, closes: quiz, at: 3s }
            """);
        var run = SeiInject("run", "-i", _input, "-o", output, "--key", PrivateKey, "--schedule", schedule, "--heartbeat", "off", "--audit", audit);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        var inspect = SeiInject("inspect", output, "--public-key", PublicKey, "--json");
        Assert.That(inspect.ExitCode, Is.EqualTo(0), inspect.StdErr);
        var lines = inspect.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var starts = lines.Where(l => l.GetProperty("kind").GetString() == "interaction-start").ToList();
        var closes = lines.Where(l => l.GetProperty("kind").GetString() == closeKind).ToList();
        var packets = KeyframesAndPts(output);
        var origin = packets[0].PtsTime;
        var closedAt = closes.Min(l => l.GetProperty("frame").GetInt64());
        var closeFrames = closes.Select(l => l.GetProperty("frame").GetInt64()).ToHashSet();
        var keyframesAfter = packets.Select((p, i) => (p, i)).Where(x => x.p.Key && x.i > closedAt + 3).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(lines.Select(l => l.GetProperty("verified").GetBoolean()), Is.All.True);
            Assert.That(closes.Select(l => l.GetProperty("id").GetString()), Is.All.EqualTo("quiz"), "the close names the start");
            Assert.That(packets[(int)closedAt].PtsTime - origin, Is.EqualTo(3).Within(0.05), "the close goes out at 3 s");
            Assert.That(starts, Is.Not.Empty);
            Assert.That(starts.Where(l => l.GetProperty("frame").GetInt64() >= closedAt).Select(l => l.GetProperty("pts_time").GetDouble()), Is.Empty,
                "after the close's first delivery the start never rides again");
            Assert.That(keyframesAfter.Where(x => x.p.PtsTime - origin < 11).Select(x => closeFrames.Contains(x.i)), Is.All.True,
                "the close rides every keyframe until the start's window ends at 11 s");
            Assert.That(keyframesAfter.Count(x => x.p.PtsTime - origin < 11), Is.GreaterThanOrEqualTo(3), "keyframes at 5, 7, 9 s (and 11 s)");
            Assert.That(keyframesAfter.Where(x => x.p.PtsTime - origin >= 11 + 0.01).Select(x => closeFrames.Contains(x.i)), Is.All.False);
            Assert.That(run.StdErr, Does.Contain(closeKind == "cancel" ? "ended 1, expired 0, cancelled 1" : "ended 2, expired 0, cancelled 0"),
                "the summary counts the close: the start closed, the close's own window over at 11 s");
        });
        // The text listing says what the close's id is (a newcomer read it as a second cue called "quiz").
        var text = SeiInject("inspect", output, "--public-key", PublicKey).StdOut.Split('\n');
        Assert.That(text.Where(l => l.Contains($" {closeKind} ", StringComparison.Ordinal)), Is.Not.Empty.And.All.Match($"{closeKind} +closes quiz seq "));
        Assert.That(text.Where(l => l.Contains(" interaction-start ", StringComparison.Ordinal)), Is.Not.Empty.And.All.Match("interaction-start +quiz seq "));
        // A late joiner: a reader fed from the keyframe at 7 s sees the close, never the start.
        var joinAt = keyframesAfter.First(x => x.p.PtsTime - origin >= 7 - 0.01).i;
        var seen = ReadFrom(output, joinAt);
        Assert.Multiple(() =>
        {
            Assert.That(seen.Select(c => (c.Kind, c.CueId)), Does.Contain((closeKind == "cancel" ? MessageKind.Cancel : MessageKind.InteractionEnd, "quiz")));
            Assert.That(seen.Where(c => c.Kind == MessageKind.InteractionStart), Is.Empty, "a late joiner never opens the closed interaction");
        });
        // The audit log says the start was closed by the close, and a restart resends neither the start nor a stale close.
        var replay = CatEvening.SeiInjector.Live.AuditReplay.Load(audit);
        Assert.That(replay.Find("quiz")!.State, Is.EqualTo(closeKind == "cancel" ? CatEvening.SeiInjector.Live.AuditCueState.Cancelled : CatEvening.SeiInjector.Live.AuditCueState.Ended));
    }

    private static List<(double PtsTime, bool Key)> KeyframesAndPts(string path)
    {
        var r = FFmpegCli.Ffprobe("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "json", path).EnsureSuccess("ffprobe");
        return JsonDocument.Parse(r.StdOut).RootElement.GetProperty("packets").EnumerateArray()
            .Select(p => (double.Parse(p.GetProperty("pts_time").GetString()!, CultureInfo.InvariantCulture), p.GetProperty("flags").GetString()!.Contains('K')))
            .ToList();
    }

    // Feeds a CueReader the video packets from decode index 'first' on, as a viewer joining there would get them.
    private List<CueMessage> ReadFrom(string path, long first)
    {
        var keys = new KeyRing(VerificationKey.FromPem(File.ReadAllText(PublicKey)));
        using var input = MediaInput.Open(path, null, TimeSpan.FromSeconds(30));
        var video = VideoStreamDescription.Find(input);
        var reader = new CueReader(new MessageVerifier(keys, new VerifierOptions { MaxAge = TimeSpan.FromDays(1) }), video.Codec, video.Framing,
            new TimeBase(video.TimeBase.Numerator, video.TimeBase.Denominator));
        var cues = new List<CueMessage>();
        reader.CueReceived += (_, e) => cues.Add(e.Cue);
        using var packet = new Packet();
        long index = 0;
        for (var reads = 0; reads < 100_000; reads++)
        {
            var result = input.Read(packet);
            if (result == ReadResult.EndOfStream) break;
            if (result == ReadResult.TryAgain) continue;
            if (packet.StreamIndex == video.StreamIndex)
            {
                if (index++ >= first) reader.Feed(packet.Data, packet.Pts == Packet.NoTimestamp ? null : packet.Pts, packet.Dts == Packet.NoTimestamp ? null : packet.Dts);
            }
            packet.Unref();
        }
        return cues;
    }
}
