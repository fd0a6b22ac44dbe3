using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Messages;

/// <summary>
/// docs/sei-vectors.json is the machine-readable copy of the doc's vectors for readers in other languages (the
/// TypeScript web reader runs it too): the same payloads and verdicts as docs/sei-format.md, plus sequences of payloads
/// fed to one verifier (carousel repeats, cue conflicts, the replay window).
/// </summary>
public class SeiVectorsJsonTests
{
    internal static string JsonPath => Path.Combine(TestMedia.RepositoryRoot, "docs", "sei-vectors.json");

    [Test]
    public void JsonVectors_AreTheDocsVectors_ByteForByte()
    {
        var doc = File.ReadAllText(SeiFormatDocTests.DocPath);
        var fromDoc = SeiFormatDocTests.VectorPattern().Matches(doc).ToDictionary(m => m.Groups["name"].Value);
        using var json = JsonDocument.Parse(File.ReadAllText(JsonPath));
        var vectors = json.RootElement.GetProperty("vectors").EnumerateArray().ToList();
        Assert.That(vectors.Select(v => v.GetProperty("name").GetString()), Is.EquivalentTo(fromDoc.Keys), "the same vectors, by name");
        Assert.Multiple(() =>
        {
            foreach (var v in vectors)
            {
                var m = fromDoc[v.GetProperty("name").GetString()!];
                var name = m.Groups["name"].Value;
                Assert.That(v.GetProperty("payload_hex").GetString(), Is.EqualTo(m.Groups["hex"].Value.Replace("\n", "", StringComparison.Ordinal)), name);
                Assert.That(v.GetProperty("expect").GetString(), Is.EqualTo(m.Groups["expect"].Value), name);
                Assert.That(v.GetProperty("verify_at_us").GetInt64().ToString(CultureInfo.InvariantCulture), Is.EqualTo(m.Groups["at"].Value), name);
                var decoded = v.GetProperty("decoded");
                Assert.That(decoded.ValueKind == JsonValueKind.Null ? "" : decoded.GetRawText(), Is.EqualTo(m.Groups["json"].Value), name);
            }
        });
        Assert.That(ExtractPublicPem(doc), Is.EqualTo(json.RootElement.GetProperty("public_key_pem").GetString()));
    }

    [Test]
    public void JsonVectors_EachVerifiesAsStated()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(JsonPath));
        var root = json.RootElement;
        using var key = VerificationKey.FromPem(root.GetProperty("public_key_pem").GetString()!);
        var vectors = root.GetProperty("vectors").EnumerateArray().ToList();
        Assert.That(vectors, Has.Count.GreaterThanOrEqualTo(27));
        Assert.That(vectors.Count(v => v.GetProperty("format_version").GetInt32() == 2), Is.GreaterThanOrEqualTo(14), "version-2 vectors");
        Assert.Multiple(() =>
        {
            foreach (var v in vectors)
            {
                var name = v.GetProperty("name").GetString();
                var payload = Convert.FromHexString(v.GetProperty("payload_hex").GetString()!);
                var r = Verifier(root, key).Verify(payload, v.GetProperty("verify_at_us").GetInt64());
                var expect = v.GetProperty("expect").GetString();
                if (expect == "Accepted")
                {
                    Assert.That(r.Status, Is.EqualTo(VerificationStatus.Accepted), $"{name}: {r}");
                    Assert.That(r.Bundle is { } b ? SeiFormatVectors.ToJson(b) : SeiFormatVectors.ToJson(r.Message!), Is.EqualTo(v.GetProperty("decoded").GetRawText()), name);
                    Assert.That(r.NewMessages, Has.Count.EqualTo(r.Messages.Count), $"{name}: alone, every entry is new");
                }
                else
                {
                    Assert.That((r.Status, r.Reason.ToString()), Is.EqualTo((VerificationStatus.Rejected, expect)), $"{name}: {r}");
                }
            }
        });
    }

    [Test]
    public void JsonSequences_EachStepGetsItsVerdict()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(JsonPath));
        var root = json.RootElement;
        using var key = VerificationKey.FromPem(root.GetProperty("public_key_pem").GetString()!);
        var payloads = root.GetProperty("vectors").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!, v => Convert.FromHexString(v.GetProperty("payload_hex").GetString()!));
        var sequences = root.GetProperty("sequences").EnumerateArray().ToList();
        Assert.That(sequences.Select(s => s.GetProperty("name").GetString()), Is.SupersetOf(new[] { "v2 carousel", "v2 cue conflict", "v2 replay window", "v1 carousel", "v1 and v2 share cue identities",
            "refused bytes stay refused", "v2 access unit holds one payload", "v1 access unit ends at a failed signature" }));
        foreach (var sequence in sequences)
        {
            var verifier = Verifier(root, key);
            var step = 0;
            var scope = default(AccessUnitScope);
            int? unit = null;
            foreach (var s in sequence.GetProperty("steps").EnumerateArray())
            {
                var what = $"{sequence.GetProperty("name").GetString()} step {step++} ({s.GetProperty("vector").GetString()})";
                // Consecutive steps with the same access_unit are one access unit; a step without one is alone.
                int? stepUnit = s.TryGetProperty("access_unit", out var u) ? u.GetInt32() : null;
                if (stepUnit is null || stepUnit != unit) scope = default;
                unit = stepUnit;
                var r = verifier.Verify(payloads[s.GetProperty("vector").GetString()!], s.GetProperty("verify_at_us").GetInt64(), ref scope);
                Assert.That(r.Status.ToString(), Is.EqualTo(s.GetProperty("status").GetString()), $"{what}: {r}");
                if (s.GetProperty("reason").ValueKind == JsonValueKind.String) Assert.That(r.Reason.ToString(), Is.EqualTo(s.GetProperty("reason").GetString()), what);
                var expected = s.GetProperty("new_entries").EnumerateArray().Select(e => r.Messages[e.GetInt32()]).ToList();
                Assert.That(r.NewMessages, Is.EqualTo(expected), what);
            }
        }
    }

    [Test]
    public void JsonPeakShaving_EachCaseGetsItsOffset()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(JsonPath));
        var cases = json.RootElement.GetProperty("peak_shaving").EnumerateArray().ToList();
        Assert.That(cases.Select(c => (c.GetProperty("viewer_id").GetString(), c.GetProperty("cue_id").GetString(), c.GetProperty("spread_us").GetInt64())),
            Is.EqualTo(SeiFormatVectors.PeakShavingCases.Select(c => (c.ViewerId, c.CueId, c.SpreadMicros))), "the cases the generator writes");
        Assert.Multiple(() =>
        {
            foreach (var c in cases)
            {
                Assert.That(PeakShaving.OffsetMicros(c.GetProperty("viewer_id").GetString()!, c.GetProperty("cue_id").GetString()!, c.GetProperty("spread_us").GetInt64()),
                    Is.EqualTo(c.GetProperty("offset_us").GetInt64()), c.GetRawText());
            }
        });
    }

    private static MessageVerifier Verifier(JsonElement root, VerificationKey key)
    {
        var settings = root.GetProperty("verifier");
        var options = new VerifierOptions
        {
            MaxAge = TimeSpan.FromMicroseconds(settings.GetProperty("max_age_us").GetInt64()),
            MaxClockSkew = TimeSpan.FromMicroseconds(settings.GetProperty("max_clock_skew_us").GetInt64()),
            ReplayWindow = settings.GetProperty("replay_window").GetInt32(),
        };
        foreach (var stream in settings.GetProperty("stream_ids").EnumerateArray()) options.StreamIds.Add(stream.GetString()!);
        return new MessageVerifier(new KeyRing(key), options);
    }

    private static string ExtractPublicPem(string doc)
    {
        var m = Regex.Match(doc, "CatEvening-Key-Id: 1\n-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----");
        Assert.That(m.Success, Is.True, "the doc shows public key 1");
        return m.Value + "\n";
    }

    /// <summary>The JSON file's text (written by <see cref="SeiFormatDocTests.WriteDocVectors"/>).</summary>
    internal static string ToJson(IReadOnlyList<SeiFormatVectors.DocVector> vectors, IReadOnlyList<SeiFormatVectors.DocSequence> sequences, VerificationKey key)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("about", "CatEvening SEI test vectors (docs/sei-format.md section 8), TEST-ONLY key. Verify each payload with a fresh verifier " +
                "configured as 'verifier' at verify_at_us; 'decoded' is the accepted body (version 1: the message; version 2: the bundle), 'expect' " +
                "the verdict or the RejectionReason. Each sequence feeds its steps to one verifier; new_entries are the indices of the entries to report; " +
                "consecutive steps with the same access_unit are one access unit. peak_shaving: the PeakShaving offset of each case.");
            w.WriteString("uuid", CatEveningSei.UuidString);
            w.WriteNumber("key_id", key.KeyId);
            w.WriteString("public_key_pem", key.ExportPem().TrimEnd('\n') + "\n");
            w.WriteString("public_key_spki_base64", Convert.ToBase64String(key.SubjectPublicKeyInfo.Span));
            w.WriteStartObject("verifier");
            w.WriteStartArray("stream_ids");
            w.WriteStringValue("show-1");
            w.WriteEndArray();
            w.WriteNumber("max_age_us", 120_000_000);
            w.WriteNumber("max_clock_skew_us", 120_000_000);
            w.WriteNumber("replay_window", 65_536);
            w.WriteEndObject();
            w.WriteStartArray("vectors");
            foreach (var v in vectors)
            {
                w.WriteStartObject();
                w.WriteString("name", v.Name);
                w.WriteNumber("format_version", v.Payload.Length > CatEveningSei.VersionOffset ? v.Payload[CatEveningSei.VersionOffset] : -1);
                w.WriteString("expect", v.Expect);
                w.WriteNumber("verify_at_us", v.VerifyAt);
                w.WriteString("payload_hex", Convert.ToHexString(v.Payload).ToLowerInvariant());
                w.WritePropertyName("decoded");
                if (v.Json is null) w.WriteNullValue();
                else w.WriteRawValue(v.Json);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("sequences");
            foreach (var s in sequences)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("description", s.Description);
                w.WriteStartArray("steps");
                foreach (var step in s.Steps)
                {
                    w.WriteStartObject();
                    w.WriteString("vector", step.Vector);
                    w.WriteNumber("verify_at_us", step.VerifyAt);
                    w.WriteString("status", step.Status);
                    if (step.Reason is null) w.WriteNull("reason");
                    else w.WriteString("reason", step.Reason);
                    w.WriteStartArray("new_entries");
                    foreach (var e in step.NewEntries) w.WriteNumberValue(e);
                    w.WriteEndArray();
                    if (step.AccessUnit is { } unit) w.WriteNumber("access_unit", unit);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("peak_shaving");
            foreach (var c in SeiFormatVectors.PeakShavingCases)
            {
                w.WriteStartObject();
                w.WriteString("viewer_id", c.ViewerId);
                w.WriteString("cue_id", c.CueId);
                w.WriteNumber("spread_us", c.SpreadMicros);
                w.WriteNumber("offset_us", PeakShaving.OffsetMicros(c.ViewerId, c.CueId, c.SpreadMicros));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
