using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.OsMemory;

/// <summary>
/// The decommit step against allocating threads: madvise runs under the zone lock on blocks that are still free,
/// so no thread's block ever loses its contents, however the two interleave.
/// </summary>
public sealed unsafe class DecommitRaceTests
{
    private const int Wanted = 100;

    [Fact]
    public void ThreadsAllocatingAndFreeing_WhileBalanceDecommits_NeverLoseTheirData()
    {
        ArenaOptions options = Options(); // no per-CPU lists: every free reaches the free areas the step scans
        options.ArenaBytes = 16 << 20;
        options.DecommitAfter = TimeSpan.Zero;
        options.DecommitMinOrder = 0;
        using var arena = new BuddyArena(options);
        int workers = 3;
        int stop = 0;

        // The decommitting thread runs passes until they have given back blocks the workers freed a good number
        // of times (or a generous deadline passes), while the workers churn until it is done.
        Concurrently.Run(workers + 1, id =>
        {
            if (id == workers)
            {
                DateTime deadline = DateTime.UtcNow.AddSeconds(60);
                while (arena.GetStats().Decommits < Wanted && DateTime.UtcNow < deadline)
                    arena.Balance();
                Volatile.Write(ref stop, 1);
                return;
            }
            var random = new Random(id);
            for (int round = 0; Volatile.Read(ref stop) == 0; round++)
            {
                int order = random.Next(7);
                void* p = arena.AllocPages(order, Mechanism);
                if (p == null)
                    continue;
                ulong seed = Patterns.Seed(id, round);
                nuint bytes = arena.BlockBytes(order);
                Patterns.Fill(p, bytes, seed);
                Thread.Yield();
                Patterns.AssertIntact(p, bytes, seed);
                arena.FreePages(p, order);
            }
        });

        ArenaStats stats = arena.GetStats();
        Assert.True(stats.Decommits >= Wanted, $"only {stats.Decommits} decommits raced with the workers");
        Assert.Equal(stats.TotalPages * 4096L, stats.CommittedBytes + stats.DecommittedBytes);
        arena.Validate();
    }
}
