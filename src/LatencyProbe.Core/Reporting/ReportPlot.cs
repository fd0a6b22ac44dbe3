using ScottPlot;

namespace CatEvening.LatencyProbe.Reporting;

/// <summary>Draws a report as a PNG: latency over time on top, the histogram of latencies below.</summary>
public static class ReportPlot
{
    /// <summary>Renders the plot to a PNG file of the given size in pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Width or height is below 200 pixels.</exception>
    public static void SavePng(LatencyReport report, string path, int width = 1200, int height = 900)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 200);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 200);

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var timeline = multiplot.GetPlot(0);
        var histogram = multiplot.GetPlot(1);

        var s = report.Summary;
        var title = s.Count == 0
            ? $"{report.Instrument}: no samples"
            : $"{report.Instrument}: n={s.Count}  p50={s.P50Milliseconds:0.0} ms  p95={s.P95Milliseconds:0.0} ms  p99={s.P99Milliseconds:0.0} ms  ±{s.UncertaintyMilliseconds:0.0} ms";
        timeline.Title(title);
        timeline.XLabel("seconds since start");
        timeline.YLabel("latency (ms)");
        histogram.XLabel("latency (ms)");
        histogram.YLabel("samples");

        if (s.Count > 0)
        {
            var xs = new double[report.Samples.Count];
            var ys = new double[report.Samples.Count];
            var errors = new double[report.Samples.Count];
            var start = UnixTime.FromDateTimeOffset(report.StartedUtc);
            for (var i = 0; i < xs.Length; i++)
            {
                xs[i] = (report.Samples[i].TimestampUnixMicroseconds - start) / 1e6;
                ys[i] = report.Samples[i].LatencyMilliseconds;
                errors[i] = report.Samples[i].UncertaintyMilliseconds;
            }
            var errorBars = timeline.Add.ErrorBar(xs, ys, errors);
            errorBars.Color = Colors.Gray.WithAlpha(0.5);
            var scatter = timeline.Add.ScatterPoints(xs, ys);
            scatter.MarkerSize = 4;
            var median = timeline.Add.HorizontalLine(s.P50Milliseconds);
            median.LinePattern = LinePattern.Dashed;
            median.LegendText = "p50";

            var span = s.MaxMilliseconds - s.MinMilliseconds;
            var binCount = Math.Clamp((int)Math.Ceiling(Math.Sqrt(s.Count)), 1, 60);
            var lo = span > 0 ? s.MinMilliseconds : s.MinMilliseconds - 0.5;
            var hi = span > 0 ? s.MaxMilliseconds + (span * 1e-9) : s.MaxMilliseconds + 0.5;
            var hist = ScottPlot.Statistics.Histogram.WithBinCount(binCount, lo, hi);
            hist.AddRange(ys);
            histogram.Add.Histogram(hist);
            histogram.Axes.Margins(bottom: 0);
            var pad = (hi - lo) * 0.02;
            histogram.Axes.SetLimitsX(lo - pad, hi + pad);
        }

        multiplot.SavePng(path, width, height);
    }
}
