using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiInjector.Tests.Pipeline;

/// <summary>
/// Issue 10 (bounded reader work): <c>inspect</c> applies the per-access-unit rules of <c>CueReader</c>
/// (docs/sei-format.md, "Bounded reader work"): a second CatEvening payload beside a version-2 one, and anything after a
/// failed signature, is refused unchecked; a genuine version-1 access unit is read whole. Frames of a real x264 clip
/// carry hand-made SEI NAL units (the pipeline splices them), and the verdicts are read back with the real inspector.
/// </summary>
public class InspectAccessUnitRulesTests
{
    private const string StreamId = "rules";

    private sealed class PayloadsPerFrame(IReadOnlyList<byte[][]> frames) : IFrameSeiSource
    {
        private VideoStreamDescription _video = null!;

        public void Start(VideoStreamDescription video) => _video = video;

        public ReadOnlyMemory<byte> SeiFor(in VideoFrame frame)
        {
            if (frame.FrameIndex >= frames.Count) return ReadOnlyMemory<byte>.Empty;
            var payloads = frames[(int)frame.FrameIndex];
            var measure = SeiNalWriter.CreateMeasuring(_video.Codec, _video.Framing);
            foreach (var p in payloads) measure.WriteMessage(5, p);
            var nal = new byte[measure.Complete()];
            var writer = new SeiNalWriter(nal, _video.Codec, _video.Framing);
            foreach (var p in payloads) writer.WriteMessage(5, p);
            writer.Complete();
            return nal;
        }

        public void Delivered(in VideoFrame frame, ReadOnlySpan<byte> sei) { }

        public void NotCarried(in VideoFrame frame, string reason) { }

        public void Skipped(in VideoFrame frame) { }
    }

    [Test]
    public void Inspect_RefusesUncheckedWhatCueReaderRefuses_BesideAVersion2PayloadAndAfterAFailedSignature()
    {
        using var key = SigningKey.Generate(3);
        var signer = new MessageSigner(key);
        var now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        CueMessage Cue(long seq) => new(MessageKind.Custom, StreamId, seq, now, 0, "c" + seq, 0, 0, ReadOnlySpan<byte>.Empty);
        byte[] Bundle(long seq) => signer.Sign(new MessageBundle(StreamId, seq, now, [Cue(seq)]));
        var forged = signer.Sign(Cue(10));
        forged[^40] ^= 1;
        byte[][][] frames =
        [
            [Bundle(100), Bundle(101)],                       // frame 0: a second version-2 payload
            [forged, signer.Sign(Cue(11))],                   // frame 1: a genuine payload after a failed signature
            [signer.Sign(Cue(12)), signer.Sign(Cue(13))],     // frame 2: a genuine version-1 access unit, read whole
            [signer.Sign(Cue(14)), Bundle(102)],              // frame 3: a version-2 payload after a version-1 one
        ];
        var work = Path.Combine(Path.GetTempPath(), "inspect-rules-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var output = Path.Combine(work, "out.ts");
            new InjectionPipeline(new PipelineOptions { InputUrl = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs), OutputUrl = output },
                new PayloadsPerFrame(frames)).Run();
            var seen = new List<InspectedMessage>();
            new StreamInspector(key.PublicKey).Inspect(output, null, TimeSpan.FromSeconds(30), seen.Add);
            var verdicts = seen.OrderBy(m => m.FrameIndex)
                .Select(m => $"{m.FrameIndex} v{m.FormatVersion} {(m.Verified ? "verified" : m.Error!.Split(':')[0])}")
                .ToArray();
            Assert.That(verdicts, Is.EqualTo(new[]
            {
                "0 v2 verified", "0 v2 AccessUnitLimit",
                "1 v1 BadSignature", "1 v1 AccessUnitLimit",
                "2 v1 verified", "2 v1 verified",
                "3 v1 verified", "3 v2 AccessUnitLimit",
            }));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // Field case H10 in the text output: an access unit with hundreds of bogus payloads prints the first refusal of each
    // reason in full and one line with the count of the rest, per access unit; --json keeps one object per message.
    [Test]
    public void InspectCli_ManyRefusedPayloadsInOneAccessUnit_TextCollapsesEachRunToOneCountedLine_JsonKeepsOneObjectPerMessage()
    {
        const int Bogus = 1200;
        using var key = SigningKey.Generate(3);
        var signer = new MessageSigner(key);
        var now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
        CueMessage Cue(long seq) => new(MessageKind.Custom, StreamId, seq, now, 0, "c" + seq, 0, 0, ReadOnlySpan<byte>.Empty);
        byte[][] Flood(long seq)
        {
            var forged = signer.Sign(Cue(seq + 1));
            forged[^40] ^= 1;
            return [signer.Sign(Cue(seq)), .. Enumerable.Repeat(forged, Bogus)];
        }
        byte[][][] frames = [Flood(10), Flood(20), [signer.Sign(Cue(30))]];
        var work = Path.Combine(Path.GetTempPath(), "inspect-flood-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var output = Path.Combine(work, "out.ts");
            var publicKey = Path.Combine(work, "key.pub");
            File.WriteAllText(publicKey, key.PublicKey.ExportPem());
            new InjectionPipeline(new PipelineOptions { InputUrl = TestMedia.Get(VideoProfile.H264Main, Container.MpegTs), OutputUrl = output },
                new PayloadsPerFrame(frames)).Run();
            var cli = Path.Combine(AppContext.BaseDirectory, "sei-inject.dll");
            var text = FFmpegCli.Run("dotnet", [cli, "inspect", output, "--public-key", publicKey], TimeSpan.FromMinutes(2));
            var json = FFmpegCli.Run("dotnet", [cli, "inspect", output, "--public-key", publicKey, "--json"], TimeSpan.FromMinutes(2));
            var lines = text.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string[] Verdicts(int frame) => lines.Where(l => l.StartsWith($"frame {frame,6} ", StringComparison.Ordinal))
                .Select(l => l.Contains("more messages refused", StringComparison.Ordinal) ? l[l.IndexOf('…')..]
                    : l.Contains("NOT verified", StringComparison.Ordinal) ? l[l.IndexOf("NOT verified", StringComparison.Ordinal)..].Split(':')[0] : "verified")
                .ToArray();
            var objects = json.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(text.ExitCode, Is.EqualTo(5), "refused messages: exit 5\n" + text.StdErr);
                Assert.That(Verdicts(0), Is.EqualTo(new[]
                {
                    "verified", "NOT verified (BadSignature", "NOT verified (AccessUnitLimit", "… 1,198 more messages refused: AccessUnitLimit",
                }), text.StdOut);
                Assert.That(Verdicts(1), Is.EqualTo(Verdicts(0)), "a run ends with its access unit");
                Assert.That(Verdicts(2), Is.EqualTo(new[] { "verified" }));
                Assert.That(lines, Has.Length.EqualTo(9), "nine lines for 2,403 messages");
                Assert.That(text.StdErr, Does.Contain($"{2 * (Bogus + 1) + 1} message occurrence(s), 3 verified, {2 * Bogus} not verified"));
                Assert.That(json.ExitCode, Is.EqualTo(5), json.StdErr);
                Assert.That(objects, Has.Count.EqualTo(2 * (Bogus + 1) + 1), "--json: one object per message");
                Assert.That(objects.Count(o => o.GetProperty("frame").GetInt64() == 0 && o.GetProperty("error").GetString() is { } e && e.StartsWith("AccessUnitLimit", StringComparison.Ordinal)),
                    Is.EqualTo(Bogus - 1));
            });
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
