namespace CatEvening.Http;

/// <summary>
/// The limits every CatEvening HTTP server runs with (Kestrel's <c>KestrelServerLimits</c>). The defaults suit a
/// control or metrics port that a handful of trusted clients use and strangers on the same network may attack: slow or
/// silent connections are closed, and the connection cap leaves room for the operator long before the process runs out
/// of file descriptors (1,024 by default).
/// </summary>
public sealed record HttpHostLimits
{
    /// <summary>Most connections open at once (default 256); further ones are refused at accept.</summary>
    public long MaxConcurrentConnections { get; init; } = 256;

    /// <summary>How long an idle kept-alive connection stays open (default 15 s).</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Time a client has to send the whole request line and headers (default 5 s); a silent connection is closed after it.</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest request body in bytes (default 64 KiB); Kestrel answers 413 above it.</summary>
    public long MaxRequestBodySize { get; init; } = 64 * 1024;

    /// <summary>Longest request line plus headers in bytes (default 16 KiB).</summary>
    public int MaxRequestHeadersTotalSize { get; init; } = 16 * 1024;

    /// <summary>Time a response may take to be written and a body to be read at the lowest rate (default 5 s grace at 240 bytes/s).</summary>
    public TimeSpan MinDataRateGracePeriod { get; init; } = TimeSpan.FromSeconds(5);
}
