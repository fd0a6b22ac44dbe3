using System.Globalization;
using Microsoft.AspNetCore.Http;
using System.Text;

namespace CatEvening.SeiInjector.Live;

/// <summary>
/// Serves the run's live metrics in the Prometheus text exposition format (version 0.0.4) at <c>GET /metrics</c>:
/// frames, packets, bytes, SEI carriers, cues by state, link states and reconnects, and the added-latency histogram.
/// Written by hand: a handful of lines, no reflection, Native AOT safe. No token: bind it to loopback (the default)
/// or a monitoring network.
/// </summary>
public sealed class MetricsServer : IDisposable
{
    private readonly HttpEndpoint _endpoint;
    private readonly Func<LiveStatus> _status;

    private MetricsServer(HttpEndpoint endpoint, Func<LiveStatus> status)
    {
        _endpoint = endpoint;
        _status = status;
    }

    /// <summary>The address metrics are served on, as <c>http://host:port/</c>.</summary>
    public Uri BaseAddress => _endpoint.BaseAddress;

    /// <summary>Starts serving on <paramref name="listen"/> (<c>HOST:PORT</c>).</summary>
    /// <exception cref="ArgumentException">The listen address is unusable.</exception>
    /// <exception cref="IOException">The port cannot be bound; the message names the address.</exception>
    public static MetricsServer Start(string listen, Func<LiveStatus> status)
    {
        var endpoint = HttpEndpoint.Parse(listen, "--metrics");
        var server = new MetricsServer(endpoint, status);
        endpoint.Start(server.Handle);
        return server;
    }

    /// <summary>The exposition text for one status.</summary>
    public static string Format(LiveStatus s)
    {
        var b = new StringBuilder(2048);
        Counter(b, "catevening_frames_total", "Video packets passed through the injector.", s.Frames);
        Counter(b, "catevening_packets_total", "Packets of every stream passed through the injector.", s.Packets);
        Counter(b, "catevening_packets_dropped_total", "Packets read but not written: the output was down, or before the keyframe it resumed at.", s.DroppedPackets);
        Counter(b, "catevening_bytes_written_total", "Bytes of packet data written, SEI included.", s.BytesWritten);
        Counter(b, "catevening_sei_frames_total", "Video packets that carried a CatEvening SEI NAL.", s.SeiFrames);
        Counter(b, "catevening_timestamp_discontinuities_total", "Timestamp discontinuities bridged (the input jumped backwards, or far forwards).", s.Timestamps.Discontinuities);
        Counter(b, "catevening_timestamp_wraps_total", "Timestamp counter wraps unwrapped (33-bit MPEG-TS, 31/32-bit FLV).", s.Timestamps.Wraps);
        Counter(b, "catevening_timestamps_interpolated_total", "Packets with a missing or impossible timestamp filled in.", s.Timestamps.Interpolated);
        Counter(b, "catevening_packets_skipped_total", "Packets the muxer refused even with repaired timestamps (logged, skipped).", s.Timestamps.Skipped);
        Header(b, "catevening_cues", "gauge", "Cues by state: pending and active now; delivered, expired and cancelled since the start.");
        Sample(b, "catevening_cues", "state=\"pending\"", s.Cues.Pending);
        Sample(b, "catevening_cues", "state=\"active\"", s.Cues.Active);
        Sample(b, "catevening_cues", "state=\"delivered\"", s.Cues.Delivered);
        Sample(b, "catevening_cues", "state=\"expired\"", s.Cues.Expired);
        Sample(b, "catevening_cues", "state=\"cancelled\"", s.Cues.Cancelled);
        Sample(b, "catevening_cues", "state=\"ended\"", s.Cues.Ended);
        Header(b, "catevening_link_up", "gauge", "1 while the link is connected.");
        Sample(b, "catevening_link_up", "side=\"input\"", s.Input == LinkState.Connected ? 1 : 0);
        Sample(b, "catevening_link_up", "side=\"output\"", s.Output == LinkState.Connected ? 1 : 0);
        Header(b, "catevening_reconnects_total", "counter", "Times a link dropped and reconnection began, counted at the drop.");
        Sample(b, "catevening_reconnects_total", "side=\"input\"", s.InputReconnects);
        Sample(b, "catevening_reconnects_total", "side=\"output\"", s.OutputReconnects);
        if (s.LastPtsTime is { } pts)
        {
            Header(b, "catevening_last_pts_seconds", "gauge", "PTS of the last video packet, in seconds.");
            Sample(b, "catevening_last_pts_seconds", null, pts);
        }
        const string h = "catevening_added_latency_seconds";
        Header(b, h, "histogram", "Time each packet spent in the injector, from read to write.");
        var bounds = AddedLatency.BucketBounds;
        for (var i = 0; i < bounds.Count; i++)
            Sample(b, h + "_bucket", $"le=\"{bounds[i].ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant()}\"", s.Latency.CumulativeBuckets[i]);
        Sample(b, h + "_bucket", "le=\"+Inf\"", s.Latency.CumulativeBuckets[bounds.Count]);
        Sample(b, h + "_sum", null, s.Latency.Sum.TotalSeconds);
        Sample(b, h + "_count", null, s.Latency.Count);
        return b.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => _endpoint.Dispose();

    private Task Handle(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (context.Request.Method != "GET" || path is not ("/metrics" or "/"))
            return HttpEndpoint.WriteError(context.Response, 404, "metrics are at GET /metrics");
        var text = Encoding.UTF8.GetBytes(Format(_status()));
        return HttpEndpoint.Write(context.Response, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    }

    private static void Counter(StringBuilder b, string name, string help, long value)
    {
        Header(b, name, "counter", help);
        Sample(b, name, null, value);
    }

    private static void Header(StringBuilder b, string name, string type, string help) =>
        b.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
         .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder b, string name, string? labels, double value)
    {
        b.Append(name);
        if (labels is not null) b.Append('{').Append(labels).Append('}');
        b.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
