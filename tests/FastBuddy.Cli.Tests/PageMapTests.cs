namespace FastBuddy.Cli.Tests;

/// <summary>BuddyArena.GetPageMap: every page's state and block order, agreeing with GetStats.</summary>
public sealed unsafe class PageMapTests
{
    private sealed class KeepEverything : IPageOwner
    {
        public bool Writeback(void* page) => true;

        public void Evict(void* page)
        {
        }
    }

    private static BuddyArena Arena(int perCpuPages = 64) => new(new ArenaOptions
    {
        ArenaBytes = 4 << 20, // 1024 pages, one zone
        BackgroundReclaim = false,
        PerCpuPages = perCpuPages,
    });

    [Fact]
    public void FreshArena_IsFreeInLargestBlocks()
    {
        using BuddyArena arena = Arena();

        ZonePageMap zone = arena.GetPageMap().Zones.Single();

        Assert.Equal(1024, zone.Pages);
        Assert.All(zone.States.ToArray(), s => Assert.Equal(PageState.Free, s));
        Assert.All(zone.BlockOrders.ToArray(), o => Assert.Equal(10, o));
        Assert.Equal(1, zone.FreeBlocks(10));
        arena.Validate();
    }

    [Fact]
    public void AllocatedBlock_CoversItsPages_WithItsOrder()
    {
        using BuddyArena arena = Arena(perCpuPages: 0);
        byte* block = (byte*)arena.AllocPages(3);

        PageMap map = arena.GetPageMap();
        ZonePageMap zone = map.Zones.Single();

        Assert.Equal(8, zone.States.ToArray().Count(s => s == PageState.Allocated));
        Assert.Equal(3, zone.BlockOrders[0]);
        Assert.Equal(PageState.Allocated, zone.States[7]);
        Assert.Equal(PageState.Free, zone.States[8]);
        arena.FreePages(block, 3);
        arena.Validate();
    }

    [Fact]
    public void CachedPage_IsShownOnItsList_AndAParkedPageAsPerThread()
    {
        using BuddyArena arena = Arena();
        void* cached = arena.AllocPages(0);
        void* parked = arena.AllocPages(0);
        arena.CacheAdd(cached, new KeepEverything());
        arena.FreePages(parked, 0); // lands in this thread's per-CPU list

        ZonePageMap zone = arena.GetPageMap().Zones.Single();

        Assert.Equal(1, zone.States.ToArray().Count(s => s == PageState.Active));
        Assert.True(zone.States.ToArray().Count(s => s == PageState.PerThread) >= 1);
        Assert.True(arena.CacheRemove(cached));
        arena.FreePages(cached, 0);
        arena.Validate();
    }

    [Fact]
    public void FreeBlocksOfTheMap_EqualTheBuddyInfoOfGetStats()
    {
        using BuddyArena arena = Arena();
        var rng = new Random(9);
        var held = new List<(nint, int)>();
        for (int i = 0; i < 400; i++)
        {
            int order = rng.Next(4);
            void* p = arena.AllocPages(order, AllocFlags.Atomic);
            if (p != null)
                held.Add(((nint)p, order));
            if (held.Count > 0 && rng.Next(3) == 0)
            {
                int k = rng.Next(held.Count);
                arena.FreePages((void*)held[k].Item1, held[k].Item2);
                held.RemoveAt(k);
            }
        }

        ZonePageMap zone = arena.GetPageMap().Zones.Single();
        ZoneStats stats = arena.GetStats().Zones.Single();

        for (int order = 0; order < arena.MaxOrder; order++)
            Assert.Equal(stats.FreeBlocks[order], zone.FreeBlocks(order));
        Assert.Equal(stats.FreePages, zone.States.ToArray().Count(s => s == PageState.Free));
        Assert.Equal(stats.PerCpuPages, zone.States.ToArray().Count(s => s == PageState.PerThread));
        foreach ((nint p, int order) in held)
            arena.FreePages((void*)p, order);
        arena.Validate();
    }
}
