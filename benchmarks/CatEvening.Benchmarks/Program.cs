using BenchmarkDotNet.Running;

namespace CatEvening.Benchmarks;

internal static class Program
{
    private static void Main(string[] args)
    {
        // Measurements BenchmarkDotNet's hot loop cannot make (see each type's summary).
        if (args is ["sign-after-idle"])
        {
            Messages.SignAfterIdle.Run(Console.Out);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
