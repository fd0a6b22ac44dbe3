using System;
using CatEvening.SeiReader.Bitstream;
using CatEvening.SeiReader.Client;
using CatEvening.SeiReader.Security;

namespace CatEvening.Samples.QuickStart;

/// <summary>One show stream in a client app: feed it the demuxer's video packets and the player's rendered frames.</summary>
public sealed class ShowClient
{
    private readonly CueReader _reader;
    private readonly InteractionScheduler _scheduler;

    /// <param name="publicKeyPem">The broadcaster's public key: the file `sei-inject keygen --public` wrote.</param>
    /// <param name="streamId">The stream id the injector signs (the schedule's `stream`).</param>
    /// <param name="codec">H.264 or H.265, as the demuxer says.</param>
    /// <param name="extradata">The demuxer's codec configuration: avcC/hvcC (MP4, FLV, MKV) or Annex B parameter sets
    /// or nothing (MPEG-TS). It tells the reader how the packets frame their NAL units.</param>
    /// <param name="timeBase">Time base of the demuxer's timestamps: 1/90000 for MPEG-TS, 1/1000 for FLV.</param>
    /// <param name="viewerId">This viewer's id, to spread the audience's requests (PeakShaving).</param>
    /// <param name="serverClock">The time server's clock (see UdpTimeClient below), or null for this device's clock.</param>
    /// <param name="recording">True for a recording (VOD, a replay of the show, a test clip): replay mode.</param>
    public ShowClient(string publicKeyPem, string streamId, VideoCodec codec, byte[] extradata, TimeBase timeBase,
        string viewerId, ServerClock? serverClock = null, bool recording = false)
    {
        // 1. Trust the broadcaster's public key(s); several key ids may be in the ring for rotation.
        var keys = new KeyRing();
        keys.AddPem(publicKeyPem);

        // 2. Live: messages older than 2 minutes (VerifierOptions.MaxAge) are refused, so an old show cannot be
        //    re-broadcast as live. A recording was signed when it went out: replay mode accepts it (read
        //    VerifierOptions.ForRecording for what that gives up). Name your stream either way.
        var options = recording ? VerifierOptions.ForRecording() : new VerifierOptions();
        options.StreamIds.Add(streamId);
        var verifier = new MessageVerifier(keys, options);

        // 3. A reader per stream, set up from the codec configuration (framing: Annex B or length-prefixed), with the
        //    server's time for the age check when you have it.
        Func<long>? utcNowMicros = serverClock is null ? null : () => serverClock.ToServerTime(UdpTimeClient.UnixMicrosNow());
        _reader = CueReader.FromCodecConfiguration(verifier, CodecConfiguration.Parse(codec, extradata), timeBase,
            utcNowMicros: utcNowMicros);

        // 4. Schedule against what is rendered, never at parse time.
        _scheduler = new InteractionScheduler(timeBase);
        _reader.CueReceived += (_, e) => _scheduler.Add(e);
        _reader.MessageRejected += (_, e) => Log?.Invoke($"refused ({e.Reason}): {e.Detail}");
        _reader.DiagnosticRaised += (_, e) => Log?.Invoke($"check the set-up: {e.Message}");
        _scheduler.InteractionOpened += (_, e) =>
            InteractionOpened?.Invoke(e, PeakShaving.OffsetMicros(viewerId, e.Cue));   // spread the requests evenly
        _scheduler.InteractionClosed += (_, e) => InteractionClosed?.Invoke(e);
        _scheduler.CustomCueFired += (_, e) => CustomCueFired?.Invoke(e);
    }

    /// <summary>An interaction opens on the frame shown now: show it; send the viewer's request after the offset (µs).</summary>
    public event Action<InteractionEventArgs, long>? InteractionOpened;

    /// <summary>An interaction closes (window elapsed, ended, cancelled): hide it.</summary>
    public event Action<InteractionEventArgs>? InteractionClosed;

    /// <summary>A custom cue reached the frame shown now.</summary>
    public event Action<InteractionEventArgs>? CustomCueFired;

    /// <summary>Refused messages and set-up problems, in words.</summary>
    public event Action<string>? Log;

    /// <summary>Counters: packets, messages, refusals, malformed SEI.</summary>
    public CueReaderStatistics Statistics => _reader.Statistics;

    /// <summary>5. Every demuxed video packet, in decode order (bytes as the demuxer gives them, PTS, DTS).</summary>
    public void OnVideoPacket(ReadOnlySpan<byte> data, long? pts, long? dts) => _reader.Feed(data, pts, dts);

    /// <summary>6. Every frame as the player shows it (its PTS, same time base).</summary>
    public void OnFrameRendered(long pts) => _scheduler.OnFrameRendered(pts);
}
