using CatEvening.SeiInjector.Pipeline;
using CatEvening.SeiReader.Messages;

namespace CatEvening.SeiInjector.Cues;

/// <summary>
/// What <see cref="CueBook.Collect"/> decided for one video packet: the messages that ride on it, unsigned, in sequence
/// order (a heartbeat last). Immutable. Hand it back to <see cref="CueBook.Commit"/> when the packet went out with them,
/// or to <see cref="CueBook.Defer"/> when it went out without them; until then the cues whose first delivery it plans
/// are in flight.
/// </summary>
public sealed class CuePlan
{
    internal CuePlan(VideoFrame frame, long mediaTime, CueBook.PlannedTransmission[] transmissions, CatEveningMessage[] messages, long? heartbeatClock,
        long transmissionSequence)
    {
        TransmissionSequence = transmissionSequence;
        Frame = frame;
        MediaTime = mediaTime;
        Transmissions = transmissions;
        Messages = messages;
        HeartbeatClock = heartbeatClock;
    }

    /// <summary>The packet it was made for.</summary>
    public VideoFrame Frame { get; }

    /// <summary>The messages that ride on the packet; empty when nothing is due.</summary>
    public IReadOnlyList<CatEveningMessage> Messages { get; }

    /// <summary>
    /// The packet's <b>transmission sequence number</b> (−1 when nothing rides on it): drawn from the same counter as
    /// cue numbers for every carrier frame, so successive carrier frames are numbered strictly in transmission order,
    /// and a restart (which starts the counter at the Unix time in ms or above the audit log's reserved blocks) never
    /// reuses one. The heartbeat, if due, carries it; a format-version-2 payload carries it for everything on the
    /// frame, while each cue keeps its own number inside it. A deferred plan's number is never used again.
    /// </summary>
    public long TransmissionSequence { get; }

    /// <summary>True when nothing rides on the packet.</summary>
    public bool IsEmpty => Messages.Count == 0;

    internal long MediaTime { get; }

    internal IReadOnlyList<CueBook.PlannedTransmission> Transmissions { get; }

    internal long? HeartbeatClock { get; }
}
