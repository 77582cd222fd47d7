using FastBuddy.Tests.PolicySupport;
using FastBuddy.Tests.TestSupport;
using ArenaState = FastBuddy.Tests.PolicySupport.ArenaState;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Empty slabs go back to the buddy system under memory pressure (2.4's <c>kmem_cache_reap</c> in
/// <c>do_try_to_free_pages</c>): a page allocation that needs their memory gets it, and no host cache page is
/// evicted while empty slabs (spare, or still owned by a thread) could be reaped instead.
/// </summary>
[Collection(SerialCollection.Name)]
public abstract unsafe class SlabReclaimTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void APageAllocationNeedingTheWholeZone_Succeeds_OnceEveryObjectIsFreed()
    {
        using BuddyArena arena = NewArena(pages: 512, maxOrder: 10); // the largest block is the whole zone
        int[] sizes = [24, 500, 5000, 32768];
        var objects = new List<nint>();
        for (int i = 0; ; i++)
        {
            void* p = arena.Alloc((nuint)sizes[i % sizes.Length], Mechanism);
            if (p == null)
                break;
            objects.Add((nint)p);
        }
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.True(arena.GetStats().SlabPages > 400, $"only {arena.GetStats().SlabPages} pages went to slabs");
        foreach (nint p in objects)
            arena.Free((void*)p);
        Assert.True(arena.GetStats().SlabPages > 0); // empty slabs kept (spares, or a thread's current ones)

        void* all = arena.AllocPages(9, Mechanism);

        Assert.True(all != null, $"the whole zone was refused ({BuddyArena.LastError})");
        ArenaStats s = arena.GetStats();
        Assert.Equal((0L, 0L), (s.SlabPages, s.FreePages));
        arena.FreePages(all, 9);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void NoCachePageIsEvicted_WhileEmptySlabsCanBeReaped_AndAllocationsTakeTheirPages()
    {
        using BuddyArena arena = PolicyArena.Create(pages: 1024, perCpuPages: Magazines ? 256 : 0);
        List<nint> empty = MakeEmptySlabs(arena, slabs: 2); // 2 slabs of 64 pages
        long slabPages = arena.GetStats().SlabPages;
        Assert.Equal(128, slabPages);
        var owner = new RecordingOwner();
        List<nint> cache = ArenaState.MakeCleanInactive(arena, owner, 44);
        List<nint> held = ArenaState.TakeFromZone(arena, PolicyArena.Min);

        var got = new List<nint>();
        for (int i = 0; i < 64; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.NoIo);
            Assert.True(p != null, $"allocation {i} failed ({BuddyArena.LastError})");
            got.Add((nint)p);
        }

        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(44, arena.GetStats().InactiveCleanPages);
        Assert.Equal(0, arena.GetStats().SlabPages); // both empty slabs were reaped
        foreach (nint p in cache)
            Assert.True(arena.CacheRemove((void*)p));
        foreach (nint p in got.Concat(held).Concat(cache))
            arena.FreePages((void*)p, 0);
        Assert.Equal(2, empty.Count);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void NoCachePageIsEvicted_WhileAnIdleLiveThreadOwnsEmptySlabs()
    {
        using BuddyArena arena = PolicyArena.Create(pages: 1024, perCpuPages: Magazines ? 256 : 0);
        using var emptied = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var idle = new Thread(() =>
        {
            MakeEmptySlabs(arena, slabs: 1); // its current slab, empty; the thread stays alive and idle
            emptied.Set();
            finish.Wait(TimeSpan.FromSeconds(20));
        });
        idle.Start();
        Assert.True(emptied.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(64, arena.GetStats().SlabPages);
        var owner = new RecordingOwner();
        List<nint> cache = ArenaState.MakeCleanInactive(arena, owner, 44);
        List<nint> held = ArenaState.TakeFromZone(arena, PolicyArena.Min);

        var got = new List<nint>();
        for (int i = 0; i < 40; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.NoIo);
            Assert.True(p != null, $"allocation {i} failed ({BuddyArena.LastError})");
            got.Add((nint)p);
        }

        finish.Set();
        idle.Join();
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(0, arena.GetStats().SlabPages);
        foreach (nint p in cache)
            Assert.True(arena.CacheRemove((void*)p));
        foreach (nint p in got.Concat(held).Concat(cache))
            arena.FreePages((void*)p, 0);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void KswapdsPass_UnderAFreeShortage_ReapsEmptySlabs_BeforeEvictingCachePages()
    {
        using BuddyArena arena = PolicyArena.Create(pages: 1024, perCpuPages: Magazines ? 256 : 0);
        MakeEmptySlabs(arena, slabs: 2);
        var owner = new RecordingOwner();
        List<nint> cache = ArenaState.MakeCleanInactive(arena, owner, 20);
        List<nint> held = ArenaState.TakeFromZone(arena, PolicyArena.Min);
        Assert.True(arena.GetStats().SlabPages > 0);

        arena.Balance();

        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(0, arena.GetStats().SlabPages);
        Assert.True(ArenaState.Free(arena) >= PolicyArena.Min + 128);
        foreach (nint p in cache)
            Assert.True(arena.CacheRemove((void*)p));
        foreach (nint p in held.Concat(cache))
            arena.FreePages((void*)p, 0);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AnObjectAllocation_WhenNoPageIsLeft_ReusesAnotherClasssEmptySlabPages()
    {
        using BuddyArena arena = NewArena(pages: 128, maxOrder: 8);
        List<nint> held = ArenaState.TakeFromZone(arena, 0);
        foreach (nint p in held.Take(16))
            arena.FreePages((void*)p, 0);
        held.RemoveRange(0, 16);
        void* big = arena.Alloc(2048, Mechanism); // one slab of 2 KiB objects: 4 pages (two spare at most)
        Assert.True(big != null);
        arena.Free(big);
        var small = new List<nint>();
        for (void* p; (p = arena.Alloc(16, Mechanism)) != null;)
            small.Add((nint)p);

        Assert.Equal(0, ClassOf(arena, 2048).Slabs); // reaped for the 16-byte class
        Assert.Equal(16 * 4096 / 16, small.Count); // every one of the 16 pages holds 16-byte objects
        foreach (nint p in small)
            arena.Free((void*)p);
        foreach (nint p in held)
            arena.FreePages((void*)p, 0);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    /// <summary>
    /// <paramref name="slabs"/> empty slabs of 32 KiB objects (64 pages each), left as they fall: with magazines the
    /// last stays the thread's current slab, the others are spares. Returns the addresses the objects had.
    /// </summary>
    private static List<nint> MakeEmptySlabs(BuddyArena arena, int slabs)
    {
        var objects = new List<nint>();
        for (int i = 0; i < 8 * slabs; i++)
        {
            void* p = arena.Alloc(32768, AllocFlags.MemAlloc);
            Assert.True(p != null);
            objects.Add((nint)p);
        }
        foreach (nint p in objects)
            arena.Free((void*)p);
        Assert.Equal(slabs, ClassOf(arena, 32768).Slabs);
        return [.. objects.Where(p => p % (64 * 4096) == 0)];
    }
}

/// <summary>Slab reclaim with per-thread magazines (an empty slab may still be a thread's current one).</summary>
public sealed class SlabReclaimTestsWithMagazines() : SlabReclaimTests(magazines: true);

/// <summary>Slab reclaim without magazines (every empty slab is a spare).</summary>
public sealed class SlabReclaimTestsShared() : SlabReclaimTests(magazines: false);
