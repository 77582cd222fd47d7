using BenchmarkDotNet.Running;

namespace FastBuddy.Benchmarks;

// Everything:      dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*'
// CI smoke run:    dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*' --job Dry
// Quicker numbers: dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*' --job Short
public static class Program
{
    public static void Main(string[] args)
        => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
