using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Messages;

/// <summary>Format version 2: everything due on a frame in one signed payload (docs/sei-format.md §3.2).</summary>
public class MessageBundleTests
{
    private const long Seq = 1_795_888_800_000;

    private static MessageBundle Frame(long seq, long issuedAt, params CatEveningMessage[] messages) => new(TestKeys.StreamId, seq, issuedAt, messages);

    private static CueMessage Cue(long cueSeq, string id, long issuedAt, long offset = 0, string app = "") =>
        new(MessageKind.InteractionStart, TestKeys.StreamId, cueSeq, issuedAt, offset, id, 30 * 90_000, 0, System.Text.Encoding.UTF8.GetBytes(app));

    private static HeartbeatMessage Beat(long seq, long issuedAt) => new(TestKeys.StreamId, seq, issuedAt, issuedAt, 1000, 10);

    internal static MessageBundle RandomBundle(Random rng)
    {
        var stream = rng.Next(2) == 0 ? "s" : new string('x', 64);
        var seq = rng.NextInt64(0, CatEveningSei.MaxSafeInteger + 1);
        var issued = rng.NextInt64(-CatEveningSei.MaxSafeInteger, CatEveningSei.MaxSafeInteger + 1);
        var messages = new List<CatEveningMessage>();
        var count = rng.Next(1, 6);
        var kinds = new[] { MessageKind.InteractionStart, MessageKind.InteractionEnd, MessageKind.Cancel, MessageKind.Custom };
        for (var i = 0; i < count; i++)
        {
            var app = new byte[rng.Next(3) == 0 ? 1024 : rng.Next(0, 40)];
            rng.NextBytes(app);
            messages.Add(new CueMessage(kinds[rng.Next(4)], stream, seq + 1 + i, issued, rng.NextInt64(-CatEveningSei.MaxSafeInteger, CatEveningSei.MaxSafeInteger),
                "cue-" + i, rng.NextInt64(0, CatEveningSei.MaxSafeInteger), rng.NextInt64(0, 1L << 40), app));
        }
        if (rng.Next(2) == 0)
            messages.Add(new HeartbeatMessage(stream, seq, issued, rng.NextInt64(-CatEveningSei.MaxSafeInteger, CatEveningSei.MaxSafeInteger), rng.NextInt64(0, 1L << 33),
                rng.NextInt64(0, CatEveningSei.MaxSafeInteger), rng.Next(2) == 0 ? null : "time:123"));
        return new MessageBundle(stream, seq, issued, messages);
    }

    [Test]
    public void Property_RandomBundles_RoundTripExactly_AndEveryTruncationIsMalformed()
    {
        var rng = new Random(10);
        for (var i = 0; i < 300; i++)
        {
            var b = RandomBundle(rng);
            var bytes = MessageBody.ToBytes(b);
            Assert.That(MessageBody.TryReadBundle(bytes, out var back, out var error), Is.True, error);
            Assert.That(back, Is.EqualTo(b));
            var cut = rng.Next(bytes.Length);
            Assert.That(MessageBody.TryReadBundle(bytes.AsMemory(0, cut), out _, out error), Is.False, $"cut at {cut}");
            Assert.That(error, Does.StartWith("malformed body at body offset"));
        }
    }

    [Test]
    public void Property_RandomBytesAsABundle_NeverThrow()
    {
        var rng = new Random(11);
        var valid = MessageBody.ToBytes(RandomBundle(rng));
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = (byte[])valid.Clone();
            for (var flips = rng.Next(1, 4); flips > 0; flips--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            Assert.DoesNotThrow(() => MessageBody.TryReadBundle(bytes, out _, out _));
        }
    }

    [Test]
    public void Bundle_NamesTheFieldAndEntryAtFault()
    {
        var b = Frame(Seq, TestKeys.Now, Cue(7, "poll", TestKeys.Now), Beat(Seq, TestKeys.Now));
        var bytes = MessageBody.ToBytes(b);
        // The cue id "poll" (a4 70 6f 6c 6c): make its length byte a bin header instead of a str.
        var at = bytes.AsSpan().IndexOf(new byte[] { 0xa4, (byte)'p', (byte)'o', (byte)'l', (byte)'l' });
        Assert.That(at, Is.GreaterThan(0));
        bytes[at] = 0xc4;
        Assert.That(MessageBody.TryReadBundle(bytes, out _, out var error), Is.False);
        Assert.That(error, Does.Contain("field 3 (entries) entry 0 field 3 (cue_id)"));
    }

    [Test]
    public void Bundle_RefusesWhatTheFormatForbids()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Frame(Seq, TestKeys.Now), Throws.ArgumentException, "no entries");
            Assert.That(() => Frame(1L << 53, TestKeys.Now, Beat(1L << 53, TestKeys.Now)), Throws.InstanceOf<ArgumentOutOfRangeException>(), "seq beyond 2^53 - 1");
            Assert.That(() => Frame(Seq, TestKeys.Now, Beat(Seq, TestKeys.Now), Beat(Seq, TestKeys.Now)), Throws.ArgumentException, "two heartbeats");
            Assert.That(() => Frame(Seq, TestKeys.Now, Beat(Seq + 1, TestKeys.Now)), Throws.ArgumentException, "heartbeat with another number");
            Assert.That(() => Frame(Seq, TestKeys.Now, Cue(7, "a", TestKeys.Now), Cue(7, "b", TestKeys.Now)), Throws.ArgumentException, "one cue number twice");
            Assert.That(() => Frame(Seq, TestKeys.Now, Cue(7, "a", TestKeys.Now + 1)), Throws.ArgumentException, "another issued-at");
        });
    }

    [Test]
    public void SignedBundle_OneVerification_ReportsEveryEntry_ThenRepeatsOnce()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var verifier = new MessageVerifier(new KeyRing(key.PublicKey));
        var poll = Cue(42, "poll", TestKeys.Now, app: "q1");
        var first = signer.Sign(Frame(Seq, TestKeys.Now, poll, Cue(43, "confetti", TestKeys.Now), Beat(Seq, TestKeys.Now)));
        var r1 = verifier.Verify(first, TestKeys.Now);
        Assert.That(first[CatEveningSei.VersionOffset], Is.EqualTo(2));
        Assert.That(r1.Status, Is.EqualTo(VerificationStatus.Accepted), r1.ToString());
        Assert.That(r1.NewMessages.Select(m => m.Kind), Is.EqualTo(new[] { MessageKind.InteractionStart, MessageKind.InteractionStart, MessageKind.Heartbeat }));
        Assert.That(r1.TransmissionSequenceNumber, Is.EqualTo(Seq));

        var later = TestKeys.Now + 2_000_000;
        var repeat = signer.Sign(Frame(Seq + 200, later, poll.ForCarrier(-180_000, later), Beat(Seq + 200, later)));
        var r2 = verifier.Verify(repeat, later);
        Assert.That(r2.Status, Is.EqualTo(VerificationStatus.Accepted));
        Assert.That(r2.NewMessages, Has.Count.EqualTo(1).And.All.InstanceOf<HeartbeatMessage>(), "the carousel repeat is not reported again");
        Assert.That(verifier.Verify(repeat, later).Status, Is.EqualTo(VerificationStatus.Repeat), "the same bytes again");

        var lie = signer.Sign(Frame(Seq + 201, later, Cue(42, "poll", later, app: "q2")));
        Assert.That(verifier.Verify(lie, later).Reason, Is.EqualTo(RejectionReason.ReplayedSequence), "cue 42 with other content");
        var reused = signer.Sign(Frame(Seq + 200, later, poll.ForCarrier(-180_000, later), Beat(Seq + 200, later)));
        Assert.That(verifier.Verify(reused, later).Status, Is.EqualTo(VerificationStatus.Repeat), "same number, same content, new signature: a repeat");
        var other = signer.Sign(Frame(Seq + 200, later, Cue(99, "x", later)));
        Assert.That(verifier.Verify(other, later).Reason, Is.EqualTo(RejectionReason.ReplayedSequence), "same transmission number, other content");
    }

    [Test]
    public void Verify_IssuedBeyondTheClockSkew_IsIssuedInFuture_WithinItAccepted()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var verifier = new MessageVerifier(new KeyRing(key.PublicKey));
        var ahead = TestKeys.Now + 119_000_000;
        Assert.That(verifier.Verify(signer.Sign(Frame(Seq, ahead, Beat(Seq, ahead))), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        var tooFar = TestKeys.Now + 121_000_000;
        var r = verifier.Verify(signer.Sign(Frame(Seq + 1, tooFar, Beat(Seq + 1, tooFar))), TestKeys.Now);
        Assert.That(r.Reason, Is.EqualTo(RejectionReason.IssuedInFuture), r.ToString());
        Assert.That(r.Detail, Does.Contain("121000 ms after"));
        var v1 = verifier.Verify(signer.Sign(TestKeys.Cue(seq: Seq + 2, issuedAt: tooFar)), TestKeys.Now);
        Assert.That(v1.Reason, Is.EqualTo(RejectionReason.IssuedInFuture), "the same rule for version 1");
    }

    [Test]
    public void CueReader_ReadsVersion1AndVersion2_InOneStream()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var reader = new CueReader(new MessageVerifier(new KeyRing(key.PublicKey)), VideoCodec.H264, NalFraming.AnnexB, TimeBase.Mpeg90kHz, utcNowMicros: () => TestKeys.Now);
        var cues = new List<(string Id, long? Target, long Transmission)>();
        var beats = 0;
        var rejected = new List<string>();
        reader.CueReceived += (_, e) => cues.Add((e.Cue.CueId, e.TargetPts, e.TransmissionSequenceNumber));
        reader.HeartbeatReceived += (_, _) => beats++;
        reader.MessageRejected += (_, e) => rejected.Add(e.ToString()!);
        byte[] Nal(params byte[][] payloads) => DemuxedClipNal(payloads);

        // Version 1 (an injector not yet updated): one payload per message.
        reader.Feed(Nal(signer.Sign(TestKeys.Cue(seq: Seq, cueId: "old")), signer.Sign(TestKeys.Heartbeat(seq: Seq + 1))), 90_000);
        // Version 2 after a restart: one payload, two cues on one frame plus the heartbeat.
        reader.Feed(Nal(signer.Sign(Frame(Seq + 10, TestKeys.Now, Cue(Seq + 2, "a", TestKeys.Now), Cue(Seq + 3, "b", TestKeys.Now, 3003), Beat(Seq + 10, TestKeys.Now)))), 180_000);
        reader.Feed(Nal(signer.Sign(Frame(Seq + 11, TestKeys.Now, Cue(Seq + 2, "a", TestKeys.Now, -3000), Beat(Seq + 11, TestKeys.Now)))), 183_000);
        Assert.Multiple(() =>
        {
            Assert.That(rejected, Is.Empty);
            Assert.That(cues, Is.EqualTo(new[] { ("old", (long?)90_000, Seq), ("a", (long?)180_000, Seq + 10), ("b", (long?)183_003, Seq + 10) }));
            Assert.That(beats, Is.EqualTo(3));
            Assert.That(reader.Statistics.Repeats, Is.EqualTo(1), "the repeat of 'a'");
            Assert.That(reader.Statistics.Accepted, Is.EqualTo(6));
        });
    }

    private static byte[] DemuxedClipNal(byte[][] payloads)
    {
        var measure = SeiNalWriter.CreateMeasuring(VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) measure.WriteMessage(5, p);
        var nal = new byte[measure.Complete()];
        var writer = new SeiNalWriter(nal, VideoCodec.H264, NalFraming.AnnexB);
        foreach (var p in payloads) writer.WriteMessage(5, p);
        writer.Complete();
        return nal;
    }
}
