using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>GetStats: totals, counters and per-zone free blocks that agree with each other and with what happened.</summary>
public sealed unsafe class StatsTests
{
    [Fact]
    public void FreshArena_HasEveryPageFree_AndTotalsThatMatchItsZones()
    {
        using BuddyArena arena = Zoned(4096, 6, 40, 64, 33);

        ArenaStats stats = arena.GetStats();

        Assert.Equal(137, stats.TotalPages);
        Assert.Equal(137, stats.FreePages);
        Assert.Equal(stats.TotalPages, stats.Zones.Sum(z => z.Pages));
        Assert.All(stats.Zones, z => Assert.Equal(z.Pages, z.FreePages));
        Assert.Equal(0, stats.Allocations);
        Assert.Equal(0, stats.Frees);
        Assert.Equal(0, stats.Failures);
        Assert.Equal(0, stats.PerCpuPages);
        arena.Validate();
    }

    [Fact]
    public void Stats_CountAllocationsFreesAndFailures()
    {
        using BuddyArena arena = SingleZone(16, maxOrder: 5);
        var blocks = new List<nint>();
        for (int i = 0; i < 5; i++)
            blocks.Add((nint)arena.AllocPages(1, Mechanism));
        arena.FreePages((void*)blocks[0], 1);
        arena.FreePages((void*)blocks[1], 1);
        Assert.True(arena.AllocPages(4, Mechanism) == null);
        Assert.True(arena.AllocPages(3, Mechanism) == null);

        ArenaStats stats = arena.GetStats();

        Assert.Equal(5, stats.Allocations);
        Assert.Equal(2, stats.Frees);
        Assert.Equal(2, stats.Failures);
        Assert.Equal(16 - 3 * 2, stats.FreePages);
        arena.Validate();
    }

    [Fact]
    public void FreeBlocksTimesTheirSizes_AddUpToEachZonesFreePages()
    {
        using BuddyArena arena = Zoned(4096, 7, 100, 200 + 9);
        var random = new Random(3);
        var live = new List<(nint P, int Order)>();
        for (int i = 0; i < 300; i++)
        {
            if (live.Count > 0 && random.Next(2) == 0)
            {
                int victim = random.Next(live.Count);
                arena.FreePages((void*)live[victim].P, live[victim].Order);
                live.RemoveAt(victim);
            }
            else
            {
                int order = random.Next(7);
                void* p = arena.AllocPages(order, Mechanism);
                if (p != null)
                    live.Add(((nint)p, order));
            }
        }

        ArenaStats stats = arena.GetStats();

        foreach (ZoneStats z in stats.Zones)
        {
            Assert.Equal(arena.MaxOrder, z.FreeBlocks.Count);
            Assert.Equal(z.FreePages, z.FreeBlocks.Select((count, order) => count << order).Sum());
        }
        Assert.Equal(stats.FreePages, stats.Zones.Sum(z => z.FreePages));
        Assert.Equal(stats.TotalPages - live.Sum(b => 1L << b.Order), stats.FreePages);
        BuddyModel.AssertArenaState(arena, live);
        arena.Validate();
    }

    [Fact]
    public void Stats_ReportEachZonesWatermarks()
    {
        ArenaOptions options = Options();
        options.Zones.Add(new ZoneOptions("DMA", 100 * 4096) { PagesMin = 2, PagesLow = 3, PagesHigh = 4 });
        options.Zones.Add(new ZoneOptions("Normal", 200 * 4096) { PagesMin = 5 });
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();

        Assert.Equal([2L, 3L, 4L], new[] { stats.Zones[0].PagesMin, stats.Zones[0].PagesLow, stats.Zones[0].PagesHigh });
        Assert.Equal([5L, 10L, 15L], new[] { stats.Zones[1].PagesMin, stats.Zones[1].PagesLow, stats.Zones[1].PagesHigh });
        arena.Validate();
    }

    [Fact]
    public void FreepagesMinLowHigh_AreTheSumsOverZones()
    {
        ArenaOptions options = Options();
        options.Zones.Add(new ZoneOptions("DMA", 100 * 4096) { PagesMin = 2, PagesLow = 3, PagesHigh = 4 });
        options.Zones.Add(new ZoneOptions("Normal", 200 * 4096) { PagesMin = 5 });
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();

        Assert.Equal(7, stats.FreePagesMin);
        Assert.Equal(13, stats.FreePagesLow);
        Assert.Equal(19, stats.FreePagesHigh);
        arena.Validate();
    }

    [Fact]
    public void ParkedBlocks_AreCountedInPerCpuPages_NeverInFreePages()
    {
        using BuddyArena arena = SingleZone(4096, maxOrder: 11, perCpuLists: true);
        var blocks = new List<nint>();
        for (int i = 0; i < 8; i++)
            blocks.Add((nint)arena.AllocPages(0, Mechanism));
        foreach (nint p in blocks)
            arena.FreePages((void*)p, 0);

        ArenaStats stats = arena.GetStats();

        Assert.True(stats.PerCpuPages > 0, "freed single pages should be parked in this thread's per-CPU list");
        Assert.Equal(stats.TotalPages, stats.FreePages + stats.PerCpuPages);
        Assert.Equal(stats.FreePages, stats.Zones.Sum(z => z.FreePages));
        Assert.Equal(stats.FreePages, stats.Zones[0].FreeBlocks.Select((count, order) => count << order).Sum());
        arena.Validate(); // drains the lists
        ArenaStats drained = arena.GetStats();
        Assert.Equal(0, drained.PerCpuPages);
        Assert.Equal(drained.TotalPages, drained.FreePages);
        Assert.Equal(ZoneProbe.Counts(11, (10, 4)), drained.Zones[0].FreeBlocks);
    }
}
