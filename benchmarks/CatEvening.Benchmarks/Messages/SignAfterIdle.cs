using System.Diagnostics;
using System.Security.Cryptography;
using CatEvening.SeiReader.Security;

namespace CatEvening.Benchmarks.Messages;

/// <summary>
/// Not a BenchmarkDotNet benchmark: what one signature costs on the injector's pipeline thread, which sleeps in
/// <c>poll()</c> between packets. BenchmarkDotNet measures the hot loop (the code and the P-256 tables in cache); a
/// heartbeat or a cue is signed once in a while, right after the thread woke for its packet. Each operation is timed
/// (a) hot, back to back, and (b) as the first thing after a sleep of a packet interval, side by side with an empty
/// operation and a SHA-256 of the same bytes. Run: <c>dotnet run -c Release --project benchmarks/CatEvening.Benchmarks -- sign-after-idle</c>.
/// </summary>
internal static class SignAfterIdle
{
    public static void Run(TextWriter output)
    {
        using var key = SigningKey.Generate(1);
        // The injector's configuration (sei-inject run): nonces computed ahead on a background thread. The capacity is
        // over twice what the whole run takes, so the pool never falls to half and the filler never runs during a
        // series: the timings are the online half only. Misses (the slow path) are printed.
        using var presigning = SigningKey.Generate(2);
        var fillStart = Stopwatch.GetTimestamp();
        presigning.PrecomputeNonces(8192);
        var pool = presigning.Nonces!;
        SpinWait.SpinUntil(() => pool.Ready == pool.Capacity, TimeSpan.FromSeconds(120));
        var fill = Stopwatch.GetElapsedTime(fillStart);
        var data = new byte[150];
        new Random(150).NextBytes(data);
        var signature = new byte[64];
        var hash = new byte[32];
        (string Name, Action Op)[] ops =
        [
            ("empty operation", () => { }),
            ("SHA-256 of 150 bytes", () => SHA256.HashData(data, hash)),
            ("SigningKey.Sign, 150 bytes (ECDSA P-256)", () => key.Sign(data, signature)),
            ("SigningKey.Sign with PrecomputeNonces, 150 bytes", () => presigning.Sign(data, signature)),
        ];
        foreach (var (_, op) in ops) for (var i = 0; i < 500; i++) op();
        output.WriteLine("| operation | hot p50 (µs) | hot p99 (µs) | after 12 ms asleep p50 (µs) | p90 (µs) | after 50 ms asleep p50 (µs) | p90 (µs) |");
        output.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (name, op) in ops)
        {
            var hot = Time(op, 2000, TimeSpan.Zero);
            var short12 = Time(op, 200, TimeSpan.FromMilliseconds(12));
            var long50 = Time(op, 100, TimeSpan.FromMilliseconds(50));
            output.WriteLine($"| {name} | {At(hot, 0.5):F1} | {At(hot, 0.99):F1} | {At(short12, 0.5):F1} | {At(short12, 0.9):F1} | {At(long50, 0.5):F1} | {At(long50, 0.9):F1} |");
        }
        output.WriteLine($"(precomputing: {fill.TotalMicroseconds / pool.Capacity:F1} µs per nonce on the filler thread, {pool.Capacity} filled in {fill.TotalMilliseconds:F0} ms)");
        output.WriteLine($"(precomputed nonces: {pool.Taken} signatures from the pool, {pool.Missed} signed the usual way because it was empty)");
    }

    private static double[] Time(Action op, int count, TimeSpan sleep)
    {
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            if (sleep > TimeSpan.Zero) Thread.Sleep(sleep);
            var start = Stopwatch.GetTimestamp();
            op();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(samples);
        return samples;
    }

    private static double At(double[] sorted, double rank) => sorted[Math.Min(sorted.Length - 1, (int)(rank * sorted.Length))];
}
