// The Mono checker: what a client team on Mono or Unity does with CatEvening.SeiReader, through the public API only,
// compiled with Mono's mcs against the library's netstandard2.0 build and run on the Mono runtime
// (tests/MonoChecker/run.sh builds the inputs). Each check is one test in a .trx file, so CI counts them.
// Written in the C# that mcs understands (no switch expressions, no nullable annotations, no ranges).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

internal sealed class CheckFailedException : Exception
{
    public CheckFailedException(string message) : base(message) { }
}

internal sealed class CheckResult
{
    public string Name;
    public bool Passed;
    public string Detail;
    public TimeSpan Duration;
}

internal static class MonoChecker
{
    private const long DocVerifyAt = 1795888801000000;
    private static readonly List<CheckResult> Results = new List<CheckResult>();

    private static int Main(string[] args)
    {
        string repo = null, trx = null;
        var streams = new List<string[]>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repo") repo = args[++i];
            else if (args[i] == "--trx") trx = args[++i];
            // --stream NAME CODEC MP4 PACKETS_CSV TIME_BASE INSPECT_JSONL PUBLIC_PEM
            else if (args[i] == "--stream") { streams.Add(args.Skip(i + 1).Take(7).ToArray()); i += 7; }
            else { Console.Error.WriteLine("unknown argument " + args[i]); return 2; }
        }
        if (repo == null || trx == null) { Console.Error.WriteLine("usage: MonoChecker.exe --repo DIR --trx FILE [--stream ...]"); return 2; }

        var doc = File.ReadAllText(Path.Combine(repo, "docs", "sei-format.md"));
        Check("Runtime_IsMono", () =>
        {
            var mono = Type.GetType("Mono.Runtime");
            Expect(mono != null, "not running on Mono");
            var version = (string)mono.GetMethod("GetDisplayName", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static).Invoke(null, null);
            return "Mono " + version;
        });
        Check("PlatformEcdsa_IsMissingOnMono_AsTheIssueSays", () =>
        {
            try
            {
                using (var e = ECDsa.Create(ECCurve.NamedCurves.nistP256)) { }
            }
            catch (NotImplementedException) { return "ECDsa.Create(nistP256) throws NotImplementedException"; }
            throw new CheckFailedException("ECDsa.Create(nistP256) worked: this Mono has an ECDsa; the checker's premise is stale");
        });
        Check("KeyRing_AddPem_DocKey_LoadsWithBouncyCastle", () =>
        {
            var key = new KeyRing().AddPem(ExtractPem(doc, "PUBLIC KEY"));
            Expect(key.KeyId == 1, "key id " + key.KeyId);
            Expect(key.Backend == EcdsaBackend.BouncyCastle, "backend " + key.Backend);
            Expect(key.SubjectPublicKeyInfo.Length == 91, "SPKI of " + key.SubjectPublicKeyInfo.Length + " bytes");
            return "backend " + key.Backend;
        });

        var vectors = DocVectors(doc);
        Check("DocVectors_AllFound", () =>
        {
            Expect(vectors.Count >= 13, vectors.Count + " vectors in docs/sei-format.md section 8");
            Expect(vectors.Count(x => x.Payload.Length > 16 && x.Payload[16] == 2) >= 10, "the version-2 vectors of section 8.2 are missing");
            return vectors.Count + " vectors";
        });
        foreach (var v in vectors)
        {
            var vector = v;
            Check("DocVector_" + Regex.Replace(vector.Name, "[^A-Za-z0-9]+", "_") + "_Is" + vector.Expect, () => CheckVector(doc, vector));
        }
        Check("DocVectors_CarouselRepeatAfterTheFirst_IsARepeat", () =>
        {
            var verifier = DocVerifier(doc);
            var first = verifier.Verify(Find(vectors, "interaction-start").Payload, DocVerifyAt);
            var repeat = verifier.Verify(Find(vectors, "interaction-start-repeat").Payload, DocVerifyAt + 2000000);
            Expect(first.Status == VerificationStatus.Accepted, "first: " + first);
            Expect(repeat.Status == VerificationStatus.Repeat, "repeat: " + repeat);
            return "Accepted, then Repeat";
        });
        Check("DocVectors_V2CarouselRepeat_ReportsOnlyTheNewHeartbeat", () =>
        {
            // docs/sei-vectors.json sequence "v2 carousel": a cue entry seen before is a repeat, the heartbeat beside it is new.
            var verifier = DocVerifier(doc);
            var first = verifier.Verify(Find(vectors, "v2 start, custom and heartbeat on one frame").Payload, DocVerifyAt);
            var repeat = verifier.Verify(Find(vectors, "v2 carousel repeat and heartbeat").Payload, DocVerifyAt + 2000000);
            var again = verifier.Verify(Find(vectors, "v2 start, custom and heartbeat on one frame").Payload, DocVerifyAt + 2000000);
            Expect(first.Status == VerificationStatus.Accepted && first.NewMessages.Count == 3, "first: " + first + ", " + first.NewMessages.Count + " new");
            Expect(repeat.Status == VerificationStatus.Accepted && repeat.NewMessages.Count == 1 && repeat.NewMessages[0] is HeartbeatMessage,
                "repeat: " + repeat + ", " + repeat.NewMessages.Count + " new");
            Expect(again.Status == VerificationStatus.Repeat && again.NewMessages.Count == 0, "the first again: " + again);
            return "3 new, then the heartbeat only, then Repeat";
        });
        Check("DocVectors_V2CueNumberWithOtherContent_IsReplayedSequence", () =>
        {
            var verifier = DocVerifier(doc);
            var first = verifier.Verify(Find(vectors, "v2 start, custom and heartbeat on one frame").Payload, DocVerifyAt);
            var conflict = verifier.Verify(Find(vectors, "v2 cue 42 with other content").Payload, DocVerifyAt);
            Expect(first.Status == VerificationStatus.Accepted, "first: " + first);
            Expect(conflict.Status == VerificationStatus.Rejected && conflict.Reason == RejectionReason.ReplayedSequence, "conflict: " + conflict);
            return "Accepted, then " + conflict.Reason;
        });
        Check("DocVectors_V2TransmissionBeyondTheReplayWindow_IsTooFarBehind", () =>
        {
            var verifier = DocVerifier(doc);
            var ahead = verifier.Verify(Find(vectors, "v2 transmission 70000 ahead").Payload, DocVerifyAt);
            var behind = verifier.Verify(Find(vectors, "v2 start, custom and heartbeat on one frame").Payload, DocVerifyAt);
            Expect(ahead.Status == VerificationStatus.Accepted, "ahead: " + ahead);
            Expect(behind.Status == VerificationStatus.Rejected && behind.Reason == RejectionReason.SequenceTooFarBehind, "behind: " + behind);
            return "Accepted, then " + behind.Reason;
        });
        Check("CueReader_Feed_DocH264SeiNal_RaisesTheCue", () => CheckNalVector(doc, "H.264", VideoCodec.H264, 0));
        Check("CueReader_Feed_DocH265SeiNal_RaisesTheCue", () => CheckNalVector(doc, "H.265", VideoCodec.H265, 0));
        Check("CueReader_Feed_DocV2H264SeiNal_RaisesBothCuesAndTheHeartbeat", () => CheckNalVector(doc, "H.264", VideoCodec.H264, 1));
        Check("CueReader_Feed_DocV2H265SeiNal_RaisesBothCuesAndTheHeartbeat", () => CheckNalVector(doc, "H.265", VideoCodec.H265, 1));
        Check("PeakShaving_DocExample", () =>
        {
            var m = Regex.Match(doc, "<!-- peak -->(\\d+)");
            Expect(m.Success, "no peak shaving example in the doc");
            var offset = PeakShaving.OffsetMicros("viewer-1", "poll-1", 5000000);
            Expect(offset.ToString(CultureInfo.InvariantCulture) == m.Groups[1].Value, "offset " + offset + ", the doc says " + m.Groups[1].Value);
            return offset + " us";
        });
        Check("ServerClock_OneExchange_GivesTheProtocolDocsOffsetAndHalfTheRoundTrip", () =>
        {
            // docs/probe-protocol.md: theta = ((t1 - t0) + (t2 - t3)) / 2, delta = (t3 - t0) - (t2 - t1), offset within theta +- delta/2.
            long t0 = 1795888800000000, t1 = t0 + 5000000 + 30000, t2 = t1 + 2000, t3 = t0 + 62000;
            var clock = new ServerClock();
            var status = clock.AddExchange(t0, t1, t2, t3);
            // Asked at the exchange's midpoint, where the estimate is made: later it widens by the drift allowance.
            var e = clock.GetEstimate(t0 + (t3 - t0) / 2);
            var theta = ((t1 - t0) + (t2 - t3)) / 2;
            var delta = (t3 - t0) - (t2 - t1);
            Expect(status == ClockExchangeStatus.Accepted, "status " + status);
            Expect(e.OffsetMicros == theta, "offset " + e.OffsetMicros + ", doc formula " + theta);
            Expect(e.UncertaintyMicros == delta / 2, "uncertainty " + e.UncertaintyMicros + ", doc formula " + delta / 2);
            Expect(clock.ToServerTime(t0 + (t3 - t0) / 2) == t0 + (t3 - t0) / 2 + theta, "ToServerTime");
            return "offset " + e.OffsetMicros + " us +- " + e.UncertaintyMicros + " us";
        });
        Check("ServerClock_SixteenExchangesOverAJitteryPath_KeepTheTrueOffsetInsideTheUncertainty", () =>
        {
            const long trueOffset = -2500000;
            var clock = new ServerClock();
            var random = new Random(16);
            long local = 1795888800000000;
            for (var i = 0; i < 16; i++)
            {
                long up = 8000 + random.Next(20000), down = 8000 + random.Next(20000);
                long t0 = local, t1 = t0 + up + trueOffset, t2 = t1 + 300, t3 = t2 - trueOffset + down;
                clock.AddExchange(t0, t1, t2, t3);
                local = t3 + 1000000;
            }
            var e = clock.GetEstimate(local);
            Expect(Math.Abs(e.OffsetMicros - trueOffset) <= e.UncertaintyMicros, "offset " + e.OffsetMicros + " +- " + e.UncertaintyMicros + ", true " + trueOffset);
            return "offset " + e.OffsetMicros + " us +- " + e.UncertaintyMicros + " us (true " + trueOffset + ")";
        });
        foreach (var s in streams)
        {
            var stream = s;
            Check("CueReader_Feed_InjectedStream_" + stream[0] + "_RaisesWhatSeiInjectInspectReports", () => CheckStream(stream));
        }

        WriteTrx(trx);
        ReportVerifyTime(doc, vectors);
        var failed = Results.Count(r => !r.Passed);
        Console.WriteLine("mono-checker: " + (Results.Count - failed) + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>A figure, not a check (no time bound): how long one BouncyCastle verification takes on this Mono,
    /// for benchmarks/RESULTS.md next to the BenchmarkDotNet figures on .NET.</summary>
    private static void ReportVerifyTime(string doc, List<Vector> vectors)
    {
        var v = vectors.FirstOrDefault(x => x.Name == "interaction-start");
        if (v == null) return;
        var key = new KeyRing().AddPem(ExtractPem(doc, "PUBLIC KEY"));
        var signed = v.Payload.Take(v.Payload.Length - 64).ToArray();
        var signature = v.Payload.Skip(v.Payload.Length - 64).ToArray();
        for (var i = 0; i < 20; i++) key.Verify(signed, signature);
        const int runs = 200;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
            if (!key.Verify(signed, signature)) throw new InvalidOperationException("vector 1 stopped verifying");
        watch.Stop();
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "mono-checker: {0} verify on Mono: {1:F0} us per signature ({2} runs, {3}-byte signed region)",
            key.Backend, watch.Elapsed.TotalMilliseconds * 1000 / runs, runs, signed.Length));
    }

    private sealed class Vector
    {
        public string Name, Expect, Json;
        public long At;
        public byte[] Payload;
    }

    private static List<Vector> DocVectors(string doc)
    {
        var pattern = new Regex("<!-- vector name=\"(?<name>[^\"]+)\" expect=(?<expect>\\w+) at=(?<at>\\d+) -->\\n[^\\n]*\\n```hex\\n(?<hex>[0-9a-f\\n]+)```\\n(```json\\n(?<json>[^\\n]+)\\n```)?");
        var list = new List<Vector>();
        foreach (Match m in pattern.Matches(doc))
        {
            list.Add(new Vector
            {
                Name = m.Groups["name"].Value,
                Expect = m.Groups["expect"].Value,
                At = long.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture),
                Payload = Hex(m.Groups["hex"].Value),
                Json = m.Groups["json"].Success ? m.Groups["json"].Value : null,
            });
        }
        return list;
    }

    private static Vector Find(List<Vector> vectors, string name)
    {
        var v = vectors.FirstOrDefault(x => x.Name == name);
        if (v == null) throw new CheckFailedException("no vector named " + name);
        return v;
    }

    private static MessageVerifier DocVerifier(string doc)
    {
        var options = new VerifierOptions { MaxAge = TimeSpan.FromMinutes(2), MaxClockSkew = TimeSpan.FromMinutes(2), ReplayWindow = 65536 };
        options.StreamIds.Add("show-1");
        var ring = new KeyRing();
        ring.AddPem(ExtractPem(doc, "PUBLIC KEY"));
        return new MessageVerifier(ring, options);
    }

    private static string CheckVector(string doc, Vector v)
    {
        var r = DocVerifier(doc).Verify(v.Payload, v.At);
        if (v.Expect == "Accepted")
        {
            Expect(r.Status == VerificationStatus.Accepted, "status " + r);
            // Byte 16 is the format version: version 1 decodes to one message, version 2 to a bundle of entries.
            var json = v.Payload[16] == 2 ? ToJson(r.Bundle) : ToJson(r.Message);
            Expect(json == v.Json, "decoded " + json + ", the doc says " + v.Json);
            return "Accepted " + json;
        }
        Expect(r.Status == VerificationStatus.Rejected, "status " + r);
        Expect(r.Reason.ToString() == v.Expect, "reason " + r.Reason + " (" + r.Detail + ")");
        return "Rejected " + r.Reason + ": " + r.Detail;
    }

    /// <summary>Feeds the doc's NAL vector of a codec to a CueReader: <paramref name="index"/> 0 is vector 1 (format
    /// version 1, one cue), 1 the first version-2 vector (start and custom cues and a heartbeat in one payload).</summary>
    private static string CheckNalVector(string doc, string codecName, VideoCodec codec, int index)
    {
        var matches = Regex.Matches(doc, "The same payload as a complete " + Regex.Escape(codecName) + " SEI NAL unit in Annex B[^\\n]*\\n```hex\\n(?<hex>[0-9a-f\\n]+)```");
        Expect(matches.Count > index, matches.Count + " " + codecName + " NAL vectors in the doc, wanted #" + index);
        var reader = new CueReader(DocVerifier(doc), codec, NalFraming.AnnexB, new TimeBase(1, 90000), WrappingTimestamps.MpegTsBits, () => DocVerifyAt);
        var cues = new List<CueReceivedEventArgs>();
        var heartbeats = new List<HeartbeatReceivedEventArgs>();
        var rejected = new List<string>();
        reader.CueReceived += (_, e) => cues.Add(e);
        reader.HeartbeatReceived += (_, e) => heartbeats.Add(e);
        reader.MessageRejected += (_, e) => rejected.Add(e.Reason + ": " + e.Detail);
        const long carrier = 900000;
        var events = reader.Feed(Hex(matches[index].Groups["hex"].Value), carrier, carrier);
        Expect(rejected.Count == 0, "rejected: " + string.Join("; ", rejected));
        var wantCues = index == 0 ? 1 : 2;
        var wantHeartbeats = index == 0 ? 0 : 1;
        Expect(events == wantCues + wantHeartbeats && cues.Count == wantCues && heartbeats.Count == wantHeartbeats,
            events + " events, " + cues.Count + " cues, " + heartbeats.Count + " heartbeats");
        Expect(reader.Statistics.SignatureVerifications == 1, reader.Statistics.SignatureVerifications + " signature verifications for one access unit");
        var cue = cues[0];
        Expect(cue.Cue.CueId == "poll-1" && cue.Cue.Kind == MessageKind.InteractionStart && cue.Cue.SequenceNumber == 42, "cue " + cue.Cue);
        Expect(cue.CarrierPts == carrier, "carrier " + cue.CarrierPts);
        Expect(cue.TargetPts == carrier - 3003, "target " + cue.TargetPts + ", expected carrier + target_offset_90k = " + (carrier - 3003));
        if (index == 0) return "cue poll-1 at PTS " + cue.TargetPts;
        var custom = cues[1];
        Expect(custom.Cue.CueId == "confetti" && custom.Cue.Kind == MessageKind.Custom && custom.Cue.SequenceNumber == 46, "cue " + custom.Cue);
        Expect(custom.TargetPts == carrier + 90000, "target " + custom.TargetPts + ", expected " + (carrier + 90000));
        Expect(cue.TransmissionSequenceNumber == 1795888800000 && custom.TransmissionSequenceNumber == 1795888800000,
            "transmission " + cue.TransmissionSequenceNumber + " / " + custom.TransmissionSequenceNumber);
        Expect(heartbeats[0].Heartbeat.CarrierPts == 8589930000, "heartbeat carrier PTS " + heartbeats[0].Heartbeat.CarrierPts);
        return "transmission 1795888800000: cue poll-1 at PTS " + cue.TargetPts + ", cue confetti at PTS " + custom.TargetPts + ", a heartbeat; 1 verification";
    }

    /// <summary>Feeds every video packet of an MP4 (its bytes read at the offsets ffprobe gives) and compares the
    /// events with `sei-inject inspect --json` of the same file, which reads it with FFmpeg and the .NET build.</summary>
    private static string CheckStream(string[] s)
    {
        string name = s[0], codecName = s[1], mp4 = s[2], csv = s[3], timeBaseText = s[4], inspect = s[5], pem = s[6];
        var codec = codecName == "h264" ? VideoCodec.H264 : VideoCodec.H265;
        var tb = timeBaseText.Split('/');
        var timeBase = new TimeBase(int.Parse(tb[0], CultureInfo.InvariantCulture), int.Parse(tb[1], CultureInfo.InvariantCulture));
        var ring = new KeyRing();
        ring.AddPem(File.ReadAllText(pem));
        var reader = new CueReader(new MessageVerifier(ring), codec, NalFraming.LengthPrefixed4, timeBase, WrappingTimestamps.NoWrap);
        var got = new List<string>();
        var rejected = new List<string>();
        var heartbeats = 0;
        reader.CueReceived += (_, e) => got.Add(string.Format(CultureInfo.InvariantCulture, "{0} {1} seq={2} fire={3:F6}",
            e.Cue.Kind.ToWireName(), e.Cue.CueId, e.Cue.SequenceNumber, (double)e.TargetPts.Value * timeBase.Numerator / timeBase.Denominator));
        reader.HeartbeatReceived += (_, e) => heartbeats++;
        reader.MessageRejected += (_, e) => rejected.Add(e.Reason + ": " + e.Detail);
        var file = File.ReadAllBytes(mp4);
        var packets = 0;
        foreach (var line in File.ReadAllLines(csv))
        {
            // pts,dts,size,pos (ffprobe -show_entries packet=pts,dts,size,pos -of csv=p=0, in that order)
            var f = line.Split(',');
            if (f.Length < 4) continue;
            var pts = long.Parse(f[0], CultureInfo.InvariantCulture);
            var dts = long.Parse(f[1], CultureInfo.InvariantCulture);
            var size = int.Parse(f[2], CultureInfo.InvariantCulture);
            var pos = long.Parse(f[3], CultureInfo.InvariantCulture);
            // A copy per packet, as a player hands over its packet buffer; mcs cannot name ReadOnlySpan here: Mono's
            // mscorlib and the System.Memory package both define it (Mono unifies them at run time).
            var packet = new byte[size];
            Array.Copy(file, pos, packet, 0, size);
            reader.Feed(packet, pts, dts);
            packets++;
        }
        var expected = new List<string>();
        var expectedHeartbeats = 0;
        var expectedRepeats = 0;
        // sei-inject writes format version 2 unless the stream's name says v1 (run.sh: --format-version 1).
        var formatVersion = name.EndsWith("-v1", StringComparison.Ordinal) ? "1" : "2";
        var carrierFrames = new HashSet<string>();
        foreach (var line in File.ReadAllLines(inspect))
        {
            if (line.Trim().Length == 0) continue;
            Expect(JsonField(line, "verified") == "true", "inspect did not verify: " + line);
            Expect(JsonField(line, "format_version") == formatVersion, "format version " + JsonField(line, "format_version") + ", expected " + formatVersion + ": " + line);
            carrierFrames.Add(JsonField(line, "frame"));
            var kind = Unquote(JsonField(line, "kind"));
            if (kind == "heartbeat") { expectedHeartbeats++; continue; }
            if (JsonField(line, "first") != "true") { expectedRepeats++; continue; }
            expected.Add(string.Format(CultureInfo.InvariantCulture, "{0} {1} seq={2} fire={3:F6}", kind, Unquote(JsonField(line, "id")),
                JsonField(line, "seq"), double.Parse(JsonField(line, "fire_time"), CultureInfo.InvariantCulture)));
        }
        Expect(rejected.Count == 0, "rejected: " + string.Join("; ", rejected));
        Expect(expected.Count >= 3 && expectedHeartbeats >= 2, "the injected stream is too thin: " + expected.Count + " cues, " + expectedHeartbeats + " heartbeats");
        Expect(got.SequenceEqual(expected), "cues on Mono:\n  " + string.Join("\n  ", got) + "\nsei-inject inspect:\n  " + string.Join("\n  ", expected));
        Expect(heartbeats == expectedHeartbeats, heartbeats + " heartbeats, inspect found " + expectedHeartbeats);
        Expect(reader.Statistics.Repeats == expectedRepeats, reader.Statistics.Repeats + " repeats, inspect found " + expectedRepeats);
        // Version 2: one payload per carrier frame, so one signature verification per carrier access unit.
        if (formatVersion == "2")
            Expect(reader.Statistics.SignatureVerifications == carrierFrames.Count,
                reader.Statistics.SignatureVerifications + " signature verifications for " + carrierFrames.Count + " carrier frames");
        return string.Format(CultureInfo.InvariantCulture, "{0}: format version {1}, {2} packets, {3} carrier frames, {4} cues, {5} heartbeats, {6} repeats, {7} verifications",
            name, formatVersion, packets, carrierFrames.Count, got.Count, heartbeats, expectedRepeats, reader.Statistics.SignatureVerifications);
    }

    private static string JsonField(string line, string name)
    {
        var m = Regex.Match(line, "\"" + Regex.Escape(name) + "\":(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}]*)");
        if (!m.Success) throw new CheckFailedException("no field " + name + " in " + line);
        return m.Groups[1].Value;
    }

    private static string Unquote(string s) => s == "null" ? "" : s.Trim('"');

    private static string ToJson(CatEveningMessage m)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        d["kind"] = Str(m.Kind.ToWireName());
        d["stream_id"] = Str(m.StreamId);
        d["seq"] = Num(m.SequenceNumber);
        d["issued_at_us"] = Num(m.IssuedAtMicros);
        var c = m as CueMessage;
        if (c != null)
        {
            d["target_offset_90k"] = Num(c.TargetOffsetTicks);
            d["cue_id"] = Str(c.CueId);
            d["window_90k"] = Num(c.WindowTicks);
            d["spread_us"] = Num(c.SpreadMicros);
            d["app_data_hex"] = Str(BitConverter.ToString(c.AppData.ToArray()).Replace("-", "").ToLowerInvariant());
        }
        var h = m as HeartbeatMessage;
        if (h != null)
        {
            d["injection_wall_us"] = Num(h.InjectionWallClockMicros);
            d["carrier_pts"] = Num(h.CarrierPts);
            d["uncertainty_us"] = Num(h.ClockUncertaintyMicros);
            d["time_server"] = h.TimeServer == null ? "null" : Str(h.TimeServer);
        }
        return "{" + string.Join(",", d.Select(kv => "\"" + kv.Key + "\":" + kv.Value)) + "}";
    }

    /// <summary>A version-2 bundle as the doc's JSON: the bundle's fields, its entries in wire order (each without
    /// the bundle's stream id and issued-at, a cue's number as cue_seq).</summary>
    private static string ToJson(MessageBundle b)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        d["stream_id"] = Str(b.StreamId);
        d["seq"] = Num(b.SequenceNumber);
        d["issued_at_us"] = Num(b.IssuedAtMicros);
        d["entries"] = "[" + string.Join(",", b.Messages.Select(EntryJson)) + "]";
        return "{" + string.Join(",", d.Select(kv => "\"" + kv.Key + "\":" + kv.Value)) + "}";
    }

    private static string EntryJson(CatEveningMessage m)
    {
        var d = new SortedDictionary<string, string>(StringComparer.Ordinal);
        d["kind"] = Str(m.Kind.ToWireName());
        var c = m as CueMessage;
        if (c != null)
        {
            d["cue_seq"] = Num(c.SequenceNumber);
            d["target_offset_90k"] = Num(c.TargetOffsetTicks);
            d["cue_id"] = Str(c.CueId);
            d["window_90k"] = Num(c.WindowTicks);
            d["spread_us"] = Num(c.SpreadMicros);
            d["app_data_hex"] = Str(BitConverter.ToString(c.AppData.ToArray()).Replace("-", "").ToLowerInvariant());
        }
        var h = m as HeartbeatMessage;
        if (h != null)
        {
            d["injection_wall_us"] = Num(h.InjectionWallClockMicros);
            d["carrier_pts"] = Num(h.CarrierPts);
            d["uncertainty_us"] = Num(h.ClockUncertaintyMicros);
            d["time_server"] = h.TimeServer == null ? "null" : Str(h.TimeServer);
        }
        return "{" + string.Join(",", d.Select(kv => "\"" + kv.Key + "\":" + kv.Value)) + "}";
    }

    private static string Str(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static byte[] Hex(string text)
    {
        var hex = text.Replace("\n", "");
        var bytes = new byte[hex.Length / 2];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = byte.Parse(hex.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return bytes;
    }

    private static string ExtractPem(string doc, string label)
    {
        var begin = doc.IndexOf("CatEvening-Key-Id: 1\n-----BEGIN " + label + "-----", StringComparison.Ordinal);
        var endMarker = "-----END " + label + "-----";
        var end = doc.IndexOf(endMarker, begin, StringComparison.Ordinal);
        if (begin < 0 || end < 0) throw new CheckFailedException("the doc does not show test key 1's " + label);
        return doc.Substring(begin, end + endMarker.Length - begin) + "\n";
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition) throw new CheckFailedException(message);
    }

    private static void Check(string name, Func<string> body)
    {
        var started = DateTime.UtcNow;
        var result = new CheckResult { Name = name };
        try
        {
            result.Detail = body();
            result.Passed = true;
        }
        catch (Exception e)
        {
            result.Detail = e is CheckFailedException ? e.Message : e.ToString();
        }
        result.Duration = DateTime.UtcNow - started;
        Results.Add(result);
        Console.WriteLine((result.Passed ? "  Passed " : "  Failed ") + name + ": " + result.Detail);
    }

    /// <summary>A minimal Visual Studio .trx (the schema `dotnet test --logger trx` writes), so that
    /// scripts/test-totals.sh counts these checks with the NUnit ones.</summary>
    private static void WriteTrx(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path)));
        const string ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        var listId = "8c84fa94-04c1-424b-9868-57a2d4851a1d";
        var sb = new StringBuilder();
        var settings = new System.Xml.XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
        using (var w = System.Xml.XmlWriter.Create(new StringWriter(sb), settings))
        {
            var run = Guid.NewGuid().ToString();
            w.WriteStartElement("TestRun", ns);
            w.WriteAttributeString("id", run);
            w.WriteAttributeString("name", "mono-checker");
            w.WriteStartElement("Results", ns);
            var ids = new List<string[]>();
            foreach (var r in Results)
            {
                var testId = Guid.NewGuid().ToString();
                var executionId = Guid.NewGuid().ToString();
                ids.Add(new[] { testId, executionId, r.Name });
                w.WriteStartElement("UnitTestResult", ns);
                w.WriteAttributeString("executionId", executionId);
                w.WriteAttributeString("testId", testId);
                w.WriteAttributeString("testName", r.Name);
                w.WriteAttributeString("computerName", Environment.MachineName);
                w.WriteAttributeString("duration", r.Duration.ToString("c", CultureInfo.InvariantCulture));
                w.WriteAttributeString("testType", "13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b");
                w.WriteAttributeString("outcome", r.Passed ? "Passed" : "Failed");
                w.WriteAttributeString("testListId", listId);
                w.WriteStartElement("Output", ns);
                if (r.Passed)
                {
                    w.WriteElementString("StdOut", ns, r.Detail ?? "");
                }
                else
                {
                    w.WriteStartElement("ErrorInfo", ns);
                    w.WriteElementString("Message", ns, r.Detail ?? "");
                    w.WriteEndElement();
                }
                w.WriteEndElement();
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteStartElement("TestDefinitions", ns);
            foreach (var id in ids)
            {
                w.WriteStartElement("UnitTest", ns);
                w.WriteAttributeString("name", id[2]);
                w.WriteAttributeString("storage", "monochecker.exe");
                w.WriteAttributeString("id", id[0]);
                w.WriteStartElement("Execution", ns);
                w.WriteAttributeString("id", id[1]);
                w.WriteEndElement();
                w.WriteStartElement("TestMethod", ns);
                w.WriteAttributeString("codeBase", "MonoChecker.exe");
                w.WriteAttributeString("adapterTypeName", "executor://mono-checker");
                w.WriteAttributeString("className", "MonoChecker");
                w.WriteAttributeString("name", id[2]);
                w.WriteEndElement();
                w.WriteEndElement();
            }
            w.WriteEndElement();
            var failed = Results.Count(r => !r.Passed);
            w.WriteStartElement("ResultSummary", ns);
            w.WriteAttributeString("outcome", failed == 0 ? "Completed" : "Failed");
            w.WriteStartElement("Counters", ns);
            w.WriteAttributeString("total", Num(Results.Count));
            w.WriteAttributeString("executed", Num(Results.Count));
            w.WriteAttributeString("passed", Num(Results.Count - failed));
            w.WriteAttributeString("failed", Num(failed));
            w.WriteAttributeString("error", "0");
            w.WriteAttributeString("timeout", "0");
            w.WriteAttributeString("aborted", "0");
            w.WriteAttributeString("notExecuted", "0");
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
        }
        File.WriteAllText(path, sb.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\""));
    }
}
