using System.Globalization;
using System.Text;
using System.Text.Json;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using MessagePack;

namespace CatEvening.SeiReader.Tests.Messages;

/// <summary>
/// The test vectors of docs/sei-format.md: made from the code with the fixed test keys, written between the
/// <c>vectors:begin</c>/<c>vectors:end</c> markers, and read back by <see cref="SeiFormatDocTests"/>.
/// ECDSA signatures are randomised, so regenerating gives other bytes; every version must verify.
/// </summary>
internal static class SeiFormatVectors
{
    internal const string Begin = "<!-- vectors:begin -->";
    internal const string End = "<!-- vectors:end -->";

    /// <summary>The verifier every vector is checked with: key 1 trusted, stream "show-1", now = issued-at + 1 s, max age 2 min.</summary>
    internal static MessageVerifier Verifier(KeyRing ring)
    {
        var options = new VerifierOptions { MaxAge = TimeSpan.FromMinutes(2) };
        options.StreamIds.Add(TestKeys.StreamId);
        return new MessageVerifier(ring, options);
    }

    internal const long VerifyAt = TestKeys.Now + 1_000_000;

    /// <summary>One vector as written to the doc and to docs/sei-vectors.json.</summary>
    internal sealed record DocVector(string Name, string Expect, byte[] Payload, long VerifyAt, string? Json);

    /// <summary>One step of a sequence: a payload fed to the same verifier as the steps before it. Consecutive steps with
    /// the same <paramref name="AccessUnit"/> are payloads of one access unit (the per-access-unit rules apply); a step
    /// without one is an access unit on its own.</summary>
    internal sealed record SequenceStep(string Vector, long VerifyAt, string Status, string? Reason, int[] NewEntries, int? AccessUnit = null);

    /// <summary>One peak-shaving case of docs/sei-vectors.json: the offset <see cref="PeakShaving.OffsetMicros(string, string, long)"/> gives.</summary>
    internal sealed record PeakShavingCase(string ViewerId, string CueId, long SpreadMicros);

    /// <summary>The peak-shaving cases written to docs/sei-vectors.json (offsets computed by the code when written, checked by
    /// both readers): the doc's example, spreads 0 and 1, other viewers and cues, non-ASCII ids and the largest safe spread.</summary>
    internal static readonly PeakShavingCase[] PeakShavingCases =
    [
        new("viewer-1", "poll-1", 5_000_000),
        new("viewer-1", "poll-1", 0),
        new("viewer-1", "poll-1", 1),
        new("viewer-2", "poll-1", 5_000_000),
        new("viewer-1", "poll-2", 5_000_000),
        new("viewer-42", "quiz-9", 60_000_000),
        new("观众-7", "投票-1", 5_000_000),
        new("viewer-1", "poll-1", (1L << 53) - 1),
    ];

    /// <summary>Payloads fed in order to one verifier, each with the verdict it must get.</summary>
    internal sealed record DocSequence(string Name, string Description, SequenceStep[] Steps);

    private static readonly List<DocVector> Written = [];
    private static readonly List<DocSequence> Sequences = [];

    /// <summary>The vectors and sequences of the last <see cref="Generate"/>, for docs/sei-vectors.json.</summary>
    internal static (IReadOnlyList<DocVector> Vectors, IReadOnlyList<DocSequence> Sequences) LastGenerated => (Written, Sequences);

    internal const long V2Sequence = 1_795_888_800_000;

    internal static string Generate()
    {
        using var key1 = TestKeys.Key1();
        using var key7 = SigningKey.FromPem(TestKeys.Key2PrivatePem, keyId: 7);
        var signer = new MessageSigner(key1);
        var sb = new StringBuilder();
        Written.Clear();
        Sequences.Clear();
        sb.Append(Begin).Append('\n');
        sb.Append("### 8.1 Format version 1\n\n");

        var start = new CueMessage(MessageKind.InteractionStart, "show-1", 42, TestKeys.Now, -3003, "poll-1", 30 * 90000, 5_000_000,
            Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var startPayload = signer.Sign(start);
        Vector(sb, "interaction-start", "Accepted", startPayload, start);
        Annotate(sb, startPayload);
        Nal(sb, startPayload);

        var hb = new HeartbeatMessage("show-1", 43, TestKeys.Now + 2000, TestKeys.Now + 1500, 8_589_930_000, 2500, "time.example.net:4460");
        Vector(sb, "heartbeat", "Accepted", signer.Sign(hb), hb);
        var end = new CueMessage(MessageKind.InteractionEnd, "show-1", 44, TestKeys.Now + 3000, 0, "poll-1", 0, 0, ReadOnlySpan<byte>.Empty);
        Vector(sb, "interaction-end", "Accepted", signer.Sign(end), end);
        var cancel = new CueMessage(MessageKind.Cancel, "show-1", 45, TestKeys.Now + 4000, 0, "quiz-9", 0, 0, ReadOnlySpan<byte>.Empty);
        Vector(sb, "cancel", "Accepted", signer.Sign(cancel), cancel);
        var custom = new CueMessage(MessageKind.Custom, "show-1", 46, TestKeys.Now + 5000, 90000, "confetti", 0, 0, "{\"color\":\"gold\"}"u8);
        Vector(sb, "custom", "Accepted", signer.Sign(custom), custom);
        var repeat = start.ForCarrier(-3003 - 2 * 90000, TestKeys.Now + 2_000_000);
        sb.Append("A carousel repeat of vector 1 two seconds later (same seq, new offset and issued-at). Verified on its own it is accepted;\n")
          .Append("after vector 1 it is a repeat (`VerificationStatus.Repeat`), not a replay. Verify it at issued-at + 1 s like the others:\n\n");
        Vector(sb, "interaction-start-repeat", "Accepted", signer.Sign(repeat), repeat, verifyAt: TestKeys.Now + 3_000_000);

        sb.Append("Negative vectors (each must be refused with the reason given):\n\n");
        var flipped = (byte[])startPayload.Clone();
        flipped[CatEveningSei.BodyOffset + 2] ^= 0x01;
        Vector(sb, "bit-flipped body", "BadSignature", flipped, null);
        Vector(sb, "unknown key id 7", "UnknownKeyId", new MessageSigner(key7).Sign(start), null);
        Vector(sb, "format version 3", "UnknownFormatVersion", signer.SignRaw(3, MessageBody.ToBytes(start)), null);
        Vector(sb, "signed but malformed body (array of 2)", "MalformedBody", signer.SignRaw(1, new byte[] { 0x92, 0x01, 0xa1, 0x73 }), null);
        Vector(sb, "other stream", "OtherStream", signer.Sign(new CueMessage(MessageKind.Custom, "show-2", 1, TestKeys.Now, 0, "x", 0, 0, ReadOnlySpan<byte>.Empty)), null);
        Vector(sb, "issued 10 minutes before verification", "IssuedTooLongAgo", signer.Sign(new CueMessage(MessageKind.Custom, "show-1", 2, TestKeys.Now - 600_000_000, 0, "x", 0, 0, ReadOnlySpan<byte>.Empty)), null);
        sb.Append("Vector 1 with s replaced by n − s: plain ECDSA (WebCrypto, OpenSSL) accepts it, CatEvening readers refuse it:\n\n");
        Vector(sb, "high s", "NonCanonicalSignature", Security.LowSTests.Flip(startPayload), null);
        Vector(sb, "truncated to 83 bytes", "MalformedEnvelope", startPayload.AsSpan(0, 83).ToArray(), null);

        V2(sb, signer, new MessageSigner(key7), start, custom);

        var offset = PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000);
        sb.Append("Peak shaving: viewer `viewer-1`, cue `poll-1`, spread 5,000,000 µs → SHA-256(`poll-1` 00 `viewer-1`) = `")
          .Append(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("poll-1\0viewer-1"))).ToLowerInvariant())
          .Append("`, offset = ").Append("<!-- peak -->").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(" µs.\n");
        sb.Append(End);
        return sb.ToString();
    }

    private static void V2(StringBuilder sb, MessageSigner signer, MessageSigner signer7, CueMessage start, CueMessage custom)
    {
        sb.Append("### 8.2 Format version 2\n\n");
        var seq = V2Sequence;
        var at = TestKeys.Now;
        CueMessage Cue(CueMessage c, long offset, long issued) => c.ForCarrier(offset, issued);
        HeartbeatMessage Beat(long s, long issued, long pts) => new("show-1", s, issued, issued - 500, pts, 2500, null);

        var frame1 = new MessageBundle("show-1", seq, at, [Cue(start, -3003, at), Cue(custom, 90000, at), Beat(seq, at, 8_589_930_000)]);
        var frame1Payload = signer.Sign(frame1);
        Vector(sb, "v2 start, custom and heartbeat on one frame", "Accepted", frame1Payload, bundle: frame1);
        AnnotateV2(sb, frame1Payload);
        Nal(sb, frame1Payload);

        var at2 = at + 2_000_000;
        var frame2 = new MessageBundle("show-1", seq + 200, at2, [Cue(start, -3003 - 180_000, at2), Beat(seq + 200, at2, (8_589_930_000 + 180_000) & HeartbeatMessage.MaxPts)]);
        sb.Append("The carousel repeat of the start two seconds later, with that frame's heartbeat: a new transmission number, the same cue\n")
          .Append("sequence number (42). Verified on its own both entries are new; after the first vector only the heartbeat is (sequence\n")
          .Append("\"v2 carousel\" in `docs/sei-vectors.json`). Verify it at issued-at + 1 s like the others:\n\n");
        var frame2Payload = signer.Sign(frame2);
        Vector(sb, "v2 carousel repeat and heartbeat", "Accepted", frame2Payload, bundle: frame2, verifyAt: at2 + 1_000_000);

        var at3 = at + 3000;
        var end = new CueMessage(MessageKind.InteractionEnd, "show-1", 44, at3, 0, "poll-1", 0, 0, ReadOnlySpan<byte>.Empty);
        var cancel = new CueMessage(MessageKind.Cancel, "show-1", 45, at3, 0, "quiz-9", 0, 0, ReadOnlySpan<byte>.Empty);
        var frame3 = new MessageBundle("show-1", seq + 1, at3, [end, cancel]);
        Vector(sb, "v2 end and cancel", "Accepted", signer.Sign(frame3), bundle: frame3);
        var frame4 = new MessageBundle("show-1", seq + 2, at + 4000, [new HeartbeatMessage("show-1", seq + 2, at + 4000, at + 3500, 0, 0, "time.example.net:4460")]);
        Vector(sb, "v2 heartbeat only", "Accepted", signer.Sign(frame4), bundle: frame4);

        sb.Append("Negative vectors of version 2 (each must be refused with the reason given):\n\n");
        var flipped = (byte[])frame1Payload.Clone();
        flipped[CatEveningSei.BodyOffset + 3] ^= 0x01;
        Vector(sb, "v2 bit-flipped body", "BadSignature", flipped, null);
        Vector(sb, "v2 unknown key id 7", "UnknownKeyId", signer7.Sign(frame1), null);
        Vector(sb, "v2 seq 2^53 (integer out of bounds)", "MalformedBody", signer.SignRaw(2, RawBundle((ref MessagePackWriter w) =>
        {
            w.Write("show-1");
            w.Write(1L << 53);
            w.Write(at);
            w.WriteArrayHeader(1);
            WriteBeat(ref w, 0);
        })), null);
        Vector(sb, "v2 no entries", "MalformedBody", signer.SignRaw(2, RawBundle((ref MessagePackWriter w) =>
        {
            w.Write("show-1");
            w.Write(seq + 3);
            w.Write(at);
            w.WriteArrayHeader(0);
        })), null);
        Vector(sb, "v2 two heartbeats", "MalformedBody", signer.SignRaw(2, RawBundle((ref MessagePackWriter w) =>
        {
            w.Write("show-1");
            w.Write(seq + 4);
            w.Write(at);
            w.WriteArrayHeader(2);
            WriteBeat(ref w, 1);
            WriteBeat(ref w, 2);
        })), null);
        Vector(sb, "v2 unknown entry kind 6", "MalformedBody", signer.SignRaw(2, RawBundle((ref MessagePackWriter w) =>
        {
            w.Write("show-1");
            w.Write(seq + 5);
            w.Write(at);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(5);
            w.Write(6);
            w.Write(0);
            w.Write(0);
            w.Write(0);
            w.WriteNil();
        })), null);
        var other = new MessageBundle("show-2", seq + 6, at, [new HeartbeatMessage("show-2", seq + 6, at, at, 0, 0)]);
        Vector(sb, "v2 other stream", "OtherStream", signer.Sign(other), null);
        var future = new MessageBundle("show-1", seq + 7, at + 600_000_000, [new HeartbeatMessage("show-1", seq + 7, at + 600_000_000, at, 0, 0)]);
        Vector(sb, "v2 issued 10 minutes after verification", "IssuedInFuture", signer.Sign(future), null);
        var conflict = new CueMessage(MessageKind.InteractionStart, "show-1", 42, at + 5000, 0, "poll-1", 30 * 90000, 5_000_000, "other"u8);
        var conflictBundle = new MessageBundle("show-1", seq + 8, at + 5000, [conflict]);
        sb.Append("A later transmission that reuses cue sequence number 42 with other content: accepted on its own, refused after the\n")
          .Append("first vector (sequence \"v2 cue conflict\"):\n\n");
        var conflictPayload = signer.Sign(conflictBundle);
        Vector(sb, "v2 cue 42 with other content", "Accepted", conflictPayload, bundle: conflictBundle);
        var far = new MessageBundle("show-1", seq + 70_000, at + 6000, [new HeartbeatMessage("show-1", seq + 70_000, at + 6000, at, 0, 0)]);
        Vector(sb, "v2 transmission 70000 ahead", "Accepted", signer.Sign(far), bundle: far);

        const string first = "v2 start, custom and heartbeat on one frame";
        Sequences.Add(new DocSequence("v2 carousel", "A repeat of a cue is authentic and not reported again; the heartbeat beside it is new.",
        [
            new SequenceStep(first, VerifyAt, "Accepted", null, [0, 1, 2]),
            new SequenceStep("v2 carousel repeat and heartbeat", at2 + 1_000_000, "Accepted", null, [1]),
            new SequenceStep(first, at2 + 1_000_000, "Repeat", null, []),
        ]));
        Sequences.Add(new DocSequence("v2 cue conflict", "A cue sequence number accepted before, now with other content, refuses the whole payload.",
        [
            new SequenceStep(first, VerifyAt, "Accepted", null, [0, 1, 2]),
            new SequenceStep("v2 cue 42 with other content", VerifyAt, "Rejected", "ReplayedSequence", []),
        ]));
        Sequences.Add(new DocSequence("v2 replay window", "Transmission numbers 65,536 or more below the highest accepted are refused (window W = 65,536).",
        [
            new SequenceStep("v2 transmission 70000 ahead", VerifyAt, "Accepted", null, [0]),
            new SequenceStep(first, VerifyAt, "Rejected", "SequenceTooFarBehind", []),
        ]));
        Sequences.Add(new DocSequence("v1 carousel", "Version 1: a repeat keeps the cue's sequence number and is not reported again.",
        [
            new SequenceStep("interaction-start", VerifyAt, "Accepted", null, [0]),
            new SequenceStep("interaction-start-repeat", TestKeys.Now + 3_000_000, "Repeat", null, []),
        ]));
        Sequences.Add(new DocSequence("v1 and v2 share cue identities", "One window and one cue store per stream for both versions: a version-2 cue entry with the number and content of a version-1 cue accepted before is a repeat.",
        [
            new SequenceStep("interaction-end", VerifyAt, "Accepted", null, [0]),
            new SequenceStep("v2 end and cancel", VerifyAt, "Accepted", null, [1]),
        ]));
        Sequences.Add(new DocSequence("refused bytes stay refused", "Identical bytes refused before are refused again (from the cache), with the same reason.",
        [
            new SequenceStep("bit-flipped body", VerifyAt, "Rejected", "BadSignature", []),
            new SequenceStep("bit-flipped body", VerifyAt, "Rejected", "BadSignature", []),
        ]));
        Sequences.Add(new DocSequence("v2 access unit holds one payload", "Once an access unit holds a version-2 payload, any other CatEvening payload in it is refused unchecked (AccessUnitLimit) and not recorded.",
        [
            new SequenceStep("v2 heartbeat only", VerifyAt, "Accepted", null, [0], AccessUnit: 1),
            new SequenceStep("v2 end and cancel", VerifyAt, "Rejected", "AccessUnitLimit", [], AccessUnit: 1),
            new SequenceStep("custom", VerifyAt, "Rejected", "AccessUnitLimit", [], AccessUnit: 1),
            new SequenceStep("v2 end and cancel", VerifyAt, "Accepted", null, [0, 1], AccessUnit: 2),
        ]));
        Sequences.Add(new DocSequence("v2 under an unknown key id does not hold the access unit", "Two injectors in a chain: a payload refused before the signature step (here a version-2 payload under key id 7, not in the ring) costs no verification and does not end the access unit, so the trusted version-2 payload after it is read.",
        [
            new SequenceStep("v2 unknown key id 7", VerifyAt, "Rejected", "UnknownKeyId", [], AccessUnit: 1),
            new SequenceStep("v2 heartbeat only", VerifyAt, "Accepted", null, [0], AccessUnit: 1),
            new SequenceStep("v2 unknown key id 7", VerifyAt, "Rejected", "AccessUnitLimit", [], AccessUnit: 1),
        ]));
        Sequences.Add(new DocSequence("v1 access unit ends at a failed signature", "Version 1: an access unit is read payload by payload until the first failed signature verification; the rest is refused unchecked.",
        [
            new SequenceStep("interaction-end", VerifyAt, "Accepted", null, [0], AccessUnit: 1),
            new SequenceStep("bit-flipped body", VerifyAt, "Rejected", "BadSignature", [], AccessUnit: 1),
            new SequenceStep("cancel", VerifyAt, "Rejected", "AccessUnitLimit", [], AccessUnit: 1),
            new SequenceStep("cancel", VerifyAt, "Accepted", null, [0], AccessUnit: 2),
        ]));
    }

    private static void WriteBeat(ref MessagePackWriter w, long wall)
    {
        w.WriteArrayHeader(5);
        w.Write(4);
        w.Write(TestKeys.Now + wall);
        w.Write(0);
        w.Write(0);
        w.WriteNil();
    }

    private delegate void BodyWriter(ref MessagePackWriter writer);

    private static byte[] RawBundle(BodyWriter fields)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var w = new MessagePackWriter(buffer);
        w.WriteArrayHeader(4);
        fields(ref w);
        w.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static void Vector(StringBuilder sb, string name, string expect, byte[] payload, CatEveningMessage? message = null, long verifyAt = VerifyAt,
        MessageBundle? bundle = null)
    {
        var json = bundle is not null ? ToJson(bundle) : message is not null ? ToJson(message) : null;
        Written.Add(new DocVector(name, expect, payload, verifyAt, json));
        sb.Append("<!-- vector name=\"").Append(name).Append("\" expect=").Append(expect)
          .Append(" at=").Append(verifyAt.ToString(CultureInfo.InvariantCulture)).Append(" -->\n");
        sb.Append("**").Append(name).Append("** (").Append(payload.Length).Append(" bytes) → ").Append(expect).Append('\n');
        sb.Append("```hex\n");
        var hex = Convert.ToHexString(payload).ToLowerInvariant();
        for (var i = 0; i < hex.Length; i += 64) sb.Append(hex, i, Math.Min(64, hex.Length - i)).Append('\n');
        sb.Append("```\n");
        if (json is not null) sb.Append("```json\n").Append(json).Append("\n```\n");
        sb.Append('\n');
    }

    internal static string ToJson(MessageBundle b)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["stream_id"] = b.StreamId,
            ["seq"] = b.SequenceNumber,
            ["issued_at_us"] = b.IssuedAtMicros,
            ["entries"] = b.Messages.Select(Entry).ToList(),
        };
        return JsonSerializer.Serialize(d);
    }

    private static SortedDictionary<string, object?> Entry(CatEveningMessage m)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal) { ["kind"] = m.Kind.ToWireName() };
        switch (m)
        {
            case CueMessage c:
                d["cue_seq"] = c.SequenceNumber;
                d["target_offset_90k"] = c.TargetOffsetTicks;
                d["cue_id"] = c.CueId;
                d["window_90k"] = c.WindowTicks;
                d["spread_us"] = c.SpreadMicros;
                d["app_data_hex"] = Convert.ToHexString(c.AppData.Span).ToLowerInvariant();
                break;
            case HeartbeatMessage h:
                d["injection_wall_us"] = h.InjectionWallClockMicros;
                d["carrier_pts"] = h.CarrierPts;
                d["uncertainty_us"] = h.ClockUncertaintyMicros;
                d["time_server"] = h.TimeServer;
                break;
        }
        return d;
    }

    internal static string ToJson(CatEveningMessage m)
    {
        var d = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["kind"] = m.Kind.ToWireName(),
            ["stream_id"] = m.StreamId,
            ["seq"] = m.SequenceNumber,
            ["issued_at_us"] = m.IssuedAtMicros,
        };
        switch (m)
        {
            case CueMessage c:
                d["target_offset_90k"] = c.TargetOffsetTicks;
                d["cue_id"] = c.CueId;
                d["window_90k"] = c.WindowTicks;
                d["spread_us"] = c.SpreadMicros;
                d["app_data_hex"] = Convert.ToHexString(c.AppData.Span).ToLowerInvariant();
                break;
            case HeartbeatMessage h:
                d["injection_wall_us"] = h.InjectionWallClockMicros;
                d["carrier_pts"] = h.CarrierPts;
                d["uncertainty_us"] = h.ClockUncertaintyMicros;
                d["time_server"] = h.TimeServer;
                break;
        }
        return JsonSerializer.Serialize(d);
    }

    private static void Annotate(StringBuilder sb, byte[] payload)
    {
        var body = payload.AsMemory(CatEveningSei.BodyOffset, payload.Length - CatEveningSei.Overhead);
        string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();
        sb.Append("Vector 1 field by field:\n\n| offset | bytes | field |\n| --- | --- | --- |\n");
        sb.Append("| 0 | `").Append(Hex(payload.AsSpan(0, 16))).Append("` | uuid |\n");
        sb.Append("| 16 | `").Append(Hex(payload.AsSpan(16, 1))).Append("` | format_version = 1 |\n");
        sb.Append("| 17 | `").Append(Hex(payload.AsSpan(17, 2))).Append("` | key_id = 1 |\n");
        var reader = new MessagePackReader(body);
        var at = (int)reader.Consumed;
        reader.ReadArrayHeader();
        sb.Append("| 19 | `").Append(Hex(body.Span.Slice(at, (int)reader.Consumed - at))).Append("` | body: array of 9 |\n");
        var names = new[] { "kind = 1 (interaction-start)", "stream_id = \"show-1\"", "seq = 42", "issued_at_us = " + TestKeys.Now, "target_offset_90k = -3003",
            "cue_id = \"poll-1\"", "window_90k = 2700000 (30 s)", "spread_us = 5000000", "app_data = 32 bytes 00..1f" };
        foreach (var name in names)
        {
            at = (int)reader.Consumed;
            reader.Skip();
            sb.Append("| ").Append(CatEveningSei.BodyOffset + at).Append(" | `").Append(Hex(body.Span.Slice(at, (int)reader.Consumed - at))).Append("` | ").Append(name).Append(" |\n");
        }
        sb.Append("| ").Append(payload.Length - 64).Append(" | `").Append(Hex(payload.AsSpan(payload.Length - 64, 8))).Append("…` | signature r ‖ s (64 bytes) |\n\n");
    }

    private static void AnnotateV2(StringBuilder sb, byte[] payload)
    {
        var body = payload.AsMemory(CatEveningSei.BodyOffset, payload.Length - CatEveningSei.Overhead);
        string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();
        sb.Append("This vector field by field:\n\n| offset | bytes | field |\n| --- | --- | --- |\n");
        sb.Append("| 0 | `").Append(Hex(payload.AsSpan(0, 16))).Append("` | uuid |\n");
        sb.Append("| 16 | `").Append(Hex(payload.AsSpan(16, 1))).Append("` | format_version = 2 |\n");
        sb.Append("| 17 | `").Append(Hex(payload.AsSpan(17, 2))).Append("` | key_id = 1 |\n");
        var reader = new MessagePackReader(body);
        void Row(string name, bool header, ref MessagePackReader r)
        {
            var at = (int)r.Consumed;
            if (header) r.ReadArrayHeader();
            else r.Skip();
            sb.Append("| ").Append(CatEveningSei.BodyOffset + at).Append(" | `").Append(Hex(body.Span.Slice(at, (int)r.Consumed - at))).Append("` | ").Append(name).Append(" |\n");
        }
        Row("body: array of 4", true, ref reader);
        Row("stream_id = \"show-1\"", false, ref reader);
        Row($"seq (transmission) = {V2Sequence}", false, ref reader);
        Row("issued_at_us = " + TestKeys.Now, false, ref reader);
        Row("entries: array of 3", true, ref reader);
        Row("entry 0: array of 7 (a cue)", true, ref reader);
        foreach (var name in new[] { "kind = 1 (interaction-start)", "cue_seq = 42", "target_offset_90k = -3003", "cue_id = \"poll-1\"", "window_90k = 2700000 (30 s)", "spread_us = 5000000", "app_data = 32 bytes 00..1f" })
            Row(name, false, ref reader);
        Row("entry 1: array of 7", true, ref reader);
        foreach (var name in new[] { "kind = 5 (custom)", "cue_seq = 46", "target_offset_90k = 90000", "cue_id = \"confetti\"", "window_90k = 0", "spread_us = 0", "app_data = 16 bytes" })
            Row(name, false, ref reader);
        Row("entry 2: array of 5 (a heartbeat)", true, ref reader);
        foreach (var name in new[] { "kind = 4 (heartbeat)", "injection_wall_us = " + (TestKeys.Now - 500), "carrier_pts = 8589930000", "uncertainty_us = 2500", "time_server = nil" })
            Row(name, false, ref reader);
        sb.Append("| ").Append(payload.Length - 64).Append(" | `").Append(Hex(payload.AsSpan(payload.Length - 64, 8))).Append("…` | signature r ‖ s (64 bytes) |\n\n");
    }

    private static void Nal(StringBuilder sb, byte[] payload)
    {
        foreach (var codec in new[] { VideoCodec.H264, VideoCodec.H265 })
        {
            var nal = new byte[SeiNalWriter.GetLength(codec, NalFraming.AnnexB, 5, payload)];
            SeiNalWriter.Write(codec, NalFraming.AnnexB, 5, payload, nal);
            sb.Append("The same payload as a complete ").Append(codec == VideoCodec.H264 ? "H.264" : "H.265").Append(" SEI NAL unit in Annex B (")
              .Append(nal.Length).Append(" bytes with the 4-byte start code, ").Append(nal.Length - 4).Append(" without):\n```hex\n");
            var hex = Convert.ToHexString(nal).ToLowerInvariant();
            for (var i = 0; i < hex.Length; i += 64) sb.Append(hex, i, Math.Min(64, hex.Length - i)).Append('\n');
            sb.Append("```\n\n");
        }
    }
}
