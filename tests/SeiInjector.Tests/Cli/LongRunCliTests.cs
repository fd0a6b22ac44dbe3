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
/// Field case H7 (issue 10, item 2): a 700 s run at 100 fps with a heartbeat on every frame and one schedule cue at
/// 690 s, through the real <c>sei-inject</c> at file speed. In format version 2 the cue verifies and fires at 690 s in a
/// reader fed from the start and in one joining at 600 s, and the audit log names its cue and transmission numbers;
/// in format version 1 (kept as an escape hatch) every reader refuses it, 69,000 numbers behind: the failure the
/// issue reported.
/// </summary>
[NonParallelizable]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class LongRunCliTests() : SeiInjectCliFixture("sei-inject-h7-", TimeSpan.FromMinutes(10))
{

    /// <summary>The recipe's clip: 64x64 x264 at 100 fps for 700 s (70,000 frames), MPEG-TS, keyframe every 2 s.</summary>
    private static string Clip() => TestMedia.GetOrMake("h7-64x64-100fps-700s.ts", path =>
        FFmpegCli.Run("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=100", "-t", "700",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "200", "-pix_fmt", "yuv420p", "-f", "mpegts", path], TimeSpan.FromMinutes(10))
            .EnsureSuccess("making the H7 clip"));

    [TestCase(2)]
    [TestCase(1)]
    public void FrameHeartbeats100Fps_CueAt690s_VerifiesInV2_FromTheStartAndJoiningAt600s(int formatVersion)
    {
        var schedule = Path.Combine(Work, "h7.yaml");
        File.WriteAllText(schedule, "stream: h7\ncues:\n  - id: late\n    kind: custom\n    at: 690s\n");
        var output = Path.Combine(Work, $"h7-v{formatVersion}.ts");
        var audit = Path.Combine(Work, $"h7-v{formatVersion}.jsonl");
        var run = SeiInject("run", "-i", Clip(), "-o", output, "--key", PrivateKey, "--schedule", schedule, "--heartbeat", "frame",
            "--format-version", formatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), "--audit", audit);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);

        using var key = VerificationKey.FromPem(File.ReadAllText(PublicKey));
        var fromStart = new Probe(key);
        var late = new Probe(key);
        long? firstPts = null;
        long frames = 0;
        using (var input = MediaInput.Open(output, null, TimeSpan.FromSeconds(30)))
        {
            var video = VideoStreamDescription.Find(input);
            Assert.That(video.TimeBase, Is.EqualTo(new Rational(1, 90_000)));
            using var packet = new Packet();
            while (input.Read(packet) == ReadResult.Packet)
            {
                if (packet.StreamIndex == video.StreamIndex)
                {
                    frames++;
                    firstPts ??= packet.Pts;
                    fromStart.Reader.Feed(packet.Data, packet.Pts, packet.Dts);
                    // A viewer joining at 600 s starts at the next keyframe, as a player does.
                    if (!late.Joined && packet.IsKeyframe && packet.Pts - firstPts >= 600L * 90_000) late.Joined = true;
                    if (late.Joined) late.Reader.Feed(packet.Data, packet.Pts, packet.Dts);
                }
                packet.Unref();
            }
        }
        Assert.That(frames, Is.EqualTo(70_000), "every frame of the clip went out");
        var target = firstPts!.Value + 690L * 90_000;

        if (formatVersion == 1)
        {
            Assert.Multiple(() =>
            {
                Assert.That(fromStart.Cues, Is.Empty, "v1: the cue's number was given at the start, 69,000 below the heartbeats");
                Assert.That(fromStart.Rejected, Has.Some.StartsWith("SequenceTooFarBehind"));
                Assert.That(late.Rejected, Has.Some.StartsWith("SequenceTooFarBehind"));
            });
            return;
        }

        var auditLines = File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var accepted = auditLines.Single(e => e.GetProperty("event").GetString() == "accepted" && e.GetProperty("id").GetString() == "late");
        var delivered = auditLines.Single(e => e.GetProperty("event").GetString() == "delivered" && e.GetProperty("id").GetString() == "late");
        Assert.Multiple(() =>
        {
            Assert.That(fromStart.Rejected, Is.Empty, "nothing refused from the start");
            Assert.That(late.Rejected, Is.Empty, "nothing refused joining at 600 s");
            Assert.That(fromStart.Cues.Select(c => (c.Cue.CueId, c.TargetPts)), Is.EqualTo(new[] { ("late", (long?)target) }), "fires at 690 s, from the start");
            Assert.That(late.Cues.Select(c => (c.Cue.CueId, c.TargetPts)), Is.EqualTo(new[] { ("late", (long?)target) }), "fires at 690 s, joining at 600 s");
            Assert.That(fromStart.Heartbeats, Is.EqualTo(70_000), "a verified heartbeat on every frame");
            Assert.That(fromStart.Cues[0].Cue.SequenceNumber, Is.EqualTo(accepted.GetProperty("seq").GetInt64()), "the audit log's cue number is the one on the wire");
            Assert.That(delivered.GetProperty("seq").GetInt64(), Is.EqualTo(fromStart.Cues[0].Cue.SequenceNumber));
            Assert.That(delivered.GetProperty("transmission_seq").GetInt64(), Is.EqualTo(fromStart.Cues[0].TransmissionSequenceNumber),
                "the audit log names the transmission number that carried the first delivery");
            Assert.That(delivered.GetProperty("pts").GetInt64(), Is.EqualTo(target));
        });
    }

    private sealed class Probe
    {
        public Probe(VerificationKey key)
        {
            // The run is read after it ends, faster than real time: neither the age limit nor the per-second
            // verification budget is what this test is about (the per-access-unit rules still apply).
            var verifier = new MessageVerifier(new KeyRing(key), new VerifierOptions
            {
                MaxAge = TimeSpan.FromDays(1), MaxVerificationsPerSecond = 1_000_000, VerificationBurst = 100_000_000,
            });
            Reader = new CueReader(verifier, SeiReader.Bitstream.VideoCodec.H264, SeiReader.Bitstream.NalFraming.AnnexB, new SeiReader.Client.TimeBase(1, 90_000));
            Reader.CueReceived += (_, e) => Cues.Add(e);
            Reader.HeartbeatReceived += (_, _) => Heartbeats++;
            Reader.MessageRejected += (_, e) => Rejected.Add($"{e.Reason}: {e.Detail}");
        }

        public CueReader Reader { get; }
        public bool Joined { get; set; }
        public List<CueReceivedEventArgs> Cues { get; } = [];
        public List<string> Rejected { get; } = [];
        public long Heartbeats { get; set; }
    }
}
