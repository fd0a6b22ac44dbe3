using CatEvening.FFmpegInterop;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Cues;

/// <summary>Where a cue is in its life.</summary>
public enum CueState
{
    /// <summary>Accepted, waiting for its target frame.</summary>
    Pending,
    /// <summary>Its first delivery is planned on a frame that has not gone out yet.</summary>
    InFlight,
    /// <summary>In flight, and the operator cancelled it: once the frame's fate is known it is cancelled (with a cancel message if it went out).</summary>
    CancelQueued,
    /// <summary>Delivered; repeated by the carousel until its window ends.</summary>
    Active,
    /// <summary>Delivered, and its window ended or an interaction-end closing it was delivered.</summary>
    Ended,
    /// <summary>Withdrawn before or while it was active (by the operator, or by a delivered cancel or close naming it).</summary>
    Cancelled,
    /// <summary>Its window closed before any frame could carry it.</summary>
    Expired,
}

/// <summary>Helpers for <see cref="CueState"/>.</summary>
public static class CueStates
{
    /// <summary>True for <see cref="CueState.Ended"/>, <see cref="CueState.Cancelled"/> and <see cref="CueState.Expired"/>: it never rides again.</summary>
    public static bool IsClosed(this CueState state) => state is CueState.Ended or CueState.Cancelled or CueState.Expired;
}

/// <summary>A change of a cue's state.</summary>
public enum CueEvent
{
    /// <summary>Added to the book: validated, sequence number assigned.</summary>
    Accepted,
    /// <summary>First carried by a video frame.</summary>
    Delivered,
    /// <summary>Carried again by the carousel.</summary>
    Repeated,
    /// <summary>Cancelled: a pending cue is dropped; an active cue is closed by a signed cancel message.</summary>
    Cancelled,
    /// <summary>Delivered, and its window ended (no more repeats), or an interaction-end closing it was delivered.</summary>
    Ended,
    /// <summary>Its window closed before any frame could carry it.</summary>
    Expired,
    /// <summary>The cancel message that closes this (cancelled) cue was first carried by a video frame.</summary>
    CancelMessageDelivered,
    /// <summary>The cancel message that closes this cue was carried again by the carousel.</summary>
    CancelMessageRepeated,
}

/// <summary>The video frame a message rode on.</summary>
/// <param name="Pts">Carrier PTS in <paramref name="TimeBase"/> units, null when the input has none.</param>
/// <param name="FrameIndex">Carrier index in decode order.</param>
/// <param name="TimeBase">Time base of <paramref name="Pts"/>.</param>
/// <param name="SeiSha256">SHA-256 of the whole SEI NAL (framing included) as lower-case hex.</param>
/// <param name="TransmissionSequence">The transmission sequence number of the frame's payload (format version 2:
/// what the reader's replay window checks; the cue keeps its own sequence number inside it), or -1 when unknown.</param>
public sealed record CarrierFrame(long? Pts, long FrameIndex, Rational TimeBase, string SeiSha256, long TransmissionSequence = -1);

/// <summary>An immutable view of one cue.</summary>
/// <param name="Request">What was asked for.</param>
/// <param name="Sequence">The cue sequence number: its identity on the wire, the same on every repeat (format
/// version 2 carries it inside each transmission's payload; version 1 as the message's sequence number).</param>
/// <param name="State">Current state.</param>
/// <param name="TargetPts">Target presentation time in the video time base, once known (after the first video frame).</param>
/// <param name="TimeBase">Time base of <paramref name="TargetPts"/>, once known.</param>
/// <param name="Transmissions">How many frames carried it so far (first delivery included).</param>
/// <param name="Hold">
/// For a close (interaction-end or cancel) once delivered: how long after its first delivery the carousel carries it
/// (the rest of the closed cue's window, or <see cref="CueBookOptions.CloseHold"/>); null otherwise.
/// </param>
public sealed record CueSnapshot(CueRequest Request, long Sequence, CueState State, long? TargetPts, Rational? TimeBase, int Transmissions, TimeSpan? Hold = null)
{
    /// <summary>The cue id.</summary>
    public string Id => Request.Id;

    /// <summary>The cue kind.</summary>
    public MessageKind Kind => Request.Kind;
}

/// <summary>One entry of the cue journal.</summary>
/// <param name="Event">What happened.</param>
/// <param name="WallClockMicros">When, by the injector's wall clock (microseconds since the Unix epoch).</param>
/// <param name="Cue">The cue after the change.</param>
/// <param name="Carrier">The carrier frame for <see cref="CueEvent.Delivered"/> and <see cref="CueEvent.Repeated"/>.</param>
/// <param name="Detail">Free text: why a cue expired or was cancelled.</param>
/// <param name="CloseSequence">
/// Sequence number of the message that closes the cue: for <see cref="CueEvent.Cancelled"/> of a delivered cue the
/// cancel message that goes out; for a cue closed by a delivered interaction-end or cancel cue, that cue's; for
/// <see cref="CueEvent.CancelMessageDelivered"/> and <see cref="CueEvent.CancelMessageRepeated"/> the cancel message's.
/// </param>
/// <param name="ClosedBy">Id of the interaction-end or cancel cue whose delivery closed this cue, or null.</param>
public sealed record CueJournalEntry(CueEvent Event, long WallClockMicros, CueSnapshot Cue, CarrierFrame? Carrier, string? Detail, long? CloseSequence = null, string? ClosedBy = null);

/// <summary>A change of the input or output.</summary>
public enum StreamEvent
{
    /// <summary>The input was opened and probed.</summary>
    InputOpened,
    /// <summary>The output header was written: the pipeline is live.</summary>
    OutputStarted,
    /// <summary>The input ended.</summary>
    InputEnded,
    /// <summary>The run was stopped by the operator.</summary>
    Stopped,
    /// <summary>The run failed.</summary>
    Failed,
}

/// <summary>One input/output state change.</summary>
/// <param name="Event">What happened.</param>
/// <param name="WallClockMicros">When (microseconds since the Unix epoch).</param>
/// <param name="Detail">URL, format or error text.</param>
public sealed record StreamStateEntry(StreamEvent Event, long WallClockMicros, string Detail);

/// <summary>
/// Observes every change of the cue book (accepted, delivered, repeated, cancelled, expired) and every input/output
/// state change. The audit log implements it; after a crash the restarted injector hands what the log holds back to
/// <see cref="CueBook.Restore"/>. Called under the book's lock, on the pipeline thread for deliveries: keep it quick.
/// </summary>
public interface ICueJournal
{
    /// <summary>A cue changed state.</summary>
    void Record(CueJournalEntry entry);

    /// <summary>The input or output changed state.</summary>
    void Record(StreamStateEntry entry);
}

/// <summary>A journal that keeps nothing.</summary>
public sealed class NullCueJournal : ICueJournal
{
    /// <summary>The one instance.</summary>
    public static NullCueJournal Instance { get; } = new();

    private NullCueJournal()
    {
    }

    /// <inheritdoc />
    public void Record(CueJournalEntry entry)
    {
    }

    /// <inheritdoc />
    public void Record(StreamStateEntry entry)
    {
    }
}
