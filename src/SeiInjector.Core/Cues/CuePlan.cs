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
    internal CuePlan(VideoFrame frame, long mediaTime, CueBook.PlannedTransmission[] transmissions, CatEveningMessage[] messages, long? heartbeatClock)
    {
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

    /// <summary>True when nothing rides on the packet.</summary>
    public bool IsEmpty => Messages.Count == 0;

    internal long MediaTime { get; }

    internal IReadOnlyList<CueBook.PlannedTransmission> Transmissions { get; }

    internal long? HeartbeatClock { get; }
}
