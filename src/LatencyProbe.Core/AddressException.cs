namespace CatEvening.LatencyProbe;

/// <summary>
/// An address given on the command line (<c>--clock</c>, <c>--listen</c>, <c>--metrics</c>, a <c>HOST:PORT</c> argument)
/// cannot be used: malformed (<see cref="Malformed"/>: a bad command line), or well formed but its host does not
/// resolve, its port cannot be bound, or nothing answers there. The message is one line that starts with the option.
/// </summary>
public sealed class AddressException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> names the option and the address.</summary>
    public AddressException(string message, bool malformed = false, Exception? inner = null)
        : base(message, inner)
    {
        Malformed = malformed;
    }

    /// <summary>Creates the exception.</summary>
    public AddressException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public AddressException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AddressException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>True when the text is not an address at all (exit 2), false when the address cannot be used (exit 3).</summary>
    public bool Malformed { get; }
}
