using System.Globalization;
using System.Text.RegularExpressions;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Messages;

/// <summary>docs/sei-format.md is a contract: its test vectors must verify exactly as it says.</summary>
public partial class SeiFormatDocTests
{
    internal static string DocPath => Path.Combine(TestMedia.RepositoryRoot, "docs", "sei-format.md");

    [GeneratedRegex("<!-- vector name=\"(?<name>[^\"]+)\" expect=(?<expect>\\w+) at=(?<at>\\d+) -->\\n[^\\n]*\\n```hex\\n(?<hex>[0-9a-f\\n]+)```\\n(```json\\n(?<json>[^\\n]+)\\n```)?")]
    internal static partial Regex VectorPattern();

    [Test]
    public void DocVectors_EachVerifiesAsTheDocSays()
    {
        var doc = File.ReadAllText(DocPath);
        var matches = VectorPattern().Matches(doc);
        Assert.That(matches, Has.Count.GreaterThanOrEqualTo(27), "every vector is found");
        using var key1 = SigningKey.FromPem(ExtractPem(doc, "PRIVATE KEY"));
        foreach (Match m in matches)
        {
            var payload = Convert.FromHexString(m.Groups["hex"].Value.Replace("\n", "", StringComparison.Ordinal));
            var verifier = SeiFormatVectors.Verifier(new KeyRing(VerificationKey.FromPem(ExtractPem(doc, "PUBLIC KEY"))));
            var r = verifier.Verify(payload, long.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture));
            var name = m.Groups["name"].Value;
            var expect = m.Groups["expect"].Value;
            if (expect == "Accepted")
            {
                Assert.That(r.Status, Is.EqualTo(VerificationStatus.Accepted), $"{name}: {r}");
                var decoded = r.Bundle is { } bundle ? SeiFormatVectors.ToJson(bundle) : SeiFormatVectors.ToJson(r.Message!);
                Assert.That(decoded, Is.EqualTo(m.Groups["json"].Value), name);
            }
            else
            {
                Assert.That(r.Status, Is.EqualTo(VerificationStatus.Rejected), $"{name}: {r}");
                Assert.That(r.Reason.ToString(), Is.EqualTo(expect), name);
            }
        }
        Assert.That(key1.KeyId, Is.EqualTo(1), "the doc's private key is test key 1");
    }

    [Test]
    public void DocVectors_CarouselRepeatAfterTheFirst_IsARepeat()
    {
        var doc = File.ReadAllText(DocPath);
        var vectors = VectorPattern().Matches(doc).ToDictionary(m => m.Groups["name"].Value, m => Convert.FromHexString(m.Groups["hex"].Value.Replace("\n", "", StringComparison.Ordinal)));
        var verifier = SeiFormatVectors.Verifier(new KeyRing(VerificationKey.FromPem(ExtractPem(doc, "PUBLIC KEY"))));
        Assert.That(verifier.Verify(vectors["interaction-start"], SeiFormatVectors.VerifyAt).Status, Is.EqualTo(VerificationStatus.Accepted));
        Assert.That(verifier.Verify(vectors["interaction-start-repeat"], SeiFormatVectors.VerifyAt + 2_000_000).Status, Is.EqualTo(VerificationStatus.Repeat));
    }

    /// <summary>A second, independent verifier: Node's WebCrypto (what a browser client uses) checks the doc vectors'
    /// P1363 signatures with the doc's SPKI key. Signed-but-refused vectors (other stream, too old, bad body, version 2)
    /// carry good signatures; the bit-flipped one and the one signed by another key do not.</summary>
    [Test]
    public void DocVectors_SignaturesVerifyWithWebCryptoInNode()
    {
        if (FFmpegCli.Run("sh", ["-c", "command -v node"]).ExitCode != 0) Assert.Ignore("node is not installed: WebCrypto cross-check skipped");
        var doc = File.ReadAllText(DocPath);
        var vectors = VectorPattern().Matches(doc).Select(m => (Name: m.Groups["name"].Value, Expect: m.Groups["expect"].Value,
            Hex: m.Groups["hex"].Value.Replace("\n", "", StringComparison.Ordinal))).ToList();
        using var publicKey = VerificationKey.FromPem(ExtractPem(doc, "PUBLIC KEY"));
        var spki = Convert.ToBase64String(publicKey.SubjectPublicKeyInfo.Span);
        const string script = """
            const { subtle } = globalThis.crypto;
            const [spki, ...payloads] = process.argv.slice(1);
            const key = await subtle.importKey('spki', Buffer.from(spki, 'base64'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
            for (const hex of payloads) {
              const b = Buffer.from(hex, 'hex');
              const ok = b.length >= 84 && await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b.subarray(b.length - 64), b.subarray(0, b.length - 64));
              console.log(ok ? 'true' : 'false');
            }
            """;
        var result = FFmpegCli.Run("node", ["--input-type=module", "-e", script, spki, .. vectors.Select(v => v.Hex)]).EnsureSuccess("node WebCrypto");
        var verdicts = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(verdicts, Has.Length.EqualTo(vectors.Count));
        for (var i = 0; i < vectors.Count; i++)
        {
            var expected = vectors[i].Expect is not ("BadSignature" or "UnknownKeyId" or "MalformedEnvelope");
            Assert.That(verdicts[i], Is.EqualTo(expected ? "true" : "false"), vectors[i].Name);
        }
    }

    [Test]
    public void DocPeakShavingExample_MatchesTheCode()
    {
        var doc = File.ReadAllText(DocPath);
        var m = Regex.Match(doc, "<!-- peak -->(\\d+)");
        Assert.That(m.Success, Is.True);
        Assert.That(CatEvening.SeiReader.Client.PeakShaving.OffsetMicros("viewer-1", "poll-1", 5_000_000).ToString(CultureInfo.InvariantCulture), Is.EqualTo(m.Groups[1].Value));
    }

    [Test]
    public void DocTestKeys_AreTheTestSuitesKeys()
    {
        var doc = File.ReadAllText(DocPath);
        using var key = TestKeys.Key1();
        Assert.That(ExtractPem(doc, "PUBLIC KEY").Trim(), Is.EqualTo(key.PublicKey.ExportPem().Trim()));
    }

    /// <summary>Regenerates the vectors section of docs/sei-format.md (run by hand after a format change).</summary>
    [Test, Explicit("rewrites docs/sei-format.md")]
    public void WriteDocVectors()
    {
        var doc = File.ReadAllText(DocPath);
        var begin = doc.IndexOf(SeiFormatVectors.Begin, StringComparison.Ordinal);
        var end = doc.IndexOf(SeiFormatVectors.End, StringComparison.Ordinal);
        Assert.That(begin >= 0 && end > begin, Is.True, "the doc has the vector markers");
        File.WriteAllText(DocPath, doc[..begin] + SeiFormatVectors.Generate() + doc[(end + SeiFormatVectors.End.Length)..]);
        var (vectors, sequences) = SeiFormatVectors.LastGenerated;
        using var key = TestKeys.Key1();
        File.WriteAllText(SeiVectorsJsonTests.JsonPath, SeiVectorsJsonTests.ToJson(vectors, sequences, key.PublicKey));
    }

    internal static string ExtractPem(string doc, string label)
    {
        var begin = doc.IndexOf("CatEvening-Key-Id: 1\n-----BEGIN " + label + "-----", StringComparison.Ordinal);
        Assert.That(begin, Is.GreaterThanOrEqualTo(0), $"the doc shows test key 1's {label}");
        var endMarker = "-----END " + label + "-----";
        var end = doc.IndexOf(endMarker, begin, StringComparison.Ordinal) + endMarker.Length;
        return doc[begin..end] + "\n";
    }
}
