using FastBuddy.Tests.TestSupport;
using Xunit.Abstractions;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.OsMemory;

/// <summary>
/// The point of decommit: after a burst the process's resident size (/proc/self/statm) falls again. Runs alone, so
/// that no other test's memory moves the figure.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed unsafe class ResidentSizeTests(ITestOutputHelper output)
{
    private const long Burst = 64 << 20;

    [Fact]
    public void ResidentSize_FallsByMostOfABurst_AfterItIsFreedAndDecommitted()
    {
        ArenaOptions options = Options(perCpuLists: true); // the usual configuration: some pages stay parked
        options.ArenaBytes = 128 << 20;
        options.DecommitAfter = TimeSpan.Zero;
        using var arena = new BuddyArena(options);
        long before = ProcessMemory.ResidentBytes();

        var pages = new nint[Burst / 4096];
        for (int i = 0; i < pages.Length; i++)
        {
            byte* p = (byte*)arena.AllocPages(0, Mechanism);
            Assert.True(p != null);
            p[0] = 1; // one write faults the page in
            pages[i] = (nint)p;
        }
        long touched = ProcessMemory.ResidentBytes();
        foreach (nint p in pages)
            arena.FreePages((void*)p, 0);
        long freed = ProcessMemory.ResidentBytes();
        arena.Balance();
        long after = ProcessMemory.ResidentBytes();

        ArenaStats stats = arena.GetStats();
        output.WriteLine($"resident size: {before >> 20} MiB before, {touched >> 20} MiB with 64 MiB of pages touched, " +
            $"{freed >> 20} MiB after freeing them, {after >> 20} MiB after Balance() decommitted them " +
            $"(committed {stats.CommittedBytes >> 20} MiB, decommitted {stats.DecommittedBytes >> 20} MiB)");
        Assert.True(touched - before >= Burst * 9 / 10, $"the burst made only {(touched - before) >> 20} MiB resident");
        Assert.True(freed >= touched - Burst / 10, "freeing alone gives nothing back: the pages stay in the free areas");
        Assert.True(touched - after >= Burst * 3 / 4, $"resident size fell by only {(touched - after) >> 20} MiB");
        Assert.True(stats.DecommittedBytes >= Burst * 3 / 4 + (64 << 20));
        arena.Validate();
    }
}
