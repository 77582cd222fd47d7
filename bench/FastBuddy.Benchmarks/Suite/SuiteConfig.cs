using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using FastBuddy.Benchmarks.Peers;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// The suite's config (<see cref="AllocatorSuite"/>, <see cref="SmallObjectSuite"/>): drops the benchmarks of native
/// peers that cannot be loaded in this process (so a machine without them runs everything else), after printing
/// "peer X missing: skipped (reason)"; groups the table by category alone (<see cref="CategoryOrderer"/>), with a
/// categories column and the memory diagnoser.
/// </summary>
public sealed class SuiteConfig : ManualConfig
{
    private static int s_reported;

    public SuiteConfig()
    {
        if (Interlocked.Exchange(ref s_reported, 1) == 0)
        {
            foreach (var (name, reason) in NativePeers.Missing)
                Console.WriteLine($"// peer {name} missing: skipped ({reason})");
        }
        AddFilter(new SimpleFilter(b => IsRunnable(b.Descriptor.WorkloadMethod.Name)));
        WithOrderer(new CategoryOrderer());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
        AddColumn(CategoriesColumn.Default);
        AddDiagnoser(MemoryDiagnoser.Default);
    }

    /// <summary>False for a peer's benchmark (method named "Peer_Case", e.g. "Jemalloc_4KiB") when that peer is missing.</summary>
    public static bool IsRunnable(string method)
    {
        int sep = method.IndexOf('_');
        if (sep <= 0)
            return true;
        string prefix = method[..sep].ToLowerInvariant();
        foreach (var k in NativePeer.Known)
        {
            if (k.Name == prefix)
                return NativePeers.Find(prefix) is not null;
        }
        return true;
    }
}
