namespace CatEvening.SeiInjector.Pipeline;

/// <summary>The input cannot be injected into (no suitable video stream, malformed codec configuration, …).</summary>
public sealed class InjectionException : Exception
{
    /// <summary>Creates the exception with a message naming the input and what is wrong with it.</summary>
    public InjectionException(string message)
        : base(message)
    {
    }
}
