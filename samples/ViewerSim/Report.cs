using System.Globalization;
using System.Text;

namespace CatEvening.Samples.ViewerSim;

/// <summary>The printed tables (Markdown).</summary>
internal static class Report
{
    internal static string Build(IReadOnlyList<ViewerResult> results, Broadcast show, int seed, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"# ViewerSim: {results.Count:N0} viewers, seed {seed}\n\n");
        sb.Append(inv, $"Poll `{Broadcast.PollId}`: target program frame {Broadcast.PollFrame} (t = {Broadcast.PollFrame / (double)Broadcast.FrameRate:F2} s), ");
        sb.Append(inv, $"window {Broadcast.PollWindowTicks / 90000.0:F0} s, spread {Broadcast.PollSpreadMicros / 1e6:F0} s. ");
        sb.Append(inv, $"{show.MessageCounts.Sum()} signed messages in {Broadcast.Frames} frames. Simulated in {elapsed.TotalSeconds:F1} s.\n\n");

        sb.Append("## When each viewer opened the interaction (program time, i.e. which frame was on screen)\n\n");
        sb.Append("| path | viewers | stream delay (s) | on time: joined before the target | opened on the target frame | late joiners | opened late by (s, median / max) | joined after the window: never opened |\n");
        sb.Append("| --- | ---: | --- | ---: | ---: | ---: | --- | ---: |\n");
        foreach (var group in results.GroupBy(r => r.Path).OrderBy(g => g.Average(r => r.DelaySeconds)))
        {
            var g = group.ToList();
            var onTime = g.Where(r => r.StartFrame <= Broadcast.PollFrame).ToList();
            var late = g.Where(r => r.StartFrame > Broadcast.PollFrame && r.Opened).ToList();
            var never = g.Count(r => !r.Opened);
            var lateBy = late.Select(r => r.LateBySeconds).OrderBy(x => x).ToList();
            sb.Append(inv, $"| {group.Key} | {g.Count:N0} | {g.Min(r => r.DelaySeconds):F1}-{g.Max(r => r.DelaySeconds):F1} | {onTime.Count:N0} | ");
            sb.Append(inv, $"{onTime.Count(r => r.Opened && r.OpenedAtProgramFrame == Broadcast.PollFrame && r.LateBySeconds == 0):N0} | {late.Count:N0} | ");
            sb.Append(lateBy.Count > 0 ? string.Create(inv, $"{lateBy[lateBy.Count / 2]:F2} / {lateBy[^1]:F2}") : "-");
            sb.Append(inv, $" | {never:N0} |\n");
        }
        var all = results.Where(r => r.StartFrame <= Broadcast.PollFrame).ToList();
        var exact = all.Count(r => r.Opened && r.OpenedAtProgramFrame == Broadcast.PollFrame && r.LateBySeconds == 0);
        sb.Append(inv, $"\n**{exact:N0} of {all.Count:N0} viewers who were watching at the target opened the poll on exactly frame {Broadcast.PollFrame}**, ");
        var wall = all.Where(r => r.Opened).Select(r => (r.OpenedAtTrueMicros - show.InjectedAtMicros(Broadcast.PollFrame)) / 1e6).ToList();
        if (wall.Count > 0) sb.Append(inv, $"although their wall-clock opening times ranged over {wall.Min():F2}-{wall.Max():F2} s after injection (their stream delays). ");
        sb.Append("Late joiners open on their first frame, with the rest of the window.\n\n");

        sb.Append("## Clocks\n\n");
        var errors = results.Select(r => Math.Abs(r.ClockErrorMicros) / 1000.0).OrderBy(x => x).ToList();
        var wrongClock = results.Count(r => Math.Abs(r.ClockOffsetMicros) > 120_000_000);
        sb.Append("| viewers | phone clock off by > 2 min (max age) | ServerClock error after 16 exchanges: p50 / p95 / max (ms) | messages rejected |\n| ---: | ---: | --- | ---: |\n");
        sb.Append(inv, $"| {results.Count:N0} | {wrongClock:N0} | {Pct(errors, 0.5):F2} / {Pct(errors, 0.95):F2} / {errors[^1]:F2} | {results.Sum(r => r.Rejected):N0} |\n\n");
        sb.Append("Every verifier checks message age against ServerClock-corrected time, so phones whose clocks are minutes off still accept fresh messages.\n\n");

        sb.Append("## Requests to the poll server (viewers watching at the target)\n\n");
        var opened = results.Where(r => r.Opened && r.StartFrame <= Broadcast.PollFrame).ToList();
        sb.Append("| requests sent | busiest 100 ms | busiest second |\n| --- | ---: | ---: |\n");
        sb.Append(inv, $"| at opening (no shaving) | {Peak(opened.Select(r => r.OpenedAtTrueMicros), 100_000):N0} | {Peak(opened.Select(r => r.OpenedAtTrueMicros), 1_000_000):N0} |\n");
        sb.Append(inv, $"| after the peak-shaving offset (spread {Broadcast.PollSpreadMicros / 1e6:F0} s) | {Peak(opened.Select(r => r.RequestAtTrueMicros), 100_000):N0} | {Peak(opened.Select(r => r.RequestAtTrueMicros), 1_000_000):N0} |\n\n");
        var bins = new int[(int)(Broadcast.PollSpreadMicros / 100_000)];
        foreach (var r in opened) bins[(int)((r.RequestAtTrueMicros - r.OpenedAtTrueMicros) / 100_000)]++;
        var mean = bins.Average();
        var cv = Math.Sqrt(bins.Sum(x => (x - mean) * (x - mean)) / (bins.Length - 1)) / mean;
        var perSecond = Enumerable.Range(0, bins.Length / 10).Select(s => bins.Skip(s * 10).Take(10).Sum()).ToList();
        sb.Append(inv, $"Peak-shaving offsets (request time minus opening time) per second of the spread: {string.Join(", ", perSecond.Select(c => c.ToString("N0", inv)))}; ");
        sb.Append(inv, $"per 100 ms: min {bins.Min():N0}, max {bins.Max():N0}, mean {mean:F1}, coefficient of variation {cv:F3} ");
        sb.Append(inv, $"(a perfectly random uniform spread gives {1 / Math.Sqrt(mean):F3}).\n");
        return sb.ToString();
    }

    private static int Peak(IEnumerable<long> times, long binMicros) => times.GroupBy(t => t / binMicros).Max(g => g.Count());

    private static double Pct(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
