using CatEvening.FFmpegInterop;
using CatEvening.SeiInjector.Timing;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiInjector.Pipeline;

/// <summary>One occurrence of a CatEvening message in a stream, as <c>sei-inject inspect</c> reports it.</summary>
/// <param name="FrameIndex">Carrier index among the video packets, decode order, from 0.</param>
/// <param name="Pts">Carrier PTS (video time base), null when the packet has none.</param>
/// <param name="PtsTime">Carrier PTS in seconds: ffprobe's <c>pts_time</c> of that frame.</param>
/// <param name="TargetTime">Cues: the signed target, carrier PTS + offset, in seconds; null for heartbeats.</param>
/// <param name="FireTime">Cues: PTS (seconds) of the first frame presented at or after the target, where a reader
/// fires; the target itself when no frame reaches it. Null for heartbeats.</param>
/// <param name="Kind">Message kind wire name; null when the body could not be read.</param>
/// <param name="Message">The parsed message, null when the body could not be read.</param>
/// <param name="KeyId">Key id from the envelope, -1 when the envelope is too short.</param>
/// <param name="Verified">The signature verified with the given public key (false without a key).</param>
/// <param name="Error">Why <paramref name="Verified"/> is false.</param>
/// <param name="First">First occurrence of this stream's sequence number in the stream (a cue's identity, a
/// heartbeat's transmission).</param>
/// <param name="FormatVersion">Envelope format version (byte 16), -1 when the payload is too short.</param>
/// <param name="TransmissionSequence">Format version 2: the transmission sequence number of the payload that carried
/// the message (every message of one frame shares it); version 1: the message's own sequence number.</param>
/// <param name="Rejection">Why the verifier refused it (a bad signature, an unknown key id…); null when it verified or
/// when no public key was given. <paramref name="Error"/> says the same in words, with the detail.</param>
/// <param name="TargetBeforeFirstFrame">Cues: the target precedes every frame of the stream read (a carousel re-send of
/// a cue whose moment came before the recording began), so <paramref name="FireTime"/> is the first frame's PTS: a
/// reader that joins at the carrier acts on arrival.</param>
public sealed record InspectedMessage(
    long FrameIndex, long? Pts, double? PtsTime, double? TargetTime, double? FireTime, string? Kind,
    CatEveningMessage? Message, int KeyId, bool Verified, string? Error, bool First, int FormatVersion = -1, long? TransmissionSequence = null,
    RejectionReason? Rejection = null, bool TargetBeforeFirstFrame = false);

/// <summary>
/// Reads a stream (any URL FFmpeg opens) and reports every CatEvening message in its video, with where it fires and
/// whether its signature verifies. Foreign user_data_unregistered messages (x264's version string, …) are skipped.
/// </summary>
public sealed class StreamInspector
{
    private static readonly Rational Clock90kHz = new(1, 90_000);

    private readonly KeyRing? _keys;

    /// <summary>Creates an inspector; with no key, messages are parsed but reported as not verified.</summary>
    public StreamInspector(VerificationKey? publicKey)
    {
        if (publicKey != null) _keys = new KeyRing(publicKey);
    }

    /// <summary>Malformed SEI NAL units and messages skipped so far (the walk goes on with the next one).</summary>
    public long MalformedSei { get; private set; }

    /// <summary>
    /// Reads <paramref name="url"/> to its end and calls <paramref name="report"/> for each message occurrence, in
    /// decode order. A cue is reported once the frame it fires on is known (a few packets later at most: B-frames).
    /// </summary>
    /// <param name="url">The stream to read.</param>
    /// <param name="inputFormat">FFmpeg demuxer name, or null to probe.</param>
    /// <param name="ioTimeout">Longest wait on a stalled input.</param>
    /// <param name="report">Called for each message occurrence.</param>
    /// <param name="cancellation">Stops the read.</param>
    /// <param name="frameRate">For raw Annex B input: the rate to stamp its frames at, as <c>run --frame-rate</c>; null
    /// for the stream's own timing, else 25.</param>
    /// <exception cref="FFmpegException">The input cannot be read.</exception>
    /// <exception cref="InjectionException">The input has no H.264/H.265 video.</exception>
    public void Inspect(string url, string? inputFormat, TimeSpan ioTimeout, Action<InspectedMessage> report, CancellationToken cancellation = default,
        Rational? frameRate = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var input = MediaInput.Open(url, inputFormat, ioTimeout, cancellation: cancellation);
        var video = VideoStreamDescription.Find(input);
        // FFmpeg's raw h264/hevc demuxers give no timestamps: stamp the frames as `run` does, so that each message
        // shows the PTS its frame gets from the injector (up to the output's start offset).
        var rawStamps = RawVideoTimestamps.ForRawInput(input, video, frameRate);
        // Recorded streams are inspected long after they were signed, on hosts whose clocks may differ from the
        // injector's: only the signature and the replay rules count. A file is read faster than real time: no
        // per-second verification budget (the per-access-unit rules still apply).
        var verifier = _keys == null ? null : new MessageVerifier(_keys, new VerifierOptions
        {
            MaxAge = TimeSpan.FromDays(36_500), MaxClockSkew = TimeSpan.FromDays(36_500), MaxVerificationsPerSecond = 1_000_000, VerificationBurst = 100_000_000,
        });
        var seen = new HashSet<(string Stream, long Sequence)>();
        var presented = new SortedSet<long>();
        var waiting = new Queue<(InspectedMessage Message, long? Target)>();
        using var packet = new Packet();
        var scratch = new byte[64 * 1024];
        long frameIndex = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = input.Read(packet);
            }
            catch (FFmpegException e) when (e.WasInterrupted && cancellation.IsCancellationRequested)
            {
                break;
            }
            if (result == ReadResult.EndOfStream) break;
            if (result == ReadResult.TryAgain)
            {
                Thread.Sleep(1);
                continue;
            }
            if (packet.StreamIndex != video.StreamIndex)
            {
                packet.Unref();
                continue;
            }
            var (packetPts, packetDts) = rawStamps is null ? (packet.Pts, packet.Dts) : rawStamps.Next(packet.Data);
            long? pts = packetPts == Packet.NoTimestamp ? null : packetPts;
            long? dts = packetDts == Packet.NoTimestamp ? null : packetDts;
            if (pts is { } p) presented.Add(p);
            var data = packet.Data;
            if (scratch.Length < data.Length) scratch = new byte[data.Length * 2];
            var reader = new UserDataUnregisteredReader(data, video.Codec, video.Framing, scratch);
            // The same per-access-unit rules as CueReader (docs/sei-format.md, "Bounded reader work"): one CatEvening
            // payload per version-2 access unit, nothing checked after a failed signature.
            var scope = default(AccessUnitScope);
            // The access unit's verified payloads: a byte-identical copy later in it (a packager that duplicates SEI) is
            // refused unchecked by the per-access-unit rules, but it is that payload again, not a forgery: shown as a repeat.
            List<(byte[] Payload, Checked Check)>? verifiedHere = null;
            ReadStatus status;
            while ((status = reader.Read(out var unregistered)) != ReadStatus.EndOfData)
            {
                if (status != ReadStatus.Success)
                {
                    // A broken SEI NAL unit or message (an encoder's) hides nothing after it: skip it, count it, go on.
                    MalformedSei++;
                    if (!reader.CanContinue) break;
                    continue;
                }
                if (!CatEveningSei.HasCatEveningUuid(unregistered.Payload)) continue;
                var check = Check(unregistered.Payload, verifier, ref scope);
                if (check.Rejection == RejectionReason.AccessUnitLimit && CopyOf(verifiedHere, unregistered.Payload) is { } copy) check = copy;
                else if (check.Verified) (verifiedHere ??= []).Add((unregistered.Payload.ToArray(), check));
                var (messages, keyId, verified, error, transmission, rejection) = check;
                var version = unregistered.Payload.Length > CatEveningSei.VersionOffset ? unregistered.Payload[CatEveningSei.VersionOffset] : -1;
                var ptsTime = pts is { } c ? video.TimeBase.ToSeconds(c) : (double?)null;
                if (messages.Count == 0)
                    waiting.Enqueue((new InspectedMessage(frameIndex, pts, ptsTime, null, null, null, null, keyId, verified, error, false, version, transmission, rejection), null));
                foreach (var message in messages)
                {
                    var first = seen.Add((message.StreamId, message.SequenceNumber));
                    long? target = message is CueMessage cue && pts is { } carrier ? carrier + Clock90kHz.Rescale(cue.TargetOffsetTicks, video.TimeBase) : null;
                    var occurrence = new InspectedMessage(frameIndex, pts, ptsTime, target is { } t ? video.TimeBase.ToSeconds(t) : null, null,
                        message.Kind.ToWireName(), message, keyId, verified, error, first, version, transmission, rejection);
                    waiting.Enqueue((occurrence, target));
                }
            }
            packet.Unref();
            frameIndex++;
            // Only a DTS tells how far decoding got: a packet without one (Matroska stores none; FFmpeg's demuxer leaves
            // the first B-frame stream packets without) may be presented far after frames still to come, and settling on
            // its PTS fired a cue on the frame after its target.
            Flush(waiting, presented, video.TimeBase, dts, report, final: false);
        }
        Flush(waiting, presented, video.TimeBase, null, report, final: true);
    }

    // A cue's fire frame is the smallest PTS ≥ target; it is settled once the decode position passes it, because every
    // later frame has PTS ≥ its DTS ≥ the current DTS.
    private static void Flush(Queue<(InspectedMessage Message, long? Target)> waiting, SortedSet<long> presented, Rational timeBase,
        long? decodePosition, Action<InspectedMessage> report, bool final)
    {
        while (waiting.Count > 0)
        {
            var (message, target) = waiting.Peek();
            if (target is { } t)
            {
                var view = presented.GetViewBetween(t, long.MaxValue);
                long? fire = view.Count > 0 ? view.Min : null;
                var settled = final || (fire is { } f && decodePosition is { } d && d >= f);
                if (!settled) return;
                message = message with
                {
                    FireTime = timeBase.ToSeconds(fire ?? t),
                    // Settled: no frame still to come presents before `fire`, so Min is the first frame of the stream.
                    TargetBeforeFirstFrame = fire is { } first && first == presented.Min && t < first,
                };
            }
            waiting.Dequeue();
            report(message);
        }
    }

    private static Checked Check(ReadOnlySpan<byte> payload, MessageVerifier? verifier, ref AccessUnitScope scope)
    {
        var keyId = payload.Length >= CatEveningSei.BodyOffset ? (payload[CatEveningSei.KeyIdOffset] << 8) | payload[CatEveningSei.KeyIdOffset + 1] : -1;
        if (verifier != null)
        {
            var result = verifier.Verify(payload, (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond, ref scope);
            var ok = result.Status is VerificationStatus.Accepted or VerificationStatus.Repeat;
            RejectionReason? rejection = ok ? null : result.Reason;
            if (result.Messages.Count > 0)
                return new(result.Messages, keyId, ok, ok ? null : $"{result.Reason}: {result.Detail}", result.TransmissionSequenceNumber, rejection);
            var (parsed, transmission) = Parse(payload, out _);
            return new(parsed, keyId, ok, ok ? null : $"{result.Reason}: {result.Detail}", transmission, rejection);
        }
        var (messages, seq) = Parse(payload, out var error);
        return new(messages, keyId, false, error ?? "not checked: no public key given", seq, null);
    }

    // What one payload's check found (Check): the messages, key id, verdict and why not.
    private readonly record struct Checked(IReadOnlyList<CatEveningMessage> Messages, int KeyId, bool Verified, string? Error, long? Transmission,
        RejectionReason? Rejection);

    // The check of a byte-identical payload verified earlier in the access unit, or null.
    private static Checked? CopyOf(List<(byte[] Payload, Checked Check)>? verified, ReadOnlySpan<byte> payload)
    {
        if (verified is null) return null;
        foreach (var (earlier, check) in verified)
            if (payload.SequenceEqual(earlier)) return check;
        return null;
    }

    private static (IReadOnlyList<CatEveningMessage> Messages, long? Transmission) Parse(ReadOnlySpan<byte> payload, out string? error)
    {
        error = null;
        if (payload.Length < CatEveningSei.MinPayloadLength)
        {
            error = $"payload of {payload.Length} bytes is shorter than an envelope ({CatEveningSei.MinPayloadLength})";
            return ([], null);
        }
        var body = payload[CatEveningSei.BodyOffset..^CatEveningSei.SignatureLength].ToArray();
        if (payload[CatEveningSei.VersionOffset] == CatEveningSei.FormatVersion2)
            return MessageBody.TryReadBundle(body, out var bundle, out error) ? (bundle!.Messages, bundle.SequenceNumber) : ([], null);
        return MessageBody.TryRead(body, out var message, out error) ? ([message!], message!.SequenceNumber) : ([], null);
    }
}
