using System;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiReader.Client;

/// <summary>
/// The client entry point: feed it the demuxed video packets of one stream, in decode order, and it raises
/// <see cref="CueReceived"/>, <see cref="HeartbeatReceived"/> and <see cref="MessageRejected"/> for the CatEvening
/// messages they carry, each with the presentation time at which to act. Repeats (carousel, redundant paths,
/// re-fed packets) are reported once. Foreign user data (x264's, an encoder's) and broken SEI are skipped.
/// <para>A packet without a CatEvening message allocates nothing once the internal scratch buffer has grown to the
/// largest packet. Not thread-safe: feed from one thread (events are raised on it, inside <see cref="Feed"/>).</para>
/// </summary>
public sealed class CueReader
{
    private readonly MessageVerifier _verifier;
    private readonly Func<long> _utcNowMicros;
    private byte[] _scratch = Array.Empty<byte>();
    private long _packets, _payloads, _accepted, _repeats, _rejected, _malformed, _verifications, _overBudget, _skipped;
    private long _badFramingRun;
    private int _framingDiagnosticPackets = 25;

    /// <summary>Creates a reader.</summary>
    /// <param name="verifier">Verifies payloads (its key ring, stream ids, age and replay settings apply).</param>
    /// <param name="codec">The stream's codec.</param>
    /// <param name="framing">Annex B, or length-prefixed with the size from the codec configuration (see
    /// <see cref="FromCodecConfiguration"/>).</param>
    /// <param name="timeBase">Time base of the PTS and DTS passed to <see cref="Feed"/>.</param>
    /// <param name="timestampBits">Width of those timestamps: 33 for raw MPEG-TS PTS, 32 for FLV milliseconds, 64
    /// (the default) when the demuxer has already unwrapped them.</param>
    /// <param name="utcNowMicros">UTC now, microseconds since the Unix epoch, for the age check; best corrected by a
    /// <see cref="ServerClock"/>. Default: the system clock.</param>
    public CueReader(MessageVerifier verifier, VideoCodec codec, NalFraming framing, TimeBase timeBase,
        int timestampBits = WrappingTimestamps.NoWrap, Func<long>? utcNowMicros = null)
    {
        _verifier = verifier ?? throw new ArgumentNullException(nameof(verifier));
        WrappingTimestamps.Wrap(0, timestampBits);
        Codec = codec;
        Framing = framing;
        TimeBase = timeBase;
        TimestampBits = timestampBits;
        _utcNowMicros = utcNowMicros ?? SystemUtcNowMicros;
    }

    /// <summary>Creates a reader for a stream described by its codec configuration (extradata: avcC, hvcC or Annex B).</summary>
    public static CueReader FromCodecConfiguration(MessageVerifier verifier, CodecConfiguration configuration, TimeBase timeBase,
        int timestampBits = WrappingTimestamps.NoWrap, Func<long>? utcNowMicros = null)
    {
        if (configuration is null) throw new ArgumentNullException(nameof(configuration));
        return new CueReader(verifier, configuration.Codec, configuration.Framing, timeBase, timestampBits, utcNowMicros);
    }

    /// <summary>Raised for each new verified cue.</summary>
    public event EventHandler<CueReceivedEventArgs>? CueReceived;

    /// <summary>Raised for each new verified heartbeat.</summary>
    public event EventHandler<HeartbeatReceivedEventArgs>? HeartbeatReceived;

    /// <summary>Raised for each refused CatEvening payload (once per distinct bytes).</summary>
    public event EventHandler<MessageRejectedEventArgs>? MessageRejected;

    /// <summary>
    /// Raised when the reader suspects it is set up wrongly for the stream: <see cref="FramingDiagnosticPackets"/> packets
    /// in a row whose NAL units cannot be found with <see cref="Framing"/> (<see cref="StreamDiagnostic.LikelyWrongFraming"/>;
    /// no SEI, so no cue, can be read from them). Raised once per such run of packets; <see cref="Diagnostic"/> keeps it
    /// until a packet parses again.
    /// </summary>
    public event EventHandler<StreamDiagnosticEventArgs>? DiagnosticRaised;

    /// <summary>The problem the reader currently suspects (see <see cref="DiagnosticRaised"/>), or null.</summary>
    public StreamDiagnostic? Diagnostic { get; private set; }

    /// <summary>How many packets in a row must fail to parse with <see cref="Framing"/> before
    /// <see cref="DiagnosticRaised"/> says so. Default 25 (one second at 25 fps). At least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FramingDiagnosticPackets
    {
        get => _framingDiagnosticPackets;
        set => _framingDiagnosticPackets = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be at least 1");
    }

    /// <summary>The stream's codec.</summary>
    public VideoCodec Codec { get; }

    /// <summary>The packets' NAL framing.</summary>
    public NalFraming Framing { get; }

    /// <summary>Time base of the timestamps fed and reported.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>Width of the timestamps (33, 32, or 64 for none).</summary>
    public int TimestampBits { get; }

    /// <summary>Counters so far.</summary>
    public CueReaderStatistics Statistics => new(_packets, _payloads, _accepted, _repeats, _rejected, _malformed, _verifications, _overBudget, _skipped);

    /// <summary>Reads one demuxed video packet (a whole access unit). Never throws on bad bytes. The work is bounded
    /// whatever the packet holds: at most one failed signature verification (see
    /// <see cref="MessageVerifier.Verify(ReadOnlySpan{byte}, long, ref AccessUnitScope)"/>) within the verifier's
    /// per-second budget, plus a walk over the bytes; the walk stops once the access unit's checks are closed
    /// (<see cref="AccessUnitScope.IsClosed"/>: a version-2 payload, a failed signature), so what follows is not read.</summary>
    /// <param name="packet">The packet bytes, in this reader's framing.</param>
    /// <param name="pts">Its presentation timestamp, or null when the container gave none.</param>
    /// <param name="dts">Its decode timestamp, or null; used in place of a missing PTS.</param>
    /// <returns>How many events were raised.</returns>
    public int Feed(ReadOnlySpan<byte> packet, long? pts, long? dts = null)
    {
        _packets++;
        if (_scratch.Length < packet.Length) _scratch = new byte[Math.Max(packet.Length, _scratch.Length * 2)];
        var reader = new UserDataUnregisteredReader(packet, Codec, Framing, _scratch);
        var carrier = pts ?? dts;
        var events = 0;
        var scope = default(AccessUnitScope);
        long? now = null;
        // Annex B packets start with a start code; one that does not was most likely written length-prefixed.
        var framingBroke = Framing.IsAnnexB && packet.Length > 0 && !AnnexB.StartsWithStartCode(packet);
        while (true)
        {
            var status = reader.Read(out var udu);
            if (status == ReadStatus.EndOfData) break;
            if (status == ReadStatus.Malformed)
            {
                // Skip only what is broken: a malformed SEI NAL unit or message is counted and the walk goes on with
                // the next one; only broken NAL framing (no way to find the next NAL unit) ends the packet.
                _malformed++;
                if (!reader.CanContinue)
                {
                    framingBroke = true;
                    break;
                }
                continue;
            }
            if (!CatEveningSei.HasCatEveningUuid(udu.Payload)) continue;
            _payloads++;
            now ??= _utcNowMicros();
            events += Handle(_verifier.Verify(udu.Payload, now.Value, ref scope), carrier);
            // Every later CatEvening payload would be refused unchecked: stop here, so that a hostile access unit costs
            // its bytes up to this payload and one verification at most, not a walk over the rest.
            if (scope.IsClosed) break;
        }
        _verifications += scope.SignatureVerifications;
        _skipped += scope.Skipped;
        return events + CheckFraming(framingBroke, packet);
    }

    private int CheckFraming(bool framingBroke, ReadOnlySpan<byte> packet)
    {
        if (!framingBroke)
        {
            _badFramingRun = 0;
            Diagnostic = null;
            return 0;
        }
        if (++_badFramingRun != _framingDiagnosticPackets) return 0;
        Diagnostic = StreamDiagnostic.LikelyWrongFraming;
        DiagnosticRaised?.Invoke(this, new StreamDiagnosticEventArgs(StreamDiagnostic.LikelyWrongFraming,
            DescribeWrongFraming(packet), _badFramingRun, Framing));
        return 1;
    }

    private string DescribeWrongFraming(ReadOnlySpan<byte> packet)
    {
        var head = $"no SEI could be read from the last {_badFramingRun} packets: their NAL units cannot be found when read as {Framing}";
        if (Framing.IsAnnexB)
        {
            return head + ", and they do not start with a start code (00 00 01). Is this a length-prefixed stream (MP4, FLV, MKV: " +
                "avcC/hvcC extradata) read as Annex B? Create the reader with CueReader.FromCodecConfiguration and the stream's codec " +
                "configuration, or with NalFraming.LengthPrefixed(lengthSize).";
        }
        if (AnnexB.StartsWithStartCode(packet))
        {
            return head + ", and they start with an Annex B start code (00 00 00 01). Is this an Annex B stream (MPEG-TS, raw " +
                ".h264/.h265) read as length-prefixed? Create the reader with NalFraming.AnnexB, or with " +
                "CueReader.FromCodecConfiguration and the stream's codec configuration.";
        }
        return head + ". Is the length size wrong (take it from the avcC/hvcC extradata with CueReader.FromCodecConfiguration), " +
            "or the codec (H.264 read as H.265 or the reverse)?";
    }

    private int Handle(VerificationResult result, long? carrier)
    {
        switch (result.Status)
        {
            case VerificationStatus.Accepted:
                var fresh = result.NewMessages;
                // Version 2: the cues of a bundle that were reported before are carousel repeats.
                _repeats += result.Messages.Count - fresh.Count;
                foreach (var message in fresh)
                {
                    _accepted++;
                    if (message is CueMessage cue)
                    {
                        long? target = carrier is { } c
                            ? WrappingTimestamps.Add(c, TimeBase.Rescale(cue.TargetOffsetTicks, TimeBase.Mpeg90kHz, TimeBase), TimestampBits)
                            : null;
                        CueReceived?.Invoke(this, new CueReceivedEventArgs(cue, carrier, target, TimeBase, result.KeyId, result.TransmissionSequenceNumber));
                    }
                    else if (message is HeartbeatMessage hb)
                    {
                        HeartbeatReceived?.Invoke(this, new HeartbeatReceivedEventArgs(hb, carrier, TimeBase, result.KeyId));
                    }
                }
                return fresh.Count;
            case VerificationStatus.Repeat:
                _repeats += Math.Max(1, result.Messages.Count);
                return 0;
            case VerificationStatus.Rejected when result.Reason == RejectionReason.AccessUnitLimit:
                // Counted (Statistics.SkippedByAccessUnitRules), never raised: a flood must not become a flood of events.
                return 0;
            case VerificationStatus.Rejected:
                if (result.Reason == RejectionReason.VerificationBudgetExceeded) _overBudget++;
                if (result.FromCache)
                {
                    _repeats++;
                    return 0;
                }
                _rejected++;
                MessageRejected?.Invoke(this, new MessageRejectedEventArgs(result.Reason, result.Detail, result.Message, carrier, TimeBase, result.KeyId));
                return 1;
            default:
                return 0;
        }
    }

    /// <summary>DateTime.UnixEpoch.Ticks (the property is not in netstandard2.0).</summary>
    private const long UnixEpochTicks = 621_355_968_000_000_000;

    private static long SystemUtcNowMicros() => (DateTime.UtcNow.Ticks - UnixEpochTicks) / 10;
}
