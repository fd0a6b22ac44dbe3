using System.Globalization;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;
using CatEvening.SeiReader.Tests.Security;
using CatEvening.Tests.Shared;
using NUnit.Framework;

namespace CatEvening.SeiReader.Tests.Client;

/// <summary>
/// Issue 10: random mutations of real signed access units (x264 and x265 frames carrying a cue and a heartbeat, as two
/// format-version-1 payloads or one version-2 payload, in Annex B and with 4-byte lengths): bit flips, byte edits, SEI size edits, truncations, splices of two access units,
/// duplicated and deleted ranges, stray start codes. Every mutant goes through <see cref="CueReader.Feed"/>, a raw
/// <see cref="UserDataUnregisteredReader"/> walk and <see cref="MessageVerifier.Verify(ReadOnlySpan{byte}, long)"/> of
/// every payload found. Nothing may throw, nothing but a genuinely signed message may ever be accepted, and no access
/// unit may cost more than one failed signature verification. Bounded by count, not clock: 100,000 inputs here
/// (about a minute on a loaded machine); <c>scripts/fuzz-reader.sh</c> runs millions with
/// <c>CATEVENING_FUZZ_INPUTS</c> and <c>CATEVENING_FUZZ_SEED</c>.
/// </summary>
public class ReaderFuzzTests
{
    private const int DefaultInputs = 100_000;

    private static int Inputs => int.TryParse(Environment.GetEnvironmentVariable("CATEVENING_FUZZ_INPUTS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : DefaultInputs;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("CATEVENING_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 20261130;

    [Test]
    public void Fuzz_MutatedSignedAccessUnits_NeverThrow_AndNoForgeryVerifies()
    {
        using var key = TestKeys.Key1();
        var signer = new MessageSigner(key);
        var genuine = new List<CatEveningMessage>();
        var corpus = new List<(VideoCodec Codec, NalFraming Framing, byte[] Unit)>();
        foreach (var profile in new[] { VideoProfile.H264Main, VideoProfile.H265Main })
        {
            var clip = DemuxedClip.Load(profile);
            // The smallest frames, so that most mutations land near the SEI.
            foreach (var (p, i) in clip.Packets.Select((p, i) => (p, i)).OrderBy(x => x.p.Data.Length).Take(12))
            {
                var cue = TestKeys.Cue(seq: 1000 + genuine.Count, cueId: "fuzz-" + genuine.Count, appBytes: i % 33);
                var hb = TestKeys.Heartbeat(seq: 5000 + genuine.Count);
                genuine.Add(cue);
                genuine.Add(hb);
                // Every other frame in format version 2: the cue and the heartbeat in one payload under the heartbeat's number.
                var unit = i % 2 == 0
                    ? DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, signer.Sign(cue), signer.Sign(hb))
                    : DemuxedClip.Splice(p.Data, clip.Codec, NalFraming.AnnexB, signer.Sign(new MessageBundle(TestKeys.StreamId, hb.SequenceNumber, TestKeys.Now, [cue, hb])));
                corpus.Add((clip.Codec, NalFraming.AnnexB, unit));
                corpus.Add((clip.Codec, NalFraming.LengthPrefixed4, DemuxedClip.ToLengthPrefixed(unit, clip.Codec)));
            }
        }

        var random = new Random(Seed);
        var clock = TestKeys.Now;
        var options = new VerifierOptions { MaxAge = TimeSpan.FromDays(1), MaxVerificationsPerSecond = 1_000_000, CacheSize = 64 };
        var verifier = new MessageVerifier(new KeyRing(key.PublicKey), options);
        var readers = new Dictionary<(VideoCodec, NalFraming), CueReader>();
        var accepted = 0L;
        var failedThisFeed = 0;
        var failures = new List<string>();
        var scratch = new byte[1 << 20];
        for (var n = 0; n < Inputs && failures.Count < 5; n++)
        {
            var (codec, framing, original) = corpus[random.Next(corpus.Count)];
            var mutant = Mutate(original, corpus[random.Next(corpus.Count)].Unit, random);
            clock += 1000;
            if (!readers.TryGetValue((codec, framing), out var reader))
            {
                reader = new CueReader(verifier, codec, framing, TimeBase.Mpeg90kHz, utcNowMicros: () => clock);
                reader.CueReceived += (_, e) => { accepted++; Check(e.Cue); };
                reader.HeartbeatReceived += (_, e) => { accepted++; Check(e.Heartbeat); };
                reader.MessageRejected += (_, e) => { if (e.Reason == RejectionReason.BadSignature) failedThisFeed++; };
                readers.Add((codec, framing), reader);
            }
            try
            {
                var before = verifier.SignatureVerifications;
                failedThisFeed = 0;
                reader.Feed(mutant, random.Next(2) == 0 ? null : random.NextInt64(-1L << 40, 1L << 40));
                var cost = verifier.SignatureVerifications - before;
                if (failedThisFeed > 1 || cost > options.MaxPayloadsPerAccessUnit)
                    failures.Add($"input {n}: {cost} verifications, {failedThisFeed} failed, for one access unit");

                if (scratch.Length < mutant.Length) scratch = new byte[mutant.Length];
                var walk = new UserDataUnregisteredReader(mutant, codec, framing, scratch);
                for (var guard = 0; guard < 100_000; guard++)
                {
                    var status = walk.Read(out var udu);
                    if (status == ReadStatus.EndOfData) break;
                    if (status == ReadStatus.Malformed)
                    {
                        _ = walk.DescribeError();
                        if (!walk.CanContinue) break;
                        continue;
                    }
                    var payload = udu.Payload.ToArray();
                    if (random.Next(4) == 0) payload[random.Next(payload.Length)] ^= (byte)(1 << random.Next(8));
                    var r = verifier.Verify(payload, clock);
                    if (r.Status is VerificationStatus.Accepted or VerificationStatus.Repeat)
                        foreach (var m in r.Messages) Check(m);
                }
            }
            catch (Exception e)
            {
                failures.Add($"input {n} (seed {Seed}): {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(mutant)}");
            }

            void Check(CatEveningMessage m)
            {
                if (!genuine.Any(g => g.Equals(m))) failures.Add($"input {n} (seed {Seed}): a message nobody signed was accepted: {m}");
            }
        }
        Assert.Multiple(() =>
        {
            Assert.That(failures, Is.Empty);
            Assert.That(accepted, Is.GreaterThan(0), "intact messages still get through");
            Assert.That(readers.Values.Sum(r => r.Statistics.MalformedSei), Is.GreaterThan(0), "the mutations reach the SEI syntax");
            Assert.That(readers.Values.Sum(r => r.Statistics.Rejected), Is.GreaterThan(0), "the mutations reach the signatures");
        });
        TestContext.Out.WriteLine($"{Inputs} inputs, seed {Seed}: {accepted} accepted, {verifier.SignatureVerifications} verifications, " +
            $"{readers.Values.Sum(r => r.Statistics.MalformedSei)} malformed SEI, {readers.Values.Sum(r => r.Statistics.Rejected)} rejected");
    }

    /// <summary>One random mutation (sometimes two) of <paramref name="unit"/>; <paramref name="other"/> feeds splices.</summary>
    internal static byte[] Mutate(byte[] unit, byte[] other, Random random)
    {
        var data = unit;
        var rounds = random.Next(4) == 0 ? 2 : 1;
        for (var round = 0; round < rounds; round++)
        {
            // Aim three times in four at the CatEvening SEI (its UUID is easy to find), else anywhere.
            var uuidAt = data.AsSpan().IndexOf(CatEveningSei.Uuid);
            int At(int span) => uuidAt >= 0 && random.Next(4) != 0
                ? Math.Clamp(uuidAt - 8 + random.Next(span), 0, data.Length - 1)
                : random.Next(data.Length);
            data = (byte[])data.Clone();
            if (data.Length == 0) return data;
            switch (random.Next(9))
            {
                case 0: // bit flips
                    for (var k = random.Next(1, 9); k > 0; k--)
                    {
                        var i = At(400);
                        data[i] ^= (byte)(1 << random.Next(8));
                    }
                    break;
                case 1: // interesting bytes
                {
                    byte[] values = [0x00, 0x01, 0x03, 0x05, 0x06, 0x4e, 0x7f, 0x80, 0xfe, 0xff];
                    data[At(400)] = values[random.Next(values.Length)];
                    break;
                }
                case 2: // SEI payloadSize (the byte or bytes just before the UUID) or a NAL length prefix edited
                {
                    var i = uuidAt > 0 && random.Next(2) == 0 ? uuidAt - 1 - random.Next(Math.Min(3, uuidAt)) : random.Next(Math.Min(data.Length, 8));
                    data[i] = (byte)(random.Next(3) switch { 0 => data[i] + random.Next(-3, 4), 1 => 0xff, _ => random.Next(256) });
                    break;
                }
                case 3: // truncation
                    data = data[..random.Next(data.Length)];
                    break;
                case 4: // splice: a prefix of this unit and a suffix of another
                {
                    var cut = random.Next(data.Length);
                    var from = random.Next(other.Length);
                    data = [.. data.AsSpan(0, cut), .. other.AsSpan(from)];
                    break;
                }
                case 5: // a range of another unit inserted
                {
                    var at = random.Next(data.Length);
                    var from = random.Next(other.Length);
                    var length = Math.Min(random.Next(1, 600), other.Length - from);
                    data = [.. data.AsSpan(0, at), .. other.AsSpan(from, length), .. data.AsSpan(at)];
                    break;
                }
                case 6: // a range duplicated (several copies of a payload)
                {
                    var at = At(300);
                    var length = Math.Min(random.Next(1, 400), data.Length - at);
                    var copies = random.Next(1, 5);
                    var repeated = Enumerable.Repeat(data[at..(at + length)], copies).SelectMany(b => b);
                    data = [.. data.AsSpan(0, at + length), .. repeated, .. data.AsSpan(at + length)];
                    break;
                }
                case 7: // a range deleted
                {
                    var at = At(300);
                    var length = Math.Min(random.Next(1, 200), data.Length - at);
                    data = [.. data.AsSpan(0, at), .. data.AsSpan(at + length)];
                    break;
                }
                default: // a stray start code or 00 00 03
                {
                    var at = At(400);
                    byte[] code = random.Next(2) == 0 ? [0, 0, 1] : [0, 0, 3];
                    data = [.. data.AsSpan(0, at), .. code, .. data.AsSpan(at)];
                    break;
                }
            }
        }
        return data;
    }
}
