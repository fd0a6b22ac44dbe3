using CatEvening.Http;
using Prometheus;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Serves the run's live metrics in the Prometheus text exposition format (version 0.0.4, written by prometheus-net)
/// at <c>GET /metrics</c> through <see cref="PrometheusEndpoint"/> (as <c>latency-probe</c> does): frames, packets,
/// bytes, SEI carriers, cues by state, link states and reconnects, and the added-latency histogram, and on a cue bus
/// the bus's own (<c>catevening_bus_*</c>, from <see cref="Bus.CueBusFollower.Metrics"/>). The counters and gauges are
/// set from one <see cref="LiveStatus"/> taken at each scrape; the histogram is the one <see cref="AddedLatency"/>
/// feeds packet by packet. No token: bind it to loopback (the default) or a monitoring network.
/// </summary>
public sealed class MetricsServer : IDisposable
{
    private readonly HttpEndpoint _endpoint;

    private MetricsServer(HttpEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>The address metrics are served on, as <c>http://host:port/</c>.</summary>
    public Uri BaseAddress => _endpoint.BaseAddress;

    /// <summary>Starts serving on <paramref name="listen"/> (<c>HOST:PORT</c>).</summary>
    /// <param name="listen">Address and port.</param>
    /// <param name="status">Called once per scrape.</param>
    /// <param name="latency">The run's added latency (its histogram is exported as it stands).</param>
    /// <param name="bus">The cue bus's metrics (<see cref="Bus.CueBusFollower.Metrics"/>), or null for a run without a bus.</param>
    /// <exception cref="ArgumentException">The listen address is unusable.</exception>
    /// <exception cref="IOException">The port cannot be bound; the message names the address.</exception>
    public static MetricsServer Start(string listen, Func<LiveStatus> status, AddedLatency latency, CollectorRegistry? bus = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(latency);
        var endpoint = HttpEndpoint.Parse(listen, "--metrics");
        endpoint.Start(bus is null
            ? PrometheusEndpoint.Handler(StatusMetrics(status), latency.Metrics)
            : PrometheusEndpoint.Handler(StatusMetrics(status), latency.Metrics, bus));
        return new MetricsServer(endpoint);
    }

    /// <inheritdoc/>
    public void Dispose() => _endpoint.Dispose();

    // The status's counters and gauges, names and labels as since the first release, set from `status()` before each
    // collection. Counters only move forward (IncTo), as the status's totals do.
    private static CollectorRegistry StatusMetrics(Func<LiveStatus> status)
    {
        var registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(registry);
        var frames = f.CreateCounter("catevening_frames_total", "Video packets passed through the injector.");
        var packets = f.CreateCounter("catevening_packets_total", "Packets of every stream passed through the injector.");
        var dropped = f.CreateCounter("catevening_packets_dropped_total", "Packets read but not written: the output was down, or before the keyframe it resumed at.");
        var bytes = f.CreateCounter("catevening_bytes_written_total", "Bytes of packet data written, SEI included.");
        var sei = f.CreateCounter("catevening_sei_frames_total", "Video packets that carried a CatEvening SEI NAL.");
        var discontinuities = f.CreateCounter("catevening_timestamp_discontinuities_total", "Timestamp discontinuities bridged (the input jumped backwards, or far forwards).");
        var wraps = f.CreateCounter("catevening_timestamp_wraps_total", "Timestamp counter wraps unwrapped (33-bit MPEG-TS, 31/32-bit FLV).");
        var interpolated = f.CreateCounter("catevening_timestamps_interpolated_total", "Packets with a missing or impossible timestamp filled in.");
        var skipped = f.CreateCounter("catevening_packets_skipped_total", "Packets the muxer refused even with repaired timestamps (logged, skipped).");
        var cues = f.CreateGauge("catevening_cues", "Cues by state: pending and active now; delivered, expired and cancelled since the start.", "state");
        var linkUp = f.CreateGauge("catevening_link_up", "1 while the link is connected.", "side");
        var reconnects = f.CreateCounter("catevening_reconnects_total", "Times a link dropped and reconnection began, counted at the drop.", "side");
        var lastPts = f.CreateGauge("catevening_last_pts_seconds", "PTS of the last video packet, in seconds.",
            new GaugeConfiguration { SuppressInitialValue = true });
        var slice = f.CreateGauge("catevening_scheduler_slice_seconds", "The pipeline thread's scheduler slice (Linux 6.12+), when the run sets or tunes it.",
            new GaugeConfiguration { SuppressInitialValue = true });
        registry.AddBeforeCollectCallback(() =>
        {
            var s = status();
            frames.IncTo(s.Frames);
            packets.IncTo(s.Packets);
            dropped.IncTo(s.DroppedPackets);
            bytes.IncTo(s.BytesWritten);
            sei.IncTo(s.SeiFrames);
            discontinuities.IncTo(s.Timestamps.Discontinuities);
            wraps.IncTo(s.Timestamps.Wraps);
            interpolated.IncTo(s.Timestamps.Interpolated);
            skipped.IncTo(s.Timestamps.Skipped);
            cues.WithLabels("pending").Set(s.Cues.Pending);
            cues.WithLabels("active").Set(s.Cues.Active);
            cues.WithLabels("delivered").Set(s.Cues.Delivered);
            cues.WithLabels("expired").Set(s.Cues.Expired);
            cues.WithLabels("cancelled").Set(s.Cues.Cancelled);
            cues.WithLabels("ended").Set(s.Cues.Ended);
            linkUp.WithLabels("input").Set(s.Input == LinkState.Connected ? 1 : 0);
            linkUp.WithLabels("output").Set(s.Output == LinkState.Connected ? 1 : 0);
            reconnects.WithLabels("input").IncTo(s.InputReconnects);
            reconnects.WithLabels("output").IncTo(s.OutputReconnects);
            if (s.LastPtsTime is { } pts) lastPts.Set(pts);
            if (s.SchedulerSlice is { } t) slice.Set(t.TotalSeconds);
        });
        return registry;
    }
}
