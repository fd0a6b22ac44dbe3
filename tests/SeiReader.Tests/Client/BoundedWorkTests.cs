using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>Issue 10, H10: the work one access unit can cause a reader is bounded, and so is the work per second.</summary>
public class BoundedWorkTests
{
    private static readonly SigningKey Key = TestKeys.Key1();
    private static readonly MessageSigner Signer = new(Key);

    [OneTimeTearDown]
    public void DisposeKey() => Key.Dispose();

    /// <summary>The H10 recipe: a 1 MB access unit (a real x264 frame plus one SEI NAL) holding about 6,000 copies of a
    /// real payload, each with other signature bytes, under the trusted key id.</summary>
    internal static byte[] HostileAccessUnit(byte[] frame, VideoCodec codec, byte[] genuine, int seed, int copies = 6000)
    {
        var random = new Random(seed);
        var payloads = new byte[copies][];
        for (var i = 0; i < copies; i++)
        {
            var p = (byte[])genuine.Clone();
            random.NextBytes(p.AsSpan(p.Length - 64));
            payloads[i] = p;
        }
        return DemuxedClip.Splice(frame, codec, NalFraming.AnnexB, payloads);
    }

    private static (CueReader Reader, MessageVerifier Verifier) Reader(DemuxedClip clip, Action<VerifierOptions>? configure = null, Func<long>? now = null)
    {
        var options = new VerifierOptions();
        configure?.Invoke(options);
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey), options);
        return (new CueReader(verifier, clip.Codec, NalFraming.AnnexB, clip.TimeBase, utcNowMicros: now ?? (() => TestKeys.Now)), verifier);
    }

    [Test]
    public void Feed_HostileMegabyteAccessUnit_CostsAtMostOneVerification_EachTimeItIsFed()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[4];
        var hostile = HostileAccessUnit(p.Data, clip.Codec, Signer.Sign(TestKeys.Cue(seq: 3)), seed: 10);
        Assert.That(hostile, Has.Length.GreaterThan(900_000));
        var (reader, verifier) = Reader(clip);
        var rejected = 0;
        reader.MessageRejected += (_, _) => rejected++;
        for (var feed = 1; feed <= 5; feed++)
        {
            reader.Feed(hostile, p.Pts, p.Dts);
            Assert.That(verifier.SignatureVerifications, Is.LessThanOrEqualTo(feed), $"after feed {feed}");
        }
        Assert.Multiple(() =>
        {
            Assert.That(reader.Statistics.CatEveningPayloads, Is.LessThanOrEqualTo(5 * 16),
                "the walk stops at the first forged payload whose signature fails (copies refused for a high s cost no verification and do not stop it; at most 16 are looked at): the rest of the 6,000 are not even read");
            Assert.That(reader.Statistics.SkippedByAccessUnitRules, Is.Zero);
            Assert.That(reader.Statistics.Accepted, Is.Zero);
            Assert.That(rejected, Is.LessThanOrEqualTo(5), "no flood of events either");
            Assert.That(reader.Statistics.SignatureVerifications, Is.EqualTo(verifier.SignatureVerifications));
        });
    }

    [Test]
    public void Feed_Version1AccessUnitWithSeveralGenuineMessages_ReadsThemAll()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[6];
        var payloads = Enumerable.Range(0, 6).Select(i => Signer.Sign(TestKeys.Cue(seq: 20 + i, cueId: "cue-" + i))).Append(Signer.Sign(TestKeys.Heartbeat(seq: 30))).ToArray();
        var (reader, _) = Reader(clip);
        var got = new List<long>();
        reader.CueReceived += (_, e) => got.Add(e.Cue.SequenceNumber);
        reader.HeartbeatReceived += (_, e) => got.Add(e.Heartbeat.SequenceNumber);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, payloads), p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(got, Is.EqualTo(new long[] { 20, 21, 22, 23, 24, 25, 30 }));
            Assert.That(reader.Statistics.SignatureVerifications, Is.EqualTo(7));
            Assert.That(reader.Statistics.SkippedByAccessUnitRules, Is.Zero);
        });
    }

    [Test]
    public void Feed_GenuineMessageAfterAForgedOneInTheSameAccessUnit_IsSkippedUnchecked()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[6];
        var forged = Signer.Sign(TestKeys.Cue(seq: 1));
        forged[^40] ^= 1;
        var (reader, verifier) = Reader(clip);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, forged, Signer.Sign(TestKeys.Heartbeat(seq: 2))), p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(verifier.SignatureVerifications, Is.EqualTo(1));
            Assert.That(reader.Statistics.CatEveningPayloads, Is.EqualTo(1), "the walk stops after the failed signature");
            Assert.That(reader.Statistics.Accepted, Is.Zero);
        });
    }

    [Test]
    public void Feed_MoreThanTheMaximumPayloadsInOneAccessUnit_ReadsTheFirstOnes()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[6];
        var payloads = Enumerable.Range(0, 20).Select(i => Signer.Sign(TestKeys.Cue(seq: 100 + i, cueId: "c" + i))).ToArray();
        var (reader, _) = Reader(clip, o => o.MaxPayloadsPerAccessUnit = 16);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, payloads), p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(reader.Statistics.Accepted, Is.EqualTo(16));
            Assert.That(reader.Statistics.CatEveningPayloads, Is.EqualTo(16), "the walk stops at the last payload allowed");
        });
    }

    /// <summary>Two injectors in a chain: the upstream one's version-2 payload (a key id this reader does not trust)
    /// comes first in every access unit; the downstream one's, under the trusted key, must still be read.</summary>
    [Test]
    public void Feed_Version2PayloadUnderAnUntrustedKeyBeforeTheTrustedOne_ReadsTheTrustedOne()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[6];
        using var upstreamKey = TestKeys.Key2();
        var upstream = new MessageSigner(upstreamKey).Sign(new MessageBundle(TestKeys.StreamId, 7, TestKeys.Now, [TestKeys.Heartbeat(seq: 7)]));
        var trusted = Signer.Sign(new MessageBundle(TestKeys.StreamId, 2, TestKeys.Now, [TestKeys.Cue(seq: 5, cueId: "q"), TestKeys.Heartbeat(seq: 2)]));
        var (reader, verifier) = Reader(clip);
        var cues = new List<string>();
        var reasons = new List<RejectionReason>();
        reader.CueReceived += (_, e) => cues.Add(e.Cue.CueId);
        reader.MessageRejected += (_, e) => reasons.Add(e.Reason);
        reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, upstream, trusted), p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(cues, Is.EqualTo(new[] { "q" }));
            Assert.That(reasons, Is.EqualTo(new[] { RejectionReason.UnknownKeyId }));
            Assert.That(reader.Statistics.SkippedByAccessUnitRules, Is.Zero);
            Assert.That(verifier.SignatureVerifications, Is.EqualTo(1), "the untrusted payload costs no verification");
        });
    }

    /// <summary>H10 with a key id the reader does not trust: such payloads cost no verification and do not end the
    /// access unit, so the payload maximum is what bounds how many are looked at.</summary>
    [Test]
    public void Feed_HostileMegabyteAccessUnitUnderAnUntrustedKey_LooksAtTheMaximumOnly_WithoutVerifying()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[4];
        using var untrusted = TestKeys.Key2();
        var genuine = new MessageSigner(untrusted).Sign(new MessageBundle(TestKeys.StreamId, 3, TestKeys.Now, [TestKeys.Cue(seq: 3)]));
        var hostile = HostileAccessUnit(p.Data, clip.Codec, genuine, seed: 11);
        Assert.That(hostile, Has.Length.GreaterThan(900_000));
        var (reader, verifier) = Reader(clip);
        for (var feed = 1; feed <= 3; feed++) reader.Feed(hostile, p.Pts, p.Dts);
        Assert.Multiple(() =>
        {
            Assert.That(verifier.SignatureVerifications, Is.Zero);
            Assert.That(reader.Statistics.CatEveningPayloads, Is.EqualTo(3 * 16), "16 looked at per feed; the walk stops at the last one allowed");
            Assert.That(reader.Statistics.Accepted, Is.Zero);
        });
    }

    [Test]
    public void Verify_Version2PayloadRefusedBeforeTheSignatureStep_DoesNotCloseTheAccessUnit()
    {
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey));
        using var untrusted = TestKeys.Key2();
        var unknownKey = new MessageSigner(untrusted).Sign(new MessageBundle(TestKeys.StreamId, 9, TestKeys.Now, [TestKeys.Heartbeat(seq: 9)]));
        var highS = Signer.Sign(new MessageBundle(TestKeys.StreamId, 8, TestKeys.Now, [TestKeys.Heartbeat(seq: 8)]));
        highS.AsSpan(highS.Length - 32).Fill(0xFF);
        var trusted = Signer.Sign(new MessageBundle(TestKeys.StreamId, 2, TestKeys.Now, [TestKeys.Cue(seq: 5, cueId: "y")]));

        var scope = default(AccessUnitScope);
        var first = verifier.Verify(unknownKey, TestKeys.Now, ref scope);
        var second = verifier.Verify(highS, TestKeys.Now, ref scope);
        var openAfterRefusals = !scope.IsClosed;
        var third = verifier.Verify(trusted, TestKeys.Now, ref scope);
        var fourth = verifier.Verify(unknownKey, TestKeys.Now, ref scope);
        Assert.Multiple(() =>
        {
            Assert.That(first.Reason, Is.EqualTo(RejectionReason.UnknownKeyId));
            Assert.That(second.Reason, Is.EqualTo(RejectionReason.NonCanonicalSignature));
            Assert.That(openAfterRefusals, Is.True);
            Assert.That(third.Status, Is.EqualTo(VerificationStatus.Accepted));
            Assert.That(fourth.Reason, Is.EqualTo(RejectionReason.AccessUnitLimit), "a held version-2 payload still closes the access unit");
            Assert.That(scope.SignatureVerifications, Is.EqualTo(1));
        });
    }

    [Test]
    public void Verify_PayloadBesideAVersion2PayloadInOneAccessUnit_IsRefusedWithoutVerifying()
    {
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey));
        var v1 = Signer.Sign(TestKeys.Cue(seq: 1));
        var v2 = Signer.Sign(new MessageBundle(TestKeys.StreamId, 2, TestKeys.Now, [TestKeys.Cue(seq: 5, cueId: "y"), TestKeys.Heartbeat(seq: 2)]));

        var scope = default(AccessUnitScope);
        verifier.Verify(v2, TestKeys.Now, ref scope);
        var after = verifier.Verify(v1, TestKeys.Now, ref scope);

        var other = default(AccessUnitScope);
        var first = verifier.Verify(Signer.Sign(TestKeys.Cue(seq: 3, cueId: "x")), TestKeys.Now, ref other);
        var second = verifier.Verify(v2, TestKeys.Now, ref other);
        Assert.Multiple(() =>
        {
            Assert.That(after.Reason, Is.EqualTo(RejectionReason.AccessUnitLimit));
            Assert.That(first.Status, Is.EqualTo(VerificationStatus.Accepted));
            Assert.That(second.Reason, Is.EqualTo(RejectionReason.AccessUnitLimit));
            Assert.That(scope.Skipped + other.Skipped, Is.EqualTo(2));
            Assert.That(scope.SignatureVerifications + other.SignatureVerifications, Is.EqualTo(2), "one verification per access unit");
            Assert.That(verifier.SignatureVerifications, Is.EqualTo(2), "the version-2 payload of the first and the version-1 payload of the second");
        });
    }

    [Test]
    public void Verify_FloodBeyondTheBudget_IsRefusedUnverified_AndVerifiedOnceTheBudgetRefills()
    {
        var now = TestKeys.Now;
        // The clock steps back an hour below: a skew tolerance of a day keeps IssuedInFuture out of a budget test.
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey),
            new VerifierOptions { MaxVerificationsPerSecond = 5, VerificationBurst = 5, MaxClockSkew = TimeSpan.FromDays(1) });
        var payloads = Enumerable.Range(0, 10).Select(i => Signer.Sign(TestKeys.Heartbeat(seq: i))).ToArray();
        var results = payloads.Select(p => verifier.Verify(p, now)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(results.Take(5).Select(r => r.Status), Is.All.EqualTo(VerificationStatus.Accepted));
            Assert.That(results.Skip(5).Select(r => r.Reason), Is.All.EqualTo(RejectionReason.VerificationBudgetExceeded));
            Assert.That(results[7].Detail, Does.Contain("5 signature verifications per second"));
            Assert.That(verifier.SignatureVerifications, Is.EqualTo(5));
            Assert.That(verifier.RefusedOverBudget, Is.EqualTo(5));
        });
        Assert.That(verifier.Verify(payloads[7], now + 200_000).Status, Is.EqualTo(VerificationStatus.Accepted), "one token back after 200 ms, and nothing was cached");
        Assert.That(verifier.Verify(payloads[8], now + 200_000).Reason, Is.EqualTo(RejectionReason.VerificationBudgetExceeded));
        Assert.That(verifier.Verify(payloads[8], now - 3_600_000_000).Reason, Is.EqualTo(RejectionReason.VerificationBudgetExceeded), "a clock stepping back gives nothing");
        Assert.That(verifier.Verify(payloads[8], now - 3_600_000_000 + 200_000).Status, Is.EqualTo(VerificationStatus.Accepted), "and does not starve");
    }

    [Test]
    public void Verify_DefaultBudget_LetsASegmentBacklogThrough_ThenHoldsTheRate()
    {
        var verifier = new MessageVerifier(new KeyRing(Key.PublicKey), new VerifierOptions { MaxAge = TimeSpan.FromDays(1) });
        var refused = 0;
        for (var i = 0; i < 2500; i++)
        {
            var forged = Signer.Sign(TestKeys.Heartbeat(seq: i));
            forged[^40] ^= 1;
            if (verifier.Verify(forged, TestKeys.Now).Reason == RejectionReason.VerificationBudgetExceeded) refused++;
        }
        Assert.Multiple(() =>
        {
            Assert.That(verifier.SignatureVerifications, Is.EqualTo(2400), "the burst: ten seconds at 240 per second");
            Assert.That(refused, Is.EqualTo(100));
        });
    }

    [Test]
    public void Feed_FloodOfSmallAccessUnits_StaysWithinTheBudget_AndIsCounted()
    {
        var clip = DemuxedClip.Load(VideoProfile.H264Main);
        var p = clip.Packets[6];
        var (reader, verifier) = Reader(clip, o =>
        {
            o.MaxVerificationsPerSecond = 50;
            o.VerificationBurst = 50;
        });
        var random = new Random(3);
        var genuine = Signer.Sign(TestKeys.Cue(seq: 1));
        for (var i = 0; i < 300; i++)
        {
            var forged = (byte[])genuine.Clone();
            random.NextBytes(forged.AsSpan(forged.Length - 64));
            reader.Feed(DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, forged), p.Pts, p.Dts);
        }
        Assert.Multiple(() =>
        {
            Assert.That(verifier.SignatureVerifications, Is.LessThanOrEqualTo(50));
            Assert.That(reader.Statistics.RefusedOverBudget, Is.GreaterThan(0));
            Assert.That(reader.Statistics.RefusedOverBudget, Is.EqualTo(verifier.RefusedOverBudget));
        });
    }

    [Test]
    public void Options_OutOfRange_Throw()
    {
        Assert.That(() => new MessageVerifier(new KeyRing(), new VerifierOptions { MaxVerificationsPerSecond = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new MessageVerifier(new KeyRing(), new VerifierOptions { MaxPayloadsPerAccessUnit = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new MessageVerifier(new KeyRing(), new VerifierOptions { VerificationBurst = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}
