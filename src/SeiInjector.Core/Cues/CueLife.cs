namespace CatEvening.SeiInjector.Cues;

/// <summary>What moves a message along its life (see <see cref="CueLife.Next"/>).</summary>
public enum CueTrigger
{
    /// <summary><see cref="CueBook.Collect"/> put its first delivery on a frame.</summary>
    Planned,

    /// <summary>The frame planned to carry its first delivery went out (<see cref="CueBook.Commit"/>).</summary>
    Committed,

    /// <summary>The frame planned to carry its first delivery went out without it (<see cref="CueBook.Defer"/>).</summary>
    Deferred,

    /// <summary>The operator cancelled it.</summary>
    CancelRequested,

    /// <summary>Its window is over: after delivery the carousel stops; before delivery nothing can carry it any more.</summary>
    WindowOver,

    /// <summary>An <c>interaction-end</c> naming it was delivered.</summary>
    EndDelivered,

    /// <summary>A <c>cancel</c> naming it was delivered.</summary>
    CancelDelivered,
}

/// <summary>
/// The life of one message on the carousel: a cue, or the cancel message that closes an active cue. Every transition
/// goes through <see cref="Fire"/>, and <see cref="Next"/> is the whole table:
/// <code>
///  Pending ──Planned──▶ InFlight ──Committed──▶ Active ──WindowOver──▶ Ended
///     ▲                    │  │                    │ └──EndDelivered──▶ Ended
///     └──────Deferred──────┘  CancelRequested      ├──CancelRequested / CancelDelivered──▶ Cancelled
///                             ▼                    │
///                        CancelQueued ──Committed──▶ Active, then CancelRequested (a cancel message follows)
///                                     ──Deferred───▶ Pending, then CancelRequested (dropped, nothing went out)
///  Pending ──CancelRequested / EndDelivered / CancelDelivered──▶ Cancelled;  Pending ──WindowOver──▶ Expired
/// </code>
/// A close (an <c>interaction-end</c> or <c>cancel</c>) delivered for a cue that is already closed changes nothing.
/// Not thread-safe: the book calls it under its lock.
/// </summary>
public sealed class CueLife
{
    internal CueLife(CueState state = CueState.Pending, int transmissions = 0)
    {
        State = state;
        Transmissions = transmissions;
    }

    /// <summary>Where the message is now.</summary>
    public CueState State { get; private set; }

    /// <summary>Frames that carried it so far (first delivery included).</summary>
    public int Transmissions { get; private set; }

    /// <summary>Frames right after the first delivery that still carry it, besides keyframes.</summary>
    public int RepeatsLeft { get; private set; }

    /// <summary>True once it ended, was cancelled or expired: it never rides again.</summary>
    public bool IsClosed => State.IsClosed();

    /// <summary>
    /// The state after <paramref name="trigger"/> in <paramref name="from"/>, or false when the trigger makes no sense
    /// there (a bug in the caller, except for a close of a closed cue, which <see cref="Fire"/> ignores).
    /// </summary>
    public static bool TryNext(CueState from, CueTrigger trigger, out CueState to)
    {
        to = (from, trigger) switch
        {
            (CueState.Pending, CueTrigger.Planned) => CueState.InFlight,
            (CueState.Pending, CueTrigger.CancelRequested) => CueState.Cancelled,
            (CueState.Pending, CueTrigger.WindowOver) => CueState.Expired,
            (CueState.Pending, CueTrigger.EndDelivered or CueTrigger.CancelDelivered) => CueState.Cancelled,
            (CueState.InFlight, CueTrigger.Committed) => CueState.Active,
            (CueState.InFlight, CueTrigger.Deferred) => CueState.Pending,
            (CueState.InFlight, CueTrigger.CancelRequested) => CueState.CancelQueued,
            (CueState.CancelQueued, CueTrigger.Committed) => CueState.Active,
            (CueState.CancelQueued, CueTrigger.Deferred) => CueState.Pending,
            (CueState.Active, CueTrigger.CancelRequested or CueTrigger.CancelDelivered) => CueState.Cancelled,
            (CueState.Active, CueTrigger.WindowOver or CueTrigger.EndDelivered) => CueState.Ended,
            _ => from,
        };
        return to != from;
    }

    /// <summary>The state <see cref="TryNext"/> gives, or an exception for a transition the table does not have.</summary>
    /// <exception cref="InvalidOperationException">The trigger makes no sense in this state.</exception>
    public static CueState Next(CueState from, CueTrigger trigger) =>
        TryNext(from, trigger, out var to) ? to : throw new InvalidOperationException($"a cue that is {from} cannot take {trigger}");

    /// <summary>Moves along the table; returns the state it left. A close of a closed message is ignored.</summary>
    /// <exception cref="InvalidOperationException">The trigger makes no sense in this state.</exception>
    internal CueState Fire(CueTrigger trigger, int repeats = 0)
    {
        var from = State;
        if (from.IsClosed() && trigger is CueTrigger.EndDelivered or CueTrigger.CancelDelivered) return from;
        State = Next(from, trigger);
        if (trigger == CueTrigger.Committed)
        {
            Transmissions++;
            RepeatsLeft = repeats;
        }
        return from;
    }

    /// <summary>
    /// It rode again (a carousel repeat). It may have closed since the repeat was planned (a cancel while the packet was
    /// in flight): the repeat still went out, and is counted.
    /// </summary>
    internal void Repeated()
    {
        if (Transmissions == 0) throw new InvalidOperationException($"a cue that is {State} was never delivered, so it cannot be repeated");
        Transmissions++;
        if (RepeatsLeft > 0) RepeatsLeft--;
    }
}
