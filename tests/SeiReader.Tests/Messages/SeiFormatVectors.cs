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

    internal static string Generate()
    {
        using var key1 = TestKeys.Key1();
        using var key7 = SigningKey.FromPem(TestKeys.Key2PrivatePem, keyId: 7);
        var signer = new MessageSigner(key1);
        var sb = new StringBuilder();
        sb.Append(Begin).Append('\n');

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
        Vector(sb, "format version 2", "UnknownFormatVersion", signer.SignRaw(2, MessageBody.ToBytes(start)), null);
        Vector(sb, "signed but malformed body (array of 2)", "MalformedBody", signer.SignRaw(1, new byte[] { 0x92, 0x01, 0xa1, 0x73 }), null);
        Vector(sb, "other stream", "OtherStream", signer.Sign(new CueMessage(MessageKind.Custom, "show-2", 1, TestKeys.Now, 0, "x", 0, 0, ReadOnlySpan<byte>.Empty)), null);
        Vector(sb, "issued 10 minutes before verification", "IssuedTooLongAgo", signer.Sign(new CueMessage(MessageKind.Custom, "show-1", 2, TestKeys.Now - 600_000_000, 0, "x", 0, 0, ReadOnlySpan<byte>.Empty)), null);
        sb.Append("Vector 1 with s replaced by n − s: plain ECDSA (WebCrypto, OpenSSL) accepts it, CatEvening readers refuse it:\n\n");
        Vector(sb, "high s", "NonCanonicalSignature", Security.LowSTests.Flip(startPayload), null);
        Vector(sb, "truncated to 83 bytes", "MalformedEnvelope", startPayload.AsSpan(0, 83).ToArray(), null);

        var offset = PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000);
        sb.Append("Peak shaving: viewer `viewer-1`, cue `poll-1`, spread 5,000,000 µs → SHA-256(`poll-1` 00 `viewer-1`) = `")
          .Append(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes("poll-1\0viewer-1"))).ToLowerInvariant())
          .Append("`, offset = ").Append("<!-- peak -->").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(" µs.\n");
        sb.Append(End);
        return sb.ToString();
    }

    private static void Vector(StringBuilder sb, string name, string expect, byte[] payload, CatEveningMessage? message, long verifyAt = VerifyAt)
    {
        sb.Append("<!-- vector name=\"").Append(name).Append("\" expect=").Append(expect)
          .Append(" at=").Append(verifyAt.ToString(CultureInfo.InvariantCulture)).Append(" -->\n");
        sb.Append("**").Append(name).Append("** (").Append(payload.Length).Append(" bytes) → ").Append(expect).Append('\n');
        sb.Append("```hex\n");
        var hex = Convert.ToHexString(payload).ToLowerInvariant();
        for (var i = 0; i < hex.Length; i += 64) sb.Append(hex, i, Math.Min(64, hex.Length - i)).Append('\n');
        sb.Append("```\n");
        if (message is not null) sb.Append("```json\n").Append(ToJson(message)).Append("\n```\n");
        sb.Append('\n');
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
