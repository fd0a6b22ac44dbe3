using System.Net;
using System.Net.Sockets;
using CatEvening.Http;
using Prometheus;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>
/// Serves a recorder's figures in the Prometheus text exposition format (version 0.0.4) at <c>GET /metrics</c>,
/// written by prometheus-net on a registry private to the exporter and served by <see cref="PrometheusEndpoint"/>
/// (the same endpoint as <c>sei-inject run --metrics</c>).
/// </summary>
/// <remarks>
/// <para>Metrics, all labelled <c>instrument</c> (names and labels as before prometheus-net), in seconds as Prometheus
/// naming asks:</para>
/// <list type="bullet">
/// <item><c>latency_probe_latency_seconds</c>: summary with <c>_sum</c>, <c>_count</c> and the quantiles 0.5, 0.95 and
/// 0.99 over every sample of the run. <c>_sum</c> and <c>_count</c> are exact. The quantiles are <em>estimates</em>
/// (prometheus-net's CKMS stream, <see cref="Objectives"/>): the value reported for quantile q is a sample whose rank
/// lies within ±<see cref="QuantileRankError"/>·n of q·n, n the sample count (0.1 % of the samples either side: over
/// 10,000 samples, at most 10 ranks off). Before prometheus-net they were exact (interpolated between ranks, as the
/// JSON report's <c>p50_ms</c> ... still are). The window is the whole run, as before: one age bucket of
/// <see cref="SummaryMaxAge"/> (a run longer than that starts its quantiles over; <c>_sum</c> and <c>_count</c> never
/// do). Before the first sample the quantiles read <c>NaN</c> (they used to be left out).</item>
/// <item><c>latency_probe_current_latency_seconds</c>, <c>latency_probe_min_latency_seconds</c>,
/// <c>latency_probe_max_latency_seconds</c> and <c>latency_probe_uncertainty_seconds</c> (the largest per-sample
/// uncertainty): gauges, absent until the first sample.</item>
/// <item><c>latency_probe_events_total</c>: counter, also labelled <c>event</c> (missed edges, undecodable frames, ...),
/// one series per event that has happened.</item>
/// </list>
/// <para>The summary and gauges are fed sample by sample (<see cref="LatencyRecorder.Observe"/>, samples recorded before
/// the exporter started included); the event counters are read from the recorder at each scrape.</para>
/// </remarks>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>
    /// The allowed rank error of every quantile of <c>latency_probe_latency_seconds</c>, as a fraction of the sample
    /// count (prometheus-net's objective ε).
    /// </summary>
    public const double QuantileRankError = 0.001;

    /// <summary>The quantiles of <c>latency_probe_latency_seconds</c> with their allowed rank error.</summary>
    public static IReadOnlyList<QuantileEpsilonPair> Objectives { get; } =
        [new(0.5, QuantileRankError), new(0.95, QuantileRankError), new(0.99, QuantileRankError)];

    /// <summary>
    /// How long the quantiles of <c>latency_probe_latency_seconds</c> keep a sample: far longer than any run, so that
    /// they cover the whole run as the report does.
    /// </summary>
    public static TimeSpan SummaryMaxAge { get; } = TimeSpan.FromDays(365);

    private readonly IDisposable _observation;
    private readonly HttpHost _host;

    /// <summary>Starts serving on <c>http://HOST:PORT/metrics</c>; port 0 picks a free one (see <see cref="BaseAddress"/>).</summary>
    /// <exception cref="SocketException"><paramref name="host"/> is a name that does not resolve.</exception>
    /// <exception cref="IOException">The address cannot be bound; the message names it.</exception>
    public PrometheusExporter(LatencyRecorder recorder, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(recorder);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        var address = host is "+" or "*" ? IPAddress.Any
            : IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
        Metrics = CreateMetrics(recorder, out _observation);
        try
        {
            _host = HttpHost.Start(new IPEndPoint(address, port), PrometheusEndpoint.Handler(Metrics));
        }
        catch
        {
            _observation.Dispose();
            throw;
        }
    }

    /// <summary>The exporter's own registry, as exported at <c>/metrics</c>.</summary>
    public CollectorRegistry Metrics { get; }

    /// <summary>The address served on, as <c>http://host:port/</c> (the bound port when started with port 0).</summary>
    public Uri BaseAddress => _host.BaseAddress;

    /// <inheritdoc />
    public void Dispose()
    {
        _host.Dispose();
        _observation.Dispose();
    }

    private static CollectorRegistry CreateMetrics(LatencyRecorder recorder, out IDisposable observation)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        string[] instrument = ["instrument"];
        var latency = f.CreateSummary("latency_probe_latency_seconds", "Measured latency over the whole run.", instrument,
            new SummaryConfiguration { Objectives = [.. Objectives], MaxAge = SummaryMaxAge, AgeBuckets = 1 })
            .WithLabels(recorder.Instrument);
        var gauge = new GaugeConfiguration { SuppressInitialValue = true };
        var current = f.CreateGauge("latency_probe_current_latency_seconds", "Latency of the most recent sample.", instrument, gauge).WithLabels(recorder.Instrument);
        var min = f.CreateGauge("latency_probe_min_latency_seconds", "Smallest latency of the run.", instrument, gauge).WithLabels(recorder.Instrument);
        var max = f.CreateGauge("latency_probe_max_latency_seconds", "Largest latency of the run.", instrument, gauge).WithLabels(recorder.Instrument);
        var uncertainty = f.CreateGauge("latency_probe_uncertainty_seconds", "Largest per-sample uncertainty of the run.", instrument, gauge).WithLabels(recorder.Instrument);
        var events = f.CreateCounter("latency_probe_events_total", "Instrument events (missed edges, undecodable frames, ...).", ["instrument", "event"]);

        // The recorder calls the observer one sample at a time under its lock, so these need no lock of their own.
        double smallest = double.PositiveInfinity, largest = double.NegativeInfinity, widest = 0;
        observation = recorder.Observe(sample =>
        {
            var seconds = sample.LatencyMilliseconds / 1000;
            latency.Observe(seconds);
            current.Set(seconds);
            smallest = Math.Min(smallest, seconds);
            largest = Math.Max(largest, seconds);
            widest = Math.Max(widest, sample.UncertaintyMilliseconds / 1000);
            min.Set(smallest);
            max.Set(largest);
            uncertainty.Set(widest);
        });
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var (name, value) in recorder.GetCounters())
                events.WithLabels(recorder.Instrument, name).IncTo(value);
        });
        return registry;
    }
}
