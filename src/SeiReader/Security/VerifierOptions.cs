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
    /// Default 2 minutes.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Messages whose issued-at is later than the verifier's clock by more than this are rejected as
    /// <see cref="RejectionReason.IssuedInFuture"/>: the tolerated error between the injector's clock and the verifier's.
    /// Default 2 minutes (the default <see cref="MaxAge"/>: both assume clocks within that of UTC).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many sequence numbers behind the highest one seen are still tracked, per stream; older ones are
    /// rejected as <see cref="RejectionReason.SequenceTooFarBehind"/>. Format version 2 numbers each transmission (one
    /// per carrier frame, in order), so the window only has to cover how far packets arrive out of order. Format
    /// version 1 carousel repeats keep their first sequence number, so there the window must exceed the number of
    /// messages sent while the longest cue stays open. Rounded up to a multiple of 64. Default 65,536.</summary>
    public int ReplayWindow { get; set; } = 65536;

    /// <summary>How many verified payloads are remembered by their exact bytes (rounded up to a power of two). Default 256.</summary>
    public int CacheSize { get; set; } = 256;

    internal void Validate()
    {
        if (MaxAge <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxAge), MaxAge, "must be positive");
        if (MaxClockSkew < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxClockSkew), MaxClockSkew, "must be ≥ 0");
        if (ReplayWindow is < 64 or > 1 << 24) throw new ArgumentOutOfRangeException(nameof(ReplayWindow), ReplayWindow, "must be 64 to 16,777,216");
        if (CacheSize is < 1 or > 1 << 16) throw new ArgumentOutOfRangeException(nameof(CacheSize), CacheSize, "must be 1 to 65,536");
    }
}
