using System.Diagnostics;
using BenchmarkDotNet.Running;
using FastBuddy.Benchmarks.Facts;

namespace FastBuddy.Benchmarks;

// Everything:      dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*'
// The suite:       dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*Suite*'
// CI smoke run:    dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*' --job Dry
// Quicker numbers: dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*' --job Short
// Facts (metadata, arena creation time, fragmentation; not timed by BenchmarkDotNet):
//                  dotnet run -c Release --project bench/FastBuddy.Benchmarks -- facts [--arena-mib 1024] [--out FILE]
// The whole suite with peers, facts, the C benchmark and the chart: bench/run-suite.sh (see docs/benchmarks.md).
public static class Program
{
    /// <summary>
    /// Debian's libjemalloc.so.2 uses initial-exec TLS (2.6 KiB), more than the surplus glibc keeps for dlopen
    /// (512 bytes by default): without this tunable, set before the process starts, dlopen fails with "cannot
    /// allocate memory in static TLS block".
    /// </summary>
    public const string StaticTlsTunable = "glibc.rtld.optional_static_tls=16384";

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "facts")
            return FactsRunner.Run(args[1..]);
        if (NeedsStaticTls())
            return RestartWithStaticTls(args);
        return RunHere(args);
    }

    private static bool NeedsStaticTls()
        => OperatingSystem.IsLinux()
           && Environment.GetEnvironmentVariable("FASTBUDDY_BENCH_NO_RESTART") is null
           && !(Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "").Contains("glibc.rtld.optional_static_tls", StringComparison.Ordinal);

    /// <summary>Runs this program again with the tunable (BenchmarkDotNet's child processes inherit it).</summary>
    private static int RestartWithStaticTls(string[] args)
    {
        string? self = Environment.ProcessPath;
        if (self is null)
            return RunHere(args);
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (string a in args)
            start.ArgumentList.Add(a);
        string? tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES");
        start.Environment["GLIBC_TUNABLES"] = string.IsNullOrEmpty(tunables) ? StaticTlsTunable : tunables + ":" + StaticTlsTunable;
        start.Environment["FASTBUDDY_BENCH_NO_RESTART"] = "1";
        using Process? child = Process.Start(start);
        if (child is null)
            return RunHere(args);
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>Runs BenchmarkDotNet; exit code 1 when a benchmark failed or a validation error stopped a run.</summary>
    private static int RunHere(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
        bool listOnly = args.Any(a => a is "--list" or "--help" or "-h" or "--info" or "--version");
        if (listOnly)
            return 0;
        bool failed = summaries.Count == 0
                      || summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Length == 0 || s.Reports.Any(r => !r.Success));
        if (failed)
            Console.Error.WriteLine("// FastBuddy.Benchmarks: a benchmark failed, a validation error stopped a run, or nothing matched the filter");
        return failed ? 1 : 0;
    }
}
