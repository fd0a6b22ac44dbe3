using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// What a client developer meets first (issue 15): a recording read later (replay mode), and a reader created with the
/// wrong NAL framing (a diagnostic in words instead of silence).
/// </summary>
public class FirstHourTests
{
    private static readonly SigningKey Key = TestKeys.Key1();
    private static readonly MessageSigner Signer = new(Key);

    private const long OneHourMicros = 3_600_000_000;

    [OneTimeTearDown]
    public void DisposeKey() => Key.Dispose();

    /// <summary>A real x264 clip whose packet 5 carries a cue and a heartbeat signed by an injector whose clock was an hour behind "now".</summary>
    private static (DemuxedClip Clip, List<byte[]> Packets) RecordingMadeAnHourAgo()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var issuedAt = TestKeys.Now - OneHourMicros;
        var packets = clip.Packets.Select((p, i) => i == 5
            ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB,
                Signer.Sign(TestKeys.Cue(seq: 1, issuedAt: issuedAt)), Signer.Sign(TestKeys.Heartbeat(seq: 2, issuedAt: issuedAt)))
            : p.Data).ToList();
        return (clip, packets);
    }

    private static (List<CueReceivedEventArgs> Cues, List<HeartbeatReceivedEventArgs> Heartbeats, List<MessageRejectedEventArgs> Rejected) Read(
        VerifierOptions options, DemuxedClip clip, List<byte[]> packets)
    {
        options.StreamIds.Add(TestKeys.StreamId);
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey), options), clip.Codec, NalFraming.AnnexB, clip.TimeBase,
            utcNowMicros: () => TestKeys.Now);
        var cues = new List<CueReceivedEventArgs>();
        var heartbeats = new List<HeartbeatReceivedEventArgs>();
        var rejected = new List<MessageRejectedEventArgs>();
        reader.CueReceived += (_, e) => cues.Add(e);
        reader.HeartbeatReceived += (_, e) => heartbeats.Add(e);
        reader.MessageRejected += (_, e) => rejected.Add(e);
        for (var i = 0; i < packets.Count; i++) reader.Feed(packets[i], clip.Packets[i].Pts, clip.Packets[i].Dts);
        return (cues, heartbeats, rejected);
    }

    [Test]
    public void RecordingMadeWithAClockAnHourBehind_IsRefusedAsIssuedTooLongAgo_ByTheLiveDefaults()
    {
        var (clip, packets) = RecordingMadeAnHourAgo();
        var (cues, heartbeats, rejected) = Read(new VerifierOptions(), clip, packets);
        Assert.Multiple(() =>
        {
            Assert.That(cues, Is.Empty);
            Assert.That(heartbeats, Is.Empty);
            Assert.That(rejected.Select(r => r.Reason), Is.EqualTo(new[] { RejectionReason.IssuedTooLongAgo, RejectionReason.IssuedTooLongAgo }));
            Assert.That(rejected[0].Detail, Does.Contain("issued 3600000 ms ago"));
        });
    }

    [Test]
    public void RecordingMadeWithAClockAnHourBehind_IsAccepted_InReplayMode()
    {
        var (clip, packets) = RecordingMadeAnHourAgo();
        var (cues, heartbeats, rejected) = Read(VerifierOptions.ForRecording(), clip, packets);
        Assert.Multiple(() =>
        {
            Assert.That(rejected, Is.Empty);
            Assert.That(cues, Has.Count.EqualTo(1));
            Assert.That(cues.Single().Cue.CueId, Is.EqualTo("poll-1"));
            Assert.That(cues.Single().CarrierPts, Is.EqualTo(clip.Packets[5].Pts));
            Assert.That(heartbeats, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void ReplayMode_StillRefusesForgedSignatures_OtherStreams_AndReplaysWithinOnePlayback()
    {
        using var stranger = TestKeys.Key2();
        var options = VerifierOptions.ForRecording();
        options.StreamIds.Add(TestKeys.StreamId);
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey), options);
        var old = TestKeys.Now - (400L * 24 * OneHourMicros);
        var genuine = Signer.Sign(TestKeys.Cue(seq: 5, issuedAt: old));
        Assert.Multiple(() =>
        {
            Assert.That(options.CheckIssuedAt, Is.False);
            Assert.That(verifier.Verify(genuine, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted), "signed 400 days ago");
            Assert.That(verifier.Verify(Signer.Sign(TestKeys.Cue(seq: 5, issuedAt: old, cueId: "poll-forged")), TestKeys.Now).Reason,
                Is.EqualTo(RejectionReason.ReplayedSequence), "a sequence number reused with other content");
            Assert.That(verifier.Verify(Signer.Sign(TestKeys.Cue(seq: 6, issuedAt: old, stream: "other")), TestKeys.Now).Reason, Is.EqualTo(RejectionReason.OtherStream));
            Assert.That(verifier.Verify(new MessageSigner(stranger).Sign(TestKeys.Cue(seq: 7, issuedAt: old)), TestKeys.Now).Reason,
                Is.EqualTo(RejectionReason.UnknownKeyId));
        });
    }

    private static IEnumerable<TestCaseData> WrongFramings()
    {
        yield return new TestCaseData(VideoProfile.H264Main, false, "Annex B stream (MPEG-TS, raw .h264/.h265) read as length-prefixed")
            .SetName("AnnexBStream_ReadAsLengthPrefixed_RaisesLikelyWrongFraming_H264");
        yield return new TestCaseData(VideoProfile.H265Main, false, "Annex B stream (MPEG-TS, raw .h264/.h265) read as length-prefixed")
            .SetName("AnnexBStream_ReadAsLengthPrefixed_RaisesLikelyWrongFraming_H265");
        yield return new TestCaseData(VideoProfile.H264Main, true, "length-prefixed stream (MP4, FLV, MKV: avcC/hvcC extradata) read as Annex B")
            .SetName("LengthPrefixedStream_ReadAsAnnexB_RaisesLikelyWrongFraming_H264");
    }

    [TestCaseSource(nameof(WrongFramings))]
    public void WrongFraming_RaisesOneDiagnosticSayingTheLikelyCause(VideoProfile profile, bool streamIsLengthPrefixed, string cause)
    {
        var clip = DemuxedClip.Load(profile);
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey));
        // The cue rides on packet 3: the wrong framing loses it, which is what the diagnostic explains.
        var packets = clip.Packets.Select((p, i) => i == 3 ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: 1))) : p.Data)
            .Select(d => streamIsLengthPrefixed ? DemuxedClip.ToLengthPrefixed(d, clip.Codec) : d).ToList();
        var reader = new CueReader(verifier, clip.Codec, streamIsLengthPrefixed ? NalFraming.AnnexB : NalFraming.LengthPrefixed4, clip.TimeBase,
            utcNowMicros: () => TestKeys.Now) { FramingDiagnosticPackets = 20 };
        var diagnostics = new List<StreamDiagnosticEventArgs>();
        var cues = 0;
        reader.DiagnosticRaised += (_, e) => diagnostics.Add(e);
        reader.CueReceived += (_, _) => cues++;
        for (var i = 0; i < packets.Count; i++)
        {
            reader.Feed(packets[i], clip.Packets[i].Pts, clip.Packets[i].Dts);
            if (i + 1 < reader.FramingDiagnosticPackets) Assert.That(diagnostics, Is.Empty, $"not before {reader.FramingDiagnosticPackets} packets (packet {i})");
        }
        Assert.Multiple(() =>
        {
            Assert.That(packets, Has.Count.GreaterThan(reader.FramingDiagnosticPackets * 2), "the clip is long enough to show it is raised once");
            Assert.That(cues, Is.Zero);
            Assert.That(diagnostics, Has.Count.EqualTo(1), "once per run of bad packets");
            Assert.That(diagnostics.Single().Diagnostic, Is.EqualTo(StreamDiagnostic.LikelyWrongFraming));
            Assert.That(diagnostics.Single().Packets, Is.EqualTo(reader.FramingDiagnosticPackets));
            Assert.That(diagnostics.Single().Message, Does.Contain(cause));
            Assert.That(reader.Diagnostic, Is.EqualTo(StreamDiagnostic.LikelyWrongFraming));
        });
    }

    [TestCase(VideoProfile.H264Main, false)]
    [TestCase(VideoProfile.H264Main, true)]
    [TestCase(VideoProfile.H265Main, false)]
    [TestCase(VideoProfile.H265Main, true)]
    public void RightFraming_RaisesNoDiagnostic_AndTheCueFires(VideoProfile profile, bool lengthPrefixed)
    {
        var clip = DemuxedClip.Load(profile);
        var options = new VerifierOptions();
        var reader = new CueReader(new MessageVerifier(new KeyRing(Key.PublicKey), options), clip.Codec,
            lengthPrefixed ? NalFraming.LengthPrefixed4 : NalFraming.AnnexB, clip.TimeBase, utcNowMicros: () => TestKeys.Now);
        var diagnostics = 0;
        var cues = 0;
        reader.DiagnosticRaised += (_, _) => diagnostics++;
        reader.CueReceived += (_, _) => cues++;
        for (var i = 0; i < clip.Packets.Count; i++)
        {
            var data = i == 3 ? DemuxedClip.Splice(clip.Packets[i].Data, clip.Codec, NalFraming.AnnexB, Signer.Sign(TestKeys.Cue(seq: 1))) : clip.Packets[i].Data;
            if (lengthPrefixed) data = DemuxedClip.ToLengthPrefixed(data, clip.Codec);
            reader.Feed(data, clip.Packets[i].Pts, clip.Packets[i].Dts);
        }
        Assert.Multiple(() =>
        {
            Assert.That(diagnostics, Is.Zero);
            Assert.That(reader.Diagnostic, Is.Null);
            Assert.That(cues, Is.EqualTo(1));
        });
    }

    [Test]
    public void FramingDiagnosticPackets_BelowOne_Throws() =>
        Assert.That(() => new CueReader(new MessageVerifier(new KeyRing()), VideoCodec.H264, NalFraming.AnnexB, TimeBase.Mpeg90kHz) { FramingDiagnosticPackets = 0 },
            Throws.TypeOf<ArgumentOutOfRangeException>());
}
