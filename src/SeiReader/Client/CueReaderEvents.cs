using System;
using CatEvening.SeiReader.Messages;
using CatEvening.SeiReader.Security;

namespace CatEvening.SeiReader.Client;

/// <summary>A new, verified cue was found in a packet.</summary>
public sealed class CueReceivedEventArgs : EventArgs
{
    internal CueReceivedEventArgs(CueMessage cue, long? carrierPts, long? targetPts, TimeBase timeBase, int keyId, long transmissionSequenceNumber)
    {
        TransmissionSequenceNumber = transmissionSequenceNumber;
        Cue = cue;
        CarrierPts = carrierPts;
        TargetPts = targetPts;
        TimeBase = timeBase;
        KeyId = keyId;
    }

    /// <summary>The cue.</summary>
    public CueMessage Cue { get; }

    /// <summary>PTS of the packet that carried it, in <see cref="TimeBase"/> (null when the packet had neither PTS nor DTS).</summary>
    public long? CarrierPts { get; }

    /// <summary>When to act: the presentation time of the target frame, <see cref="CarrierPts"/> + the cue's offset,
    /// in <see cref="TimeBase"/> and wrapped like the stream's timestamps. Earlier than the carrier on a repeat that a
    /// late joiner sees first. Hand it to <see cref="InteractionScheduler"/>; never act at parse time.</summary>
    public long? TargetPts { get; }

    /// <summary>Time base of <see cref="CarrierPts"/> and <see cref="TargetPts"/>.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>The key id that signed it.</summary>
    public int KeyId { get; }

    /// <summary>The transmission sequence number of the payload that carried it (format version 2; the cue's own
    /// <see cref="CatEveningMessage.SequenceNumber"/> in version 1).</summary>
    public long TransmissionSequenceNumber { get; }
}

/// <summary>A new, verified heartbeat was found in a packet.</summary>
public sealed class HeartbeatReceivedEventArgs : EventArgs
{
    internal HeartbeatReceivedEventArgs(HeartbeatMessage heartbeat, long? carrierPts, TimeBase timeBase, int keyId)
    {
        Heartbeat = heartbeat;
        CarrierPts = carrierPts;
        TimeBase = timeBase;
        KeyId = keyId;
    }

    /// <summary>The heartbeat.</summary>
    public HeartbeatMessage Heartbeat { get; }

    /// <summary>When to act (e.g. measure delay): the presentation time of the carrier frame, in <see cref="TimeBase"/>.</summary>
    public long? CarrierPts { get; }

    /// <summary>Time base of <see cref="CarrierPts"/>.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>The key id that signed it.</summary>
    public int KeyId { get; }

    /// <summary>How far downstream rebasing moved the timestamps: the carrier PTS seen here (in 90 kHz) minus the PTS
    /// the injector saw, wrap-safe over 33 bits; null without a carrier PTS.</summary>
    public long? RebaseTicks => CarrierPts is { } pts
        ? WrappingTimestamps.Difference(WrappingTimestamps.Wrap(TimeBase.Rescale(pts, TimeBase, TimeBase.Mpeg90kHz), 33), Heartbeat.CarrierPts, 33)
        : null;
}

/// <summary>A CatEvening payload was refused.</summary>
public sealed class MessageRejectedEventArgs : EventArgs
{
    internal MessageRejectedEventArgs(RejectionReason reason, string? detail, CatEveningMessage? message, long? carrierPts, TimeBase timeBase, int keyId)
    {
        Reason = reason;
        Detail = detail;
        Message = message;
        CarrierPts = carrierPts;
        TimeBase = timeBase;
        KeyId = keyId;
    }

    /// <summary>Why.</summary>
    public RejectionReason Reason { get; }

    /// <summary>Explanation naming the offset or field at fault.</summary>
    public string? Detail { get; }

    /// <summary>The decoded message when the signature verified (context rejections: other stream, too old, replayed).</summary>
    public CatEveningMessage? Message { get; }

    /// <summary>PTS of the packet that carried it, in <see cref="TimeBase"/>.</summary>
    public long? CarrierPts { get; }

    /// <summary>Time base of <see cref="CarrierPts"/>.</summary>
    public TimeBase TimeBase { get; }

    /// <summary>The key id in the envelope, or -1 when the payload was too short to hold one.</summary>
    public int KeyId { get; }
}

/// <summary>Counters of a <see cref="CueReader"/>: enough to notice a path that strips or thins SEI.</summary>
public readonly struct CueReaderStatistics
{
    internal CueReaderStatistics(long packets, long payloads, long accepted, long repeats, long rejected, long malformedSei,
        long signatureVerifications, long refusedOverBudget, long skippedByAccessUnitRules)
    {
        SignatureVerifications = signatureVerifications;
        RefusedOverBudget = refusedOverBudget;
        SkippedByAccessUnitRules = skippedByAccessUnitRules;
        Packets = packets;
        CatEveningPayloads = payloads;
        Accepted = accepted;
        Repeats = repeats;
        Rejected = rejected;
        MalformedSei = malformedSei;
    }

    /// <summary>Packets fed.</summary>
    public long Packets { get; }

    /// <summary>user_data_unregistered payloads with the CatEvening UUID.</summary>
    public long CatEveningPayloads { get; }

    /// <summary>New messages reported (a version-2 payload may hold several).</summary>
    public long Accepted { get; }

    /// <summary>Repeats (carousel, redundant paths) recognised and not reported again, counted per message.</summary>
    public long Repeats { get; }

    /// <summary>Payloads refused (reported once per distinct bytes).</summary>
    public long Rejected { get; }

    /// <summary>Malformed SEI NAL units and <c>sei_message()</c>s skipped (each counted once; the walk went on with the
    /// next one), plus packets whose NAL unit framing broke (the rest of such a packet cannot be found).</summary>
    public long MalformedSei { get; }

    /// <summary>ECDSA signature verifications this reader's packets cost (cache hits excluded).</summary>
    public long SignatureVerifications { get; }

    /// <summary>Payloads refused unverified because the verifier's per-second budget was spent
    /// (<see cref="RejectionReason.VerificationBudgetExceeded"/>; also counted in <see cref="Rejected"/>).</summary>
    public long RefusedOverBudget { get; }

    /// <summary>CatEvening payloads refused unchecked by the per-access-unit rules (<see cref="RejectionReason.AccessUnitLimit"/>:
    /// a second payload beside a version-2 one, a payload after a failed signature, more than the maximum per access
    /// unit). Not raised as events. The reader stops walking an access unit once its checks are closed
    /// (<see cref="AccessUnitScope.IsClosed"/>), so payloads after that point are neither looked at nor counted.</summary>
    public long SkippedByAccessUnitRules { get; }

    /// <summary>Every counter on one line, for logs: <c>packets=300 catevening_payloads=31 accepted=4 ...</c>.</summary>
    public override string ToString() =>
        $"packets={Packets} catevening_payloads={CatEveningPayloads} accepted={Accepted} repeats={Repeats} rejected={Rejected} " +
        $"malformed_sei={MalformedSei} signature_verifications={SignatureVerifications} refused_over_budget={RefusedOverBudget} " +
        $"skipped_by_access_unit_rules={SkippedByAccessUnitRules}";
}
