using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// An owner's Writeback or Evict that throws, at each callback in turn, never breaks the arena: the allocation
/// that triggered it returns a block or null with a status, the arena validates, and every page is accounted for
/// (free + parked + cached + the host's own blocks = total), so freeing what the host holds frees everything.
/// </summary>
public unsafe class CallbackFaultTests
{
    private const int Pages = 256;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_owner_callback_that_throws_leaves_the_arena_valid_and_loses_no_page(bool perCpuLists)
    {
        int n = 0;
        while (true)
        {
            var owner = new FaultyOwner(++n);
            RunUnderPressure(owner, perCpuLists);
            if (!owner.Fired)
                break;
            Assert.True(n < 2000, "the scenario never ran out of callbacks");
        }
        Assert.True(n > 20, $"only {n - 1} callbacks ran: the scenario does not reach reclaim");
    }

    [Fact]
    public void A_throwing_writeback_keeps_the_page_cached()
    {
        var owner = new FaultyOwner(1);
        using BuddyArena arena = NewArena(perCpuLists: false);
        var cached = new List<nint>();
        for (int i = 0; i < Pages * 3 / 4; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.Atomic);
            arena.CacheAdd(p, owner, dirty: true); // all dirty: the first callback can only be a Writeback
            cached.Add((nint)p);
        }
        var held = new List<nint>();
        while (!owner.Fired)
        {
            void* p = arena.AllocPages(0, AllocFlags.Kernel);
            Assert.True(p != null || owner.Fired, "the arena ran out without laundering");
            if (p != null)
                held.Add((nint)p);
        }

        arena.Validate();
        Assert.Contains(owner.FailedPage, cached);
        Assert.False(owner.Evicted.ContainsKey(owner.FailedPage));
        Assert.True(arena.CacheRemove((void*)owner.FailedPage), "a page whose Writeback threw is still the host's");
        arena.FreePages((void*)owner.FailedPage, 0);
    }

    private static BuddyArena NewArena(bool perCpuLists) => new(new ArenaOptions
    {
        ArenaBytes = Pages * 4096,
        BackgroundReclaim = false,
        AllocWaitTimeout = TimeSpan.Zero,
        PerCpuPages = perCpuLists ? 64 : 0,
    });

    /// <summary>Half the arena cached (every other page dirty), then order-0 and order-2 allocations until they fail.</summary>
    private static void RunUnderPressure(FaultyOwner owner, bool perCpuLists)
    {
        using BuddyArena arena = NewArena(perCpuLists);
        var cached = new List<nint>();
        var held = new List<(nint Block, int Order)>();
        for (int i = 0; i < Pages / 2; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.Atomic);
            Assert.True(p != null);
            arena.CacheAdd(p, owner, dirty: i % 2 == 0);
            cached.Add((nint)p);
        }
        for (int i = 0; i < Pages * 2; i++)
        {
            int order = i % 3 == 0 ? 2 : 0;
            void* p = arena.AllocPages(order, AllocFlags.Kernel);
            if (p == null)
            {
                Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
                break;
            }
            held.Add(((nint)p, order));
        }

        arena.Validate();
        AssertAccounted(arena, owner, cached, held);
        foreach (nint p in cached)
        {
            if (!owner.Evicted.ContainsKey(p))
            {
                Assert.True(arena.CacheRemove((void*)p));
                arena.FreePages((void*)p, 0);
            }
            else
            {
                Assert.Equal(1, owner.Evicted[p]);
            }
        }
        foreach ((nint p, int order) in held)
            arena.FreePages((void*)p, order);
        AssertAllFree(arena);
    }

    private static void AssertAccounted(BuddyArena arena, FaultyOwner owner, List<nint> cached, List<(nint Block, int Order)> held)
    {
        ArenaStats s = arena.GetStats();
        long stillCached = cached.Count(p => !owner.Evicted.ContainsKey(p));
        long hostBlocks = held.Sum(h => 1L << h.Order);
        Assert.Equal(stillCached, s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages);
        Assert.Equal(s.TotalPages, s.FreePages + s.PerCpuPages + stillCached + hostBlocks);
    }

    internal static void AssertAllFree(BuddyArena arena)
    {
        arena.Validate(); // drains the per-CPU lists, so FreePages is exact
        ArenaStats s = arena.GetStats();
        Assert.Equal(s.TotalPages, s.FreePages);
    }
}
