using ScottPlot;

namespace CatEvening.Samples.ViewerSim;

/// <summary>The two PNG plots, drawn with ScottPlot (SkiaSharp).</summary>
internal static class Plots
{
    internal static void Write(IReadOnlyList<ViewerResult> results, Broadcast show, string outDir)
    {
        var injected = show.InjectedAtMicros(Broadcast.PollFrame);
        var opened = results.Where(r => r.Opened).ToList();

        var opening = new Plot();
        var onTime = opened.Where(r => r.StartFrame <= Broadcast.PollFrame).ToList();
        var late = opened.Where(r => r.StartFrame > Broadcast.PollFrame).ToList();
        var a = opening.Add.ScatterPoints(onTime.Select(r => r.DelaySeconds).ToArray(), onTime.Select(r => r.OpenedAtProgramFrame / (double)Broadcast.FrameRate).ToArray());
        a.LegendText = $"watching at the target ({onTime.Count:N0})";
        a.MarkerSize = 4;
        var b = opening.Add.ScatterPoints(late.Select(r => r.DelaySeconds).ToArray(), late.Select(r => r.OpenedAtProgramFrame / (double)Broadcast.FrameRate).ToArray());
        b.LegendText = $"late joiners ({late.Count:N0})";
        b.MarkerSize = 4;
        opening.Title("Program time on screen when the poll opened, per viewer");
        opening.XLabel("stream delay of the viewer (s)");
        opening.YLabel("program time of the frame shown (s)");
        opening.ShowLegend(Alignment.UpperRight);
        opening.SavePng(Path.Combine(outDir, "opening.png"), 1000, 560);

        var requests = new Plot();
        var watching = opened.Where(r => r.StartFrame <= Broadcast.PollFrame).ToList();
        AddHistogram(requests, watching.Select(r => (r.OpenedAtTrueMicros - injected) / 1e6), "at opening, no shaving");
        AddHistogram(requests, watching.Select(r => (r.RequestAtTrueMicros - injected) / 1e6), "after the peak-shaving offset");
        requests.Title("Requests reaching the poll server per 100 ms");
        requests.XLabel("seconds after the poll frame left the injector");
        requests.YLabel("requests per 100 ms");
        requests.ShowLegend(Alignment.UpperRight);
        requests.SavePng(Path.Combine(outDir, "requests.png"), 1000, 560);
    }

    private static void AddHistogram(Plot plot, IEnumerable<double> seconds, string label)
    {
        var bins = seconds.Select(s => (int)Math.Floor(s * 10)).ToList();
        var counts = new double[bins.Max() + 2];
        foreach (var b in bins) counts[b]++;
        var line = plot.Add.ScatterLine(Enumerable.Range(0, counts.Length).Select(i => i / 10.0).ToArray(), counts);
        line.LegendText = label;
        line.LineWidth = 1.5f;
    }
}
