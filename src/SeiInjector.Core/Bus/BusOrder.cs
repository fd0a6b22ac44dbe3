namespace CatEvening.SeiInjector.Bus;

/// <summary>What an order of the bus asks of every injector.</summary>
public enum BusOrderKind
{
    /// <summary>Add a cue (its body is a control API cue order).</summary>
    Fire,

    /// <summary>Cancel a cue (with a cancel message numbered by the bus if it was delivered).</summary>
    Cancel,
}

/// <summary>One order on the show's stream, as every injector reads it.</summary>
/// <param name="EntryId">The Redis stream entry id (<c>1764500000000-0</c>): the position after this order.</param>
/// <param name="Sequence">The bus number: the cue's sequence number for a fire, the cancel message's for a cancel.</param>
/// <param name="Kind">Fire or cancel.</param>
/// <param name="CueId">The cue fired or cancelled.</param>
/// <param name="Body">For a fire: the cue order as JSON (the body of <c>POST /v1/cues</c>, target on the source's clock or a wall clock); else empty.</param>
public sealed record BusOrder(string EntryId, long Sequence, BusOrderKind Kind, string CueId, byte[] Body);

/// <summary>The bus cannot be reached (or answered with an error); the message says which bus and why.</summary>
public sealed class CueBusUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CueBusUnavailableException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public CueBusUnavailableException() { }

    /// <summary>Creates the exception.</summary>
    public CueBusUnavailableException(string message) : base(message) { }
}
