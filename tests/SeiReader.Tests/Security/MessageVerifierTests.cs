using System.Buffers.Binary;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Messages;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Security;

public class MessageVerifierTests
{
    private SigningKey _key1 = null!;
    private SigningKey _key2 = null!;
    private MessageSigner _signer = null!;
    private KeyRing _ring = null!;

    [SetUp]
    public void SetUp()
    {
        _key1 = TestKeys.Key1();
        _key2 = TestKeys.Key2();
        _signer = new MessageSigner(_key1);
        _ring = new KeyRing(_key1.PublicKey);
    }

    [TearDown]
    public void TearDown()
    {
        _key1.Dispose();
        _key2.Dispose();
    }

    private MessageVerifier Verifier(Action<VerifierOptions>? configure = null)
    {
        var options = new VerifierOptions();
        options.StreamIds.Add(TestKeys.StreamId);
        configure?.Invoke(options);
        return new MessageVerifier(_ring, options);
    }

    [Test]
    public void Sign_PayloadLayout_IsUuidVersionKeyIdBodySignature()
    {
        var cue = TestKeys.Cue();
        var payload = _signer.Sign(cue);
        var body = MessageBody.ToBytes(cue);
        Assert.Multiple(() =>
        {
            Assert.That(payload.AsSpan(0, 16).ToArray(), Is.EqualTo(CatEveningSei.Uuid.ToArray()));
            Assert.That(payload[16], Is.EqualTo(1));
            Assert.That(BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(17)), Is.EqualTo(1));
            Assert.That(payload.AsSpan(19, body.Length).ToArray(), Is.EqualTo(body));
            Assert.That(payload, Has.Length.EqualTo(83 + body.Length));
            Assert.That(_key1.PublicKey.Verify(payload.AsSpan(0, payload.Length - 64), payload.AsSpan(payload.Length - 64)), Is.True);
        });
    }

    [Test]
    public void Verify_FreshCueAndHeartbeat_AreAccepted()
    {
        var v = Verifier();
        var cue = TestKeys.Cue();
        var hb = TestKeys.Heartbeat();
        var r1 = v.Verify(_signer.Sign(cue), TestKeys.Now + 3_000_000);
        var r2 = v.Verify(_signer.Sign(hb), TestKeys.Now + 3_000_000);
        Assert.Multiple(() =>
        {
            Assert.That(r1.Status, Is.EqualTo(VerificationStatus.Accepted), r1.ToString());
            Assert.That(r1.Message, Is.EqualTo(cue));
            Assert.That(r1.KeyId, Is.EqualTo(1));
            Assert.That(r1.FromCache, Is.False);
            Assert.That(r2.Status, Is.EqualTo(VerificationStatus.Accepted), r2.ToString());
            Assert.That(r2.Message, Is.EqualTo(hb));
        });
    }

    [Test]
    public void Verify_ForeignUuid_IsNotCatEveningAndNotRejected()
    {
        var x264 = new byte[] { 0xdc, 0x45, 0xe9, 0xbd, 0xe6, 0xd9, 0x48, 0xb7, 0x96, 0x2c, 0xd8, 0x20, 0xd9, 0x23, 0xee, 0xef }
            .Concat("x264 - core 164"u8.ToArray()).ToArray();
        var r = Verifier().Verify(x264, TestKeys.Now);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(VerificationStatus.NotCatEvening));
            Assert.That(r.Reason, Is.EqualTo(RejectionReason.None));
        });
        Assert.That(Verifier().Verify(CatEveningSei.Uuid.Slice(0, 15), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.NotCatEvening));
    }

    [Test]
    public void Verify_BitFlippedBody_IsBadSignature()
    {
        var payload = _signer.Sign(TestKeys.Cue());
        payload[30] ^= 0x01;
        AssertRejected(Verifier().Verify(payload, TestKeys.Now), RejectionReason.BadSignature, "does not verify");
    }

    [Test]
    public void Verify_SignedByAnotherKeyUnderATrustedKeyId_IsBadSignature()
    {
        var forged = new MessageSigner(SigningKey.FromPem(TestKeys.Key2PrivatePem, keyId: 1)).Sign(TestKeys.Cue());
        AssertRejected(Verifier().Verify(forged, TestKeys.Now), RejectionReason.BadSignature, "key id 1");
    }

    [Test]
    public void Verify_UnknownKeyId_IsUnknownKeyId()
    {
        var payload = new MessageSigner(_key2).Sign(TestKeys.Cue());
        var v = Verifier();
        var r = v.Verify(payload, TestKeys.Now);
        AssertRejected(r, RejectionReason.UnknownKeyId, "key id 2");
        Assert.That(r.KeyId, Is.EqualTo(2));
        var again = v.Verify(payload, TestKeys.Now);
        AssertRejected(again, RejectionReason.UnknownKeyId, "key id 2");
        Assert.That(again.FromCache, Is.True, "a carousel of unknown-key messages is reported once");
    }

    // Payloads refused before ECDSA do not end the access unit, so 16 of them may be looked at per access unit: only those
    // no larger than a version-1 envelope are cached (a copy each), so 16 large ones copy nothing.
    [Test]
    public void Verify_UnknownKeyIdLargerThanAVersion1Envelope_IsRefusedEachTime_WithoutBeingCached()
    {
        var cues = Enumerable.Range(0, 4).Select(i => TestKeys.Cue(seq: 10 + i, cueId: "big-" + i, appBytes: 1024)).ToArray<CatEveningMessage>();
        var payload = new MessageSigner(_key2).Sign(new MessageBundle(TestKeys.StreamId, 10, TestKeys.Now, cues));
        Assert.That(payload, Has.Length.GreaterThan(CatEveningSei.MaxPayloadLength));
        var v = Verifier();
        var first = v.Verify(payload, TestKeys.Now);
        var again = v.Verify(payload, TestKeys.Now);
        Assert.Multiple(() =>
        {
            AssertRejected(first, RejectionReason.UnknownKeyId, "key id 2");
            AssertRejected(again, RejectionReason.UnknownKeyId, "key id 2");
            Assert.That(again.FromCache, Is.False);
            Assert.That(v.SignatureVerifications, Is.Zero);
        });
    }

    [Test]
    public void Verify_KeyAddedToRing_IsThenAccepted_AndRetiredKeyIsUnknown()
    {
        var v = Verifier();
        var payload = new MessageSigner(_key2).Sign(TestKeys.Cue());
        AssertRejected(v.Verify(payload, TestKeys.Now), RejectionReason.UnknownKeyId, "");
        _ring.Add(_key2.PublicKey);
        Assert.That(v.Verify(payload, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        var other = _signer.Sign(TestKeys.Cue(seq: 20));
        Assert.That(v.Verify(other, TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        _ring.Remove(1);
        AssertRejected(v.Verify(other, TestKeys.Now), RejectionReason.UnknownKeyId, "not in the key ring");
    }

    [Test]
    public void Verify_UnknownFormatVersion_IsUnknownFormatVersion()
    {
        var payload = _signer.SignRaw(3, MessageBody.ToBytes(TestKeys.Cue()));
        AssertRejected(Verifier().Verify(payload, TestKeys.Now), RejectionReason.UnknownFormatVersion, "format version 3 at offset 16");
        AssertRejected(Verifier().Verify(payload.AsSpan(0, 17), TestKeys.Now), RejectionReason.UnknownFormatVersion, "");
    }

    [Test]
    public void Verify_SignedGarbageBody_IsMalformedBody()
    {
        var payload = _signer.SignRaw(1, new byte[] { 0x92, 0x01, 0xa1, 0x73 });
        AssertRejected(Verifier().Verify(payload, TestKeys.Now), RejectionReason.MalformedBody, "cue array has 2 fields");
    }

    [TestCase(16)]
    [TestCase(18)]
    [TestCase(83)]
    public void Verify_TooShortEnvelope_IsMalformedEnvelope(int length)
    {
        var payload = _signer.Sign(TestKeys.Cue()).AsSpan(0, length).ToArray();
        AssertRejected(Verifier().Verify(payload, TestKeys.Now), RejectionReason.MalformedEnvelope, $"payload of {length} bytes");
    }

    [Test]
    public void Verify_TooLongEnvelope_IsMalformedEnvelope()
    {
        var payload = _signer.SignRaw(1, new byte[CatEveningSei.MaxBodyLength + 1]);
        AssertRejected(Verifier().Verify(payload, TestKeys.Now), RejectionReason.MalformedEnvelope, "1620 bytes");
    }

    [Test]
    public void Verify_OtherStream_IsOtherStream()
    {
        var r = Verifier().Verify(_signer.Sign(TestKeys.Cue(stream: "show-2")), TestKeys.Now);
        AssertRejected(r, RejectionReason.OtherStream, "'show-2'");
        Assert.That(r.Message, Is.Not.Null, "the authentic message is given for diagnosis");
    }

    [Test]
    public void Verify_NoStreamIdsConfigured_AcceptsEveryStream()
    {
        var v = new MessageVerifier(_ring);
        Assert.That(v.Verify(_signer.Sign(TestKeys.Cue(stream: "anything")), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
    }

    [Test]
    public void Verify_IssuedLongerAgoThanMaxAge_IsIssuedTooLongAgo_AtTheBoundary()
    {
        var v = Verifier(o => o.MaxAge = TimeSpan.FromSeconds(30));
        var payload = _signer.Sign(TestKeys.Cue());
        AssertRejected(v.Verify(payload, TestKeys.Now + 30_000_001), RejectionReason.IssuedTooLongAgo, "30000 ms ago");
        Assert.That(v.Verify(payload, TestKeys.Now + 30_000_000).Status, Is.EqualTo(VerificationStatus.Accepted));
    }

    [Test]
    public void Verify_IssuedAtAtTheMinimum_IsTooOldNotAnOverflow()
    {
        var r = Verifier().Verify(_signer.Sign(TestKeys.Cue(issuedAt: long.MinValue)), TestKeys.Now);
        AssertRejected(r, RejectionReason.IssuedTooLongAgo, "ms ago");
    }

    [Test]
    public void Verify_SameSequenceNumberOtherContent_IsReplayedSequence()
    {
        var v = Verifier();
        Assert.That(v.Verify(_signer.Sign(TestKeys.Cue(seq: 5)), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        AssertRejected(v.Verify(_signer.Sign(TestKeys.Cue(seq: 5, cueId: "other")), TestKeys.Now), RejectionReason.ReplayedSequence, "sequence number 5");
        AssertRejected(v.Verify(_signer.Sign(TestKeys.Heartbeat(seq: 5)), TestKeys.Now), RejectionReason.ReplayedSequence, "sequence number 5");
    }

    [Test]
    public void Verify_SequenceOlderThanTheWindow_IsSequenceTooFarBehind()
    {
        var v = Verifier(o => o.ReplayWindow = 64);
        Assert.That(v.Verify(_signer.Sign(TestKeys.Heartbeat(seq: 1000)), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        AssertRejected(v.Verify(_signer.Sign(TestKeys.Cue(seq: 936)), TestKeys.Now), RejectionReason.SequenceTooFarBehind, "64 behind");
        Assert.That(v.Verify(_signer.Sign(TestKeys.Cue(seq: 937)), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted), "late but inside the window");
    }

    [Test]
    public void Verify_IdenticalBytesAgain_IsRepeatFromCache()
    {
        var v = Verifier();
        var payload = _signer.Sign(TestKeys.Cue());
        v.Verify(payload, TestKeys.Now);
        var again = v.Verify(payload.ToArray(), TestKeys.Now + 1_000_000);
        Assert.Multiple(() =>
        {
            Assert.That(again.Status, Is.EqualTo(VerificationStatus.Repeat));
            Assert.That(again.FromCache, Is.True);
            Assert.That(again.Message, Is.EqualTo(TestKeys.Cue()));
        });
    }

    [Test]
    public void Verify_TwoPayloadsSeenTogether_BothAnsweredFromCache_WhateverTheirSet()
    {
        // CacheSize 1 is one set of two slots: every payload falls in the same set. A direct-mapped cache forgot the first
        // when the second arrived in its slot (a re-fed refusal was then reported again, one run in 256 at the default size).
        var v = Verifier(o => o.CacheSize = 1);
        var stale = _signer.Sign(TestKeys.Cue(seq: 2, issuedAt: TestKeys.Now - 3_600_000_000));
        var forged = _signer.Sign(TestKeys.Cue(seq: 1));
        forged[40] ^= 0x10;
        var third = _signer.Sign(TestKeys.Cue(seq: 3));
        AssertRejected(v.Verify(stale, TestKeys.Now), RejectionReason.IssuedTooLongAgo, "");
        AssertRejected(v.Verify(forged, TestKeys.Now), RejectionReason.BadSignature, "");
        Assert.Multiple(() =>
        {
            Assert.That(v.Verify(stale, TestKeys.Now).FromCache, Is.True, "the first of the two is still remembered");
            Assert.That(v.Verify(forged, TestKeys.Now).FromCache, Is.True, "and the second");
        });
        v.Verify(third, TestKeys.Now);
        Assert.That(v.Verify(stale, TestKeys.Now).FromCache, Is.False, "a third payload in the set forgets the least recently added");
    }

    [Test]
    public void Verify_IdenticalForgedBytesAgain_IsStillBadSignatureFromCache()
    {
        var v = Verifier();
        var payload = _signer.Sign(TestKeys.Cue());
        payload[^1] ^= 0x80;
        v.Verify(payload, TestKeys.Now);
        var again = v.Verify(payload, TestKeys.Now);
        AssertRejected(again, RejectionReason.BadSignature, "");
        Assert.That(again.FromCache, Is.True);
    }

    [Test]
    public void Verify_CarouselRepeatOnAnotherCarrier_IsRepeatNotReplay()
    {
        var v = Verifier();
        var first = TestKeys.Cue(seq: 7, offset: 0);
        Assert.That(v.Verify(_signer.Sign(first), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        var repeat = first.ForCarrier(targetOffsetTicks: -180_000, issuedAtMicros: TestKeys.Now + 2_000_000);
        var r = v.Verify(_signer.Sign(repeat), TestKeys.Now + 2_000_000);
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(VerificationStatus.Repeat));
            Assert.That(r.FromCache, Is.False);
            Assert.That(((CueMessage)r.Message!).TargetOffsetTicks, Is.EqualTo(-180_000));
        });
    }

    [Test]
    public void Verify_LateJoinerSeesARepeatFirst_AcceptsIt()
    {
        var repeat = TestKeys.Cue(seq: 7).ForCarrier(-900_000, TestKeys.Now + 10_000_000);
        var v = Verifier();
        Assert.That(v.Verify(_signer.Sign(TestKeys.Heartbeat(seq: 40, issuedAt: TestKeys.Now + 10_000_000)), TestKeys.Now + 10_000_000).Status, Is.EqualTo(VerificationStatus.Accepted));
        Assert.That(v.Verify(_signer.Sign(repeat), TestKeys.Now + 10_000_000).Status, Is.EqualTo(VerificationStatus.Accepted));
    }

    [Test]
    public void Verify_ReplayWindowIsPerStream()
    {
        var v = new MessageVerifier(_ring);
        Assert.That(v.Verify(_signer.Sign(TestKeys.Cue(seq: 3, stream: "a")), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
        Assert.That(v.Verify(_signer.Sign(TestKeys.Cue(seq: 3, stream: "b", cueId: "x")), TestKeys.Now).Status, Is.EqualTo(VerificationStatus.Accepted));
    }

    [Test]
    public void Property_EverySingleBitFlip_IsNeverAcceptedAndNeverThrows()
    {
        var payload = _signer.Sign(TestKeys.Cue());
        for (var bit = 0; bit < payload.Length * 8; bit++)
        {
            var v = Verifier();
            var copy = (byte[])payload.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var r = v.Verify(copy, TestKeys.Now);
            Assert.That(r.Status, Is.AnyOf(VerificationStatus.Rejected, VerificationStatus.NotCatEvening), $"bit {bit}: {r}");
            if (bit >= 16 * 8 && r.Status == VerificationStatus.Rejected)
                Assert.That(r.Reason, Is.AnyOf(RejectionReason.BadSignature, RejectionReason.UnknownFormatVersion, RejectionReason.UnknownKeyId, RejectionReason.NonCanonicalSignature), $"bit {bit}");
        }
    }

    [Test]
    public void Property_RandomMessagesTruncatedAnywhere_AreNeverAccepted()
    {
        var rng = new Random(3);
        var v = new MessageVerifier(_ring, new VerifierOptions { MaxAge = TimeSpan.MaxValue / 2 });
        for (var i = 0; i < 300; i++)
        {
            var m = MessageBodyTests.RandomMessage(rng);
            var payload = _signer.Sign(m);
            var cut = payload.AsSpan(0, rng.Next(payload.Length)).ToArray();
            var r = v.Verify(cut, long.MaxValue / 4);
            Assert.That(r.Status, Is.AnyOf(VerificationStatus.Rejected, VerificationStatus.NotCatEvening), r.ToString());
        }
    }

    [Test]
    public void Property_RandomMessages_SignAndVerifyRoundTrip()
    {
        var rng = new Random(4);
        for (var i = 0; i < 300; i++)
        {
            var m = MessageBodyTests.RandomMessage(rng);
            var r = new MessageVerifier(_ring).Verify(_signer.Sign(m), m.IssuedAtMicros);
            Assert.That(r.Status, Is.EqualTo(VerificationStatus.Accepted), r.ToString());
            Assert.That(r.Message, Is.EqualTo(m));
        }
    }

    private static void AssertRejected(VerificationResult r, RejectionReason reason, string detail) =>
        Assert.Multiple(() =>
        {
            Assert.That(r.Status, Is.EqualTo(VerificationStatus.Rejected), r.ToString());
            Assert.That(r.Reason, Is.EqualTo(reason), r.ToString());
            Assert.That(r.Detail, Does.Contain(detail));
        });
}
