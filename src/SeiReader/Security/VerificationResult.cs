using System;
using System.Collections.Generic;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiReader.Security;

/// <summary>Why the verifier refused a CatEvening payload. Each reason has its own code; the values are stable.</summary>
public enum RejectionReason
{
    /// <summary>Not rejected.</summary>
    None = 0,

    /// <summary>The signature does not verify with the key named by the key id (forged or altered bytes).</summary>
    BadSignature = 1,

    /// <summary>The key id is not in the key ring (a key that was never trusted or has been retired).</summary>
    UnknownKeyId = 2,

    /// <summary>The message belongs to a stream this verifier does not accept.</summary>
    OtherStream = 3,

    /// <summary>A sequence number already accepted, with different content: a replay or a reused number.</summary>
    ReplayedSequence = 4,

    /// <summary>The sequence number is older than the replay window, so the verifier cannot tell whether it was seen.</summary>
    SequenceTooFarBehind = 5,

    /// <summary>Issued-at is older than <see cref="VerifierOptions.MaxAge"/> by the verifier's clock.</summary>
    IssuedTooLongAgo = 6,

    /// <summary>The format version byte is not one this reader knows (1 and 2).</summary>
    UnknownFormatVersion = 7,

    /// <summary>The signed body is not a valid message (bad MessagePack, missing fields, out-of-range values).</summary>
    MalformedBody = 8,

    /// <summary>The payload is shorter or longer than any CatEvening envelope of its version.</summary>
    MalformedEnvelope = 9,

    /// <summary>The signature's s is above n / 2 (P-256 group order n). ECDSA accepts (r, s) and (r, n − s) alike, so
    /// anyone can turn a genuine signature into a second valid one; CatEvening signers always write the low s and
    /// readers refuse the high one, so each message has exactly one valid encoding. Checked without an ECDSA
    /// verification.</summary>
    NonCanonicalSignature = 10,

    /// <summary>The verifier's budget of signature verifications per second (<see cref="VerifierOptions.MaxVerificationsPerSecond"/>)
    /// is spent: refused without verifying and not remembered, so a later copy is verified once the budget refills.</summary>
    VerificationBudgetExceeded = 11,

    /// <summary>Refused without any check by the per-access-unit rules: a second CatEvening payload in an access unit
    /// that holds a version-2 payload, a payload after one whose signature failed in the same access unit, or more
    /// than <see cref="VerifierOptions.MaxPayloadsPerAccessUnit"/> payloads in one access unit.</summary>
    AccessUnitLimit = 12,

    /// <summary>Issued-at is later than the verifier's clock by more than <see cref="VerifierOptions.MaxClockSkew"/>: a
    /// message stamped in the future would outlive the age check, so a copy could be replayed to late joiners for longer.</summary>
    IssuedInFuture = 13,
}

/// <summary>What the verifier made of one payload.</summary>
public enum VerificationStatus
{
    /// <summary>The payload does not start with the CatEvening UUID: someone else's user data (x264's, say). Skip it.</summary>
    NotCatEvening = 0,

    /// <summary>A new, authentic message: act on it.</summary>
    Accepted = 1,

    /// <summary>An authentic message already accepted: the same bytes again (redundant path, re-fed packet) or a carousel
    /// repeat (same sequence number and content, new carrier). Report it once: ignore it.</summary>
    Repeat = 2,

    /// <summary>Refused; <see cref="VerificationResult.Reason"/> says why.</summary>
    Rejected = 3,
}

/// <summary>The outcome of <see cref="MessageVerifier.Verify(System.ReadOnlySpan{byte}, long)"/>.</summary>
public readonly struct VerificationResult
{
    private static readonly CatEveningMessage[] None = Array.Empty<CatEveningMessage>();

    private readonly IReadOnlyList<CatEveningMessage>? _newMessages;

    internal VerificationResult(VerificationStatus status, RejectionReason reason, CatEveningMessage? message, int keyId, bool fromCache, string? detail,
        MessageBundle? bundle = null, IReadOnlyList<CatEveningMessage>? newMessages = null)
    {
        Status = status;
        Reason = reason;
        Message = message ?? (bundle is { Messages.Count: > 0 } ? bundle.Messages[0] : null);
        KeyId = keyId;
        FromCache = fromCache;
        Detail = detail;
        Bundle = bundle;
        _newMessages = newMessages;
    }

    /// <summary>Accepted, repeat, rejected, or not a CatEvening payload.</summary>
    public VerificationStatus Status { get; }

    /// <summary>Why it was rejected; <see cref="RejectionReason.None"/> unless <see cref="Status"/> is <see cref="VerificationStatus.Rejected"/>.</summary>
    public RejectionReason Reason { get; }

    /// <summary>The decoded message when the signature verified and the body parsed (also on context rejections such
    /// as other stream, too old or replayed); null otherwise.</summary>
    public CatEveningMessage? Message { get; }

    /// <summary>Format version 2: the decoded bundle (everything the frame carried) when the signature verified and the
    /// body parsed; null for version 1.</summary>
    public MessageBundle? Bundle { get; }

    /// <summary>Every message the payload holds (version 1: <see cref="Message"/> alone; version 2: the bundle's entries),
    /// empty when the body could not be read.</summary>
    public IReadOnlyList<CatEveningMessage> Messages => Bundle?.Messages ?? (Message is { } m ? new[] { m } : None);

    /// <summary>The messages to act on: when <see cref="Status"/> is <see cref="VerificationStatus.Accepted"/>, the
    /// message of a version-1 payload, or the entries of a version-2 bundle not reported before (its heartbeat, and
    /// each cue whose cue sequence number is new: carousel repeats are left out). Empty otherwise.</summary>
    public IReadOnlyList<CatEveningMessage> NewMessages =>
        Status != VerificationStatus.Accepted ? None : _newMessages ?? Messages;

    /// <summary>The number the replay window checked: the bundle's transmission sequence number (version 2), the
    /// message's sequence number (version 1), or -1 when the body could not be read.</summary>
    public long TransmissionSequenceNumber => Bundle?.SequenceNumber ?? Message?.SequenceNumber ?? -1;

    /// <summary>The key id read from the envelope, or -1 when the payload is too short to hold one.</summary>
    public int KeyId { get; }

    /// <summary>True when these exact bytes were verified before and the cached signature result was used.</summary>
    public bool FromCache { get; }

    /// <summary>For rejections, a human-readable explanation naming the offset or field at fault.</summary>
    public string? Detail { get; }

    /// <inheritdoc />
    public override string ToString() => Status == VerificationStatus.Rejected ? $"Rejected({Reason}): {Detail}" : $"{Status} {Message}";
}
