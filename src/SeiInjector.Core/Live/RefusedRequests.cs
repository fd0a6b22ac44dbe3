using System.Globalization;
using System.Net;
using System.Text;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Tells the operator about requests the control API refused (no or wrong token) without letting a flood fill the disk:
/// the first refusal of each minute is logged as one line with its path cut to <see cref="PathShown"/> characters, the
/// rest are counted, and once a minute (and at <see cref="Dispose"/>) one summary line goes to the log and one
/// <c>unauthorized_summary</c> record to the audit log: how many, how many were over the rate limit, from how many
/// addresses, and the first one. 10,000 refused requests with 8 KB paths cost two log lines and one audit record.
/// The summary's timer is armed by the first refusal of a minute, not kept running: an injector nobody knocks at has no
/// timer firing (each firing woke the runtime's timer thread and a thread-pool worker, which after 20 s idle is a new
/// thread: ~0.5 % of a live injector's CPU, benchmarks/RESULTS.md fifteenth pass).
/// </summary>
internal sealed class RefusedRequests : IDisposable
{
    /// <summary>Most characters of a refused request's path that are logged.</summary>
    public const int PathShown = 64;

    /// <summary>Most distinct addresses counted per minute (a spoofing flood cannot grow the set without bound).</summary>
    private const int AddressesCounted = 4096;

    private readonly TextWriter _log;
    private readonly AuditLog? _audit;
    private readonly TimeProvider _clock;
    private readonly ITimer _timer;
    private readonly object _gate = new();
    private readonly HashSet<IPAddress> _addresses = [];
    private DateTimeOffset _since;
    private long _refused, _limited;
    private string _first = "";
    private bool _disposed;

    public RefusedRequests(TextWriter log, AuditLog? audit, TimeProvider clock)
    {
        _log = log;
        _audit = audit;
        _clock = clock;
        _timer = clock.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How long after the first refusal of a period its summary is written.</summary>
    public static readonly TimeSpan SummaryPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Counts one refused request; logs it when it is the first since the last summary.</summary>
    /// <param name="remote">The client's address (null when unknown).</param>
    /// <param name="method">HTTP method.</param>
    /// <param name="path">Path as sent; only its first <see cref="PathShown"/> characters are kept.</param>
    /// <param name="limited">True when it was answered 429 (over the rate limit) rather than 401.</param>
    public void Refused(IPAddress? remote, string method, string path, bool limited)
    {
        string? line = null;
        lock (_gate)
        {
            if (_disposed) return;
            if (_refused == 0)
            {
                _since = _clock.GetUtcNow();
                _first = $"{Describe(method, path)} from {remote}";
                line = $"control: 401 for {_first}: missing or wrong bearer token (further refusals are counted and summed up once a minute)";
                // One shot: the summary a minute from now; the next refusal after it arms the next one.
                _timer.Change(SummaryPeriod, Timeout.InfiniteTimeSpan);
            }
            _refused++;
            if (limited) _limited++;
            if (remote is not null && _addresses.Count < AddressesCounted) _addresses.Add(remote);
        }
        if (line is not null) _log.WriteLine(line);
    }

    /// <summary>Writes the summary of the refusals counted since the last one, if any.</summary>
    public void Flush()
    {
        long refused, limited;
        int addresses;
        string first;
        DateTimeOffset since;
        lock (_gate)
        {
            if (_refused == 0) return;
            (refused, limited, addresses, first, since) = (_refused, _limited, _addresses.Count, _first, _since);
            _refused = _limited = 0;
            _addresses.Clear();
        }
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"control: {refused} request(s) refused since {since:HH:mm:ss} UTC ({limited} over the rate limit) from {addresses} address(es); first: {first}"));
        _audit?.UnauthorizedSummary(since, refused, limited, addresses, first);
    }

    /// <summary>Stops the timer and writes the last summary (call before the audit log closes).</summary>
    public void Dispose()
    {
        // Closed to new refusals first, so nothing arms the timer once it is disposed.
        lock (_gate) _disposed = true;
        _timer.Dispose();
        Flush();
    }

    /// <summary>Method and path as they may be logged: at most <see cref="PathShown"/> characters, control characters as '?'.</summary>
    internal static string Describe(string method, string path)
    {
        var b = new StringBuilder(PathShown + 40);
        foreach (var c in method.Length > 16 ? method[..16] : method) b.Append(char.IsControl(c) ? '?' : c);
        b.Append(' ');
        foreach (var c in path.Length > PathShown ? path[..PathShown] : path) b.Append(char.IsControl(c) ? '?' : c);
        if (path.Length > PathShown) b.Append(CultureInfo.InvariantCulture, $"... ({path.Length} characters)");
        return b.ToString();
    }
}
