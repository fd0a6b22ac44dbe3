using System;
using System.Collections.Generic;

namespace CatEvening.SeiReader.Security;

/// <summary>Settings of a <see cref="MessageVerifier"/>.</summary>
public sealed class VerifierOptions
{
    /// <summary>The stream ids to accept. Empty (the default) accepts every stream: right for inspection tools,
    /// wrong for a client app, which should name its stream so that messages spliced from another stream are refused.</summary>
    public ISet<string> StreamIds { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Messages whose issued-at is older than this by the verifier's clock are rejected as
    /// <see cref="RejectionReason.IssuedTooLongAgo"/>. Must cover the stream's end-to-end delay plus the clock error.
    /// Default 2 minutes. Not applied when <see cref="CheckIssuedAt"/> is false (recordings: <see cref="ForRecording"/>).</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Messages whose issued-at is later than the verifier's clock by more than this are rejected as
    /// <see cref="RejectionReason.IssuedInFuture"/>: the tolerated error between the injector's clock and the verifier's.
    /// Default 2 minutes (the default <see cref="MaxAge"/>: both assume clocks within that of UTC). Not applied when
    /// <see cref="CheckIssuedAt"/> is false (recordings: <see cref="ForRecording"/>).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether a message's issued-at time is checked against the verifier's clock (<see cref="MaxAge"/> and
    /// <see cref="MaxClockSkew"/>). True (the default) for live streams; false for recordings, see
    /// <see cref="ForRecording"/> for what that gives up.</summary>
    public bool CheckIssuedAt { get; set; } = true;

    /// <summary>
    /// Replay mode: settings for reading a <b>recording</b> (a replay of the show, VOD, a clip kept for tests) rather than a
    /// live stream. A recording's messages were signed when the show went out, minutes or months before it is played, so
    /// the live default refuses every one of them as <see cref="RejectionReason.IssuedTooLongAgo"/>. These options do not
    /// check the issued-at time (<see cref="CheckIssuedAt"/> false) and raise the verification budget
    /// (<see cref="MaxVerificationsPerSecond"/> 1,000,000, <see cref="VerificationBurst"/> 100,000,000), so that a file read
    /// faster than real time is checked whole. Signatures, key ids, stream ids (add yours to <see cref="StreamIds"/>) and
    /// sequence-number replays within one playback are still checked.
    /// </summary>
    /// <remarks>
    /// <para><b>The security trade-off.</b> The age check is what stops anyone from re-broadcasting a recording of an
    /// earlier show, with its validly signed cues, as if it were live: in replay mode a signed message stays acceptable
    /// for ever. Use these options only for content the app itself knows to be a recording (its own VOD catalogue or
    /// storage, a test), never for a channel that claims to be live, and do not pay out anything on a cue read in replay
    /// mode that the server cannot check against its own record of the show.</para>
    /// <para>A verifier remembers the sequence numbers it accepted: when the viewer seeks back in a recording, create a new
    /// <see cref="MessageVerifier"/> (and <c>CueReader</c>) so that the cues fire again.</para>
    /// </remarks>
    public static VerifierOptions ForRecording() => new VerifierOptions
    {
        CheckIssuedAt = false,
        MaxVerificationsPerSecond = 1_000_000,
        VerificationBurst = 100_000_000,
    };

    /// <summary>How many sequence numbers behind the highest one seen are still tracked, per stream; older ones are
    /// rejected as <see cref="RejectionReason.SequenceTooFarBehind"/>. Format version 2 numbers each transmission (one
    /// per carrier frame, in order), so the window only has to cover how far packets arrive out of order. Format
    /// version 1 carousel repeats keep their first sequence number, so there the window must exceed the number of
    /// messages sent while the longest cue stays open. Rounded up to a multiple of 64. Default 65,536.</summary>
    public int ReplayWindow { get; set; } = 65536;

    /// <summary>How many verified payloads are remembered by their exact bytes (rounded up to a power of two). Default 256.</summary>
    public int CacheSize { get; set; } = 256;

    /// <summary>At most this many ECDSA verifications per second, over every payload this verifier checks (a token
    /// bucket refilled at this rate by the clock passed to <see cref="MessageVerifier.Verify(System.ReadOnlySpan{byte}, long)"/>,
    /// holding at most <see cref="VerificationBurst"/>). Payloads past the budget are refused as
    /// <see cref="RejectionReason.VerificationBudgetExceeded"/> without verifying. Identical bytes already verified
    /// (the cache) cost nothing. Default 240: four messages per frame at 60 fps. Raise it for tools that read
    /// recordings faster than real time.</summary>
    public int MaxVerificationsPerSecond { get; set; } = 240;

    /// <summary>How many verifications may be spent at once before the per-second rate applies: a player that
    /// downloads a whole HLS segment demuxes seconds of stream in a moment. Default 2,400 (ten seconds at the
    /// default rate, about 0.15 s of CPU). At least 1; values below <see cref="MaxVerificationsPerSecond"/> make the
    /// bucket smaller than one second.</summary>
    public int VerificationBurst { get; set; } = 2400;

    /// <summary>At most this many CatEvening payloads of one access unit are looked at (version 1 writers put every
    /// message of a frame in one access unit); further ones are refused as <see cref="RejectionReason.AccessUnitLimit"/>
    /// without any check. Default 16.</summary>
    public int MaxPayloadsPerAccessUnit { get; set; } = Messages.CatEveningSei.DefaultMaxPayloadsPerAccessUnit;

    internal void Validate()
    {
        if (MaxVerificationsPerSecond is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(MaxVerificationsPerSecond), MaxVerificationsPerSecond, "must be 1 to 1,000,000");
        if (VerificationBurst is < 1 or > 100_000_000) throw new ArgumentOutOfRangeException(nameof(VerificationBurst), VerificationBurst, "must be 1 to 100,000,000");
        if (MaxPayloadsPerAccessUnit is < 1 or > 1024) throw new ArgumentOutOfRangeException(nameof(MaxPayloadsPerAccessUnit), MaxPayloadsPerAccessUnit, "must be 1 to 1,024");
        if (MaxAge <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxAge), MaxAge, "must be positive");
        if (MaxClockSkew < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxClockSkew), MaxClockSkew, "must be ≥ 0");
        if (ReplayWindow is < 64 or > 1 << 24) throw new ArgumentOutOfRangeException(nameof(ReplayWindow), ReplayWindow, "must be 64 to 16,777,216");
        if (CacheSize is < 1 or > 1 << 16) throw new ArgumentOutOfRangeException(nameof(CacheSize), CacheSize, "must be 1 to 65,536");
    }
}
