using System.Diagnostics;
using System.Globalization;
using System.Text;
using CatEvening.SeiReader.Security;
using CatEvening.Samples.ViewerSim;

// ViewerSim: thousands of simulated viewers with different stream delays, clocks, PTS rebasing and join times receive
// the same signed cues; shows that all open the interaction at the same program moment and how evenly their requests
// spread. Usage: ViewerSim [--viewers N] [--seed S] [--out DIR]
var viewers = 10_000;
var seed = 2026;
var outDir = "artifacts/viewersim";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--viewers" when i + 1 < args.Length: viewers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--seed" when i + 1 < args.Length: seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'. Usage: ViewerSim [--viewers N] [--seed S] [--out DIR]");
            return 2;
    }
}
if (viewers < 1)
{
    Console.Error.WriteLine("--viewers must be at least 1");
    return 2;
}

var watch = Stopwatch.StartNew();
using var key = SigningKey.Generate(1);
var keys = new KeyRing(key.PublicKey);
var start = new DateTimeOffset(2026, 11, 28, 20, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
var show = Broadcast.Make(key, start, seed);
var results = new ViewerResult[viewers];
Parallel.For(0, viewers, v => results[v] = Viewer.Run(v, show, keys, seed));
var elapsed = watch.Elapsed;

Directory.CreateDirectory(outDir);
var report = Report.Build(results, show, seed, elapsed);
Console.Write(report);
File.WriteAllText(Path.Combine(outDir, "report.md"), report, new UTF8Encoding(false));
Plots.Write(results, show, outDir);
Console.WriteLine($"wrote {Path.Combine(outDir, "report.md")}, {Path.Combine(outDir, "opening.png")}, {Path.Combine(outDir, "requests.png")}");
var wrongOpen = results.Count(r => r.Opened && r.StartFrame <= Broadcast.PollFrame && r.OpenedAtProgramFrame != Broadcast.PollFrame);
return wrongOpen == 0 ? 0 : 1;
