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
    private long _packets, _payloads, _accepted, _repeats, _rejected, _malformed;

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

    /// <summary>The stream's codec.</summary>
    public VideoCodec Codec { get; }

    /// <summary>The packets' NAL framing.</summary>
    public NalFraming Framing { get; }

    /// <summary>Time base of the timestamps fed and reported.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>Width of the timestamps (33, 32, or 64 for none).</summary>
    public int TimestampBits { get; }

    /// <summary>Counters so far.</summary>
    public CueReaderStatistics Statistics => new(_packets, _payloads, _accepted, _repeats, _rejected, _malformed);

    /// <summary>Reads one demuxed video packet (a whole access unit). Never throws on bad bytes.</summary>
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
        var lastErrorOffset = -1;
        while (true)
        {
            var status = reader.Read(out var udu);
            if (status == ReadStatus.EndOfData) break;
            if (status == ReadStatus.Malformed)
            {
                // A broken SEI NAL is skipped and the walk goes on; broken NAL framing repeats the same error forever.
                if (reader.ErrorOffset == lastErrorOffset) break;
                if (lastErrorOffset < 0) _malformed++;
                lastErrorOffset = reader.ErrorOffset;
                continue;
            }
            if (!CatEveningSei.HasCatEveningUuid(udu.Payload)) continue;
            _payloads++;
            events += Handle(_verifier.Verify(udu.Payload, _utcNowMicros()), carrier);
        }
        return events;
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
            case VerificationStatus.Rejected:
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
