namespace CatEvening.SeiInjector.Cues;

/// <summary>Settings of a <see cref="CueBook"/>.</summary>
public sealed record CueBookOptions
{
    /// <summary>Stream id every message carries (1-64 UTF-8 bytes); readers reject other streams.</summary>
    public required string StreamId { get; init; }

    /// <summary>Frames after the first delivery that carry a cue again, besides the keyframes in its window (default 3).</summary>
    public int Repeat { get; init; } = 3;

    /// <summary>
    /// How long a close (interaction-end or cancel) rides the carousel after its first delivery when the cue it closes
    /// has no window of its own (default 30 s); a close of a cue with a window rides until that window ends. Late
    /// joiners learn from it that the interaction is over.
    /// </summary>
    public TimeSpan CloseHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeat cadence (default one per second).</summary>
    public HeartbeatPolicy Heartbeat { get; init; } = HeartbeatPolicy.Every(TimeSpan.FromSeconds(1));

    /// <summary>
    /// For one machine of a hot-standby pair on a cue bus (0 main, 1 backup; null alone): carrier frames are then
    /// numbered from the source's decoding time, <see cref="PairTransmissionBase"/> + 2 × DTS in ms + member, so both
    /// machines give the same frame neighbouring numbers in the same order and a reader that switches between them
    /// finds every number in its replay window (docs/sei-format.md, "Hot-standby pairs").
    /// </summary>
    public int? PairMember { get; init; }

    /// <summary>
    /// Where a pair's transmission numbers start: 2^44, above every number a run numbered from the Unix time in
    /// milliseconds (<see cref="SequenceFloorAt"/>) can reach before the year 2500, so a stream that turns into a pair
    /// keeps its numbers rising; 2^44 + 2 × DTS stays below 2^53 for 4,000 years of stream time.
    /// </summary>
    public const long PairTransmissionBase = 1L << 44;

    /// <summary>Sequence number of the first message; a restarted injector continues above the last one it logged.</summary>
    public long FirstSequence { get; init; }

    /// <summary>
    /// The lowest sequence number a run starting at <paramref name="now"/> may use: the Unix time in milliseconds.
    /// Readers reject a sequence number they have seen (replay protection), so a restarted injector must never reuse
    /// one, audit log or not; starting at the clock stays above every number an earlier run used as long as runs send
    /// fewer than 1,000 messages a second (a few per frame at most). The audit log, when given, raises it further.
    /// </summary>
    /// <param name="now">When the run starts.</param>
    public static long SequenceFloorAt(DateTimeOffset now) => Math.Max(0, now.ToUnixTimeMilliseconds());
}

/// <summary>Why the book refused a request.</summary>
public enum CueRejection
{
    /// <summary>The id is empty or longer than 64 UTF-8 bytes.</summary>
    InvalidId,
    /// <summary>Another cue already has this id.</summary>
    DuplicateId,
    /// <summary>The kind is not a cue kind (heartbeats are not cues).</summary>
    InvalidKind,
    /// <summary>The app data is longer than 1024 bytes.</summary>
    AppDataTooLarge,
    /// <summary>Duration or spread is negative or too long.</summary>
    InvalidTiming,
    /// <summary>No cue has this id.</summary>
    UnknownId,
    /// <summary>The cue already ended, expired or was cancelled.</summary>
    AlreadyEnded,
}

/// <summary>The book refused to add or cancel a cue; <see cref="Reason"/> says why and the message names the cue.</summary>
public sealed class CueRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CueRejectedException(CueRejection reason, string message)
        : base(message) => Reason = reason;

    /// <summary>Why.</summary>
    public CueRejection Reason { get; }
}

/// <summary>Counts and positions for status pages and metrics.</summary>
/// <param name="Pending">Cues waiting for their frame.</param>
/// <param name="Active">Cues delivered and still in their window.</param>
/// <param name="Delivered">Cues sent at least once (active, ended, or cancelled after delivery).</param>
/// <param name="Ended">Cues delivered whose window ended.</param>
/// <param name="Expired">Cues whose window closed before they could be sent.</param>
/// <param name="Cancelled">Cues cancelled.</param>
/// <param name="Frames">Video frames seen.</param>
/// <param name="CarrierFrames">Frames that carried at least one message.</param>
/// <param name="MessagesSent">Messages carried, repeats and heartbeats included.</param>
/// <param name="HeartbeatsSent">Heartbeats carried.</param>
/// <param name="LastPts">PTS of the last video frame (video time base), null before the first or without timestamps.</param>
/// <param name="LastCarrierPts">PTS of the last carrier frame.</param>
/// <param name="LastPtsSeconds">LastPts in seconds.</param>
/// <param name="NextSequence">The sequence number the next message will take.</param>
public sealed record CueBookSnapshot(
    int Pending, int Active, int Delivered, int Ended, int Expired, int Cancelled,
    long Frames, long CarrierFrames, long MessagesSent, long HeartbeatsSent,
    long? LastPts, long? LastCarrierPts, double? LastPtsSeconds, long NextSequence);
