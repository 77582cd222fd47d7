using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;

namespace FastBuddy.Benchmarks;

/// <summary>
/// The fast path's machine code: one order-0 AllocPages + FreePages pair, disassembled by BenchmarkDotNet
/// (Tier-1 code, two levels of calls), so that docs/benchmarks.md can show and count the instructions of a pair.
/// Run: dotnet run -c Release --project bench/FastBuddy.Benchmarks -- --filter '*FastPathDisassembly*'
/// </summary>
[DisassemblyDiagnoser(maxDepth: 2, printSource: false, exportGithubMarkdown: true)]
[SimpleJob(RuntimeMoniker.HostProcess, launchCount: 1, warmupCount: 3, iterationCount: 5)]
public unsafe class FastPathDisassembly
{
    private BuddyArena _arena = null!;

    [GlobalSetup]
    public void Setup() => _arena = new BuddyArena(new ArenaOptions { ArenaBytes = 64u << 20, BackgroundReclaim = false });

    [GlobalCleanup]
    public void Cleanup() => _arena.Dispose();

    [Benchmark]
    public void OrderZeroPair() => _arena.FreePages(_arena.AllocPages(0, AllocFlags.Atomic), 0);
}
