using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CatEvening.Http;
using Microsoft.AspNetCore.Http;

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
    private readonly HttpHost _host;

    /// <summary>Starts serving on <c>http://HOST:PORT/metrics</c>.</summary>
    /// <exception cref="SocketException"><paramref name="host"/> is a name that does not resolve.</exception>
    /// <exception cref="IOException">The address cannot be bound; the message names it.</exception>
    public PrometheusExporter(LatencyRecorder recorder, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _recorder = recorder;
        var address = host is "+" or "*" ? IPAddress.Any
            : IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
        _host = HttpHost.Start(new IPEndPoint(address, port), ServeAsync);
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

    /// <summary>The address served on, as <c>http://host:port/</c>.</summary>
    public Uri BaseAddress => _host.BaseAddress;

    /// <inheritdoc />
    public void Dispose() => _host.Dispose();

    private Task ServeAsync(HttpContext context)
    {
        var response = context.Response;
        if (context.Request.Path.Value != "/metrics")
        {
            response.StatusCode = 404;
            return Task.CompletedTask;
        }
        var body = Encoding.UTF8.GetBytes(Render(_recorder.ToReport(DateTimeOffset.UtcNow)));
        response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
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
