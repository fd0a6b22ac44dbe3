using System.Security.Cryptography.X509Certificates;
using CatEvening.Http;

namespace CatEvening.SeiInjector.Live;

/// <summary>How the control API serves: TLS, connection limits, and how many refused requests a client address gets.</summary>
public sealed record ControlServerOptions
{
    /// <summary>Certificate (with its private key) to serve HTTPS with; null for plain HTTP.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// Connection and request limits (<see cref="DefaultLimits"/>): a connection cap of half the process's open-file
    /// limit, at most 4,096, so that idle connections never take the descriptors the stream and the audit log need; an
    /// idle connection closed after 5 s (keep-alive timeout: it also applies to a connection that never sends a byte)
    /// and 5 s to send the request headers. A flood of idle connections below the cap costs the operator nothing; above
    /// it, connections over the cap are closed at once and the places free up within 5 s, so a client retrying once a
    /// second (the console does) gets through within about 6 s.
    /// </summary>
    public HttpHostLimits Limits { get; init; } = DefaultLimits();

    /// <summary>Refused (401) requests an address may make in a burst before it gets 429 (default 20).</summary>
    public int RefusedBurst { get; init; } = 20;

    /// <summary>Refused requests an address may make per second once its burst is spent (default 5).</summary>
    public int RefusedPerSecond { get; init; } = 5;

    /// <summary>
    /// Live-update streams (<c>GET /v1/events</c>) open at once (default 8: a desk or two and a few monitors); one more
    /// gets 503 and its client polls instead. Far below the connection cap, so streams never crowd out requests.
    /// </summary>
    public int MaxEventClients { get; init; } = 8;

    /// <summary>How often a live-update stream sends status and run of show (default 500 ms: twice the polling rate).</summary>
    public TimeSpan EventInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Clock for the once-a-minute summary of refused requests and for the live-update streams' ticks.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The control API's limits: see <see cref="Limits"/>.</summary>
    public static HttpHostLimits DefaultLimits() => new()
    {
        MaxConcurrentConnections = Math.Clamp(OpenFileLimit() / 2, 64, 4096),
        KeepAliveTimeout = TimeSpan.FromSeconds(5),
        RequestHeadersTimeout = TimeSpan.FromSeconds(5),
    };

    // The soft RLIMIT_NOFILE as /proc/self/limits tells it ("Max open files  SOFT  HARD  files"); 1,024 where unknown.
    private static long OpenFileLimit()
    {
        const long fallback = 1024;
        try
        {
            if (!File.Exists("/proc/self/limits")) return fallback;
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var soft)
                    ? soft : fallback;
            }
        }
        catch (IOException)
        {
        }
        return fallback;
    }
}
