using System.Globalization;
using System.Net;
using System.Text;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Serves a recorder's figures in the Prometheus text exposition format (version 0.0.4) at <c>/metrics</c>.
/// </summary>
/// <remarks>
/// Metrics, all labelled <c>instrument</c>: <c>latency_probe_latency_seconds</c> (summary with exact quantiles
/// 0.5, 0.95, 0.99 over every sample of the run, plus <c>_sum</c> and <c>_count</c>),
/// <c>latency_probe_current_latency_seconds</c>, <c>latency_probe_min_latency_seconds</c>,
/// <c>latency_probe_max_latency_seconds</c>, <c>latency_probe_uncertainty_seconds</c> (gauges) and
/// <c>latency_probe_events_total</c> (counter, labelled <c>event</c>). Seconds, as Prometheus naming asks.
/// </remarks>
public sealed class PrometheusExporter : IDisposable
{
    private readonly LatencyRecorder _recorder;
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    /// <summary>Starts serving on <c>http://HOST:PORT/metrics</c>.</summary>
    /// <exception cref="HttpListenerException">The address cannot be bound.</exception>
    public PrometheusExporter(LatencyRecorder recorder, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _recorder = recorder;
        // HttpListener's prefix takes "+" for every interface and an IPv6 literal in brackets.
        var prefixHost = host is "0.0.0.0" or "::" ? "+" : host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        _listener.Prefixes.Add($"http://{prefixHost}:{port.ToString(CultureInfo.InvariantCulture)}/");
        try
        {
            _listener.Start();
        }
        catch
        {
            _listener.Close();
            throw;
        }
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>The current metrics in Prometheus text format.</summary>
    public static string Render(LatencyReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var s = report.Summary;
        var label = $"instrument=\"{Escape(report.Instrument)}\"";
        var text = new StringBuilder();
        text.Append("# HELP latency_probe_latency_seconds Measured latency over the whole run.\n");
        text.Append("# TYPE latency_probe_latency_seconds summary\n");
        if (s.Count > 0)
        {
            Line(text, "latency_probe_latency_seconds", $"{label},quantile=\"0.5\"", s.P50Milliseconds / 1000);
            Line(text, "latency_probe_latency_seconds", $"{label},quantile=\"0.95\"", s.P95Milliseconds / 1000);
            Line(text, "latency_probe_latency_seconds", $"{label},quantile=\"0.99\"", s.P99Milliseconds / 1000);
        }
        Line(text, "latency_probe_latency_seconds_sum", label, s.Count == 0 ? 0 : s.MeanMilliseconds * s.Count / 1000);
        Line(text, "latency_probe_latency_seconds_count", label, s.Count);
        Gauge(text, "latency_probe_current_latency_seconds", "Latency of the most recent sample.", label, s.CurrentMilliseconds / 1000);
        Gauge(text, "latency_probe_min_latency_seconds", "Smallest latency of the run.", label, s.MinMilliseconds / 1000);
        Gauge(text, "latency_probe_max_latency_seconds", "Largest latency of the run.", label, s.MaxMilliseconds / 1000);
        Gauge(text, "latency_probe_uncertainty_seconds", "Largest per-sample uncertainty of the run.", label, s.UncertaintyMilliseconds / 1000);
        text.Append("# HELP latency_probe_events_total Instrument events (missed edges, undecodable frames, ...).\n");
        text.Append("# TYPE latency_probe_events_total counter\n");
        foreach (var (name, value) in report.Counters)
            Line(text, "latency_probe_events_total", $"{label},event=\"{Escape(name)}\"", value);
        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // The loop ends by the listener's own exception when it is closed; nothing to report.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var response = context.Response;
            if (context.Request.Url?.AbsolutePath != "/metrics")
            {
                response.StatusCode = 404;
                continue;
            }
            var body = Encoding.UTF8.GetBytes(Render(_recorder.ToReport(DateTimeOffset.UtcNow)));
            response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            response.ContentLength64 = body.Length;
            try
            {
                await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
            }
            catch (HttpListenerException)
            {
                // The scraper hung up; the next scrape gets fresh figures.
            }
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, string labels, double value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        if (double.IsFinite(value)) Line(text, name, labels, value);
    }

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append('{').Append(labels).Append("} ")
            .Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
}
