using FastBuddy.Buddy;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>The page cache's host calls (docs/design.md, "The page cache"): add, touch, mark dirty, remove, and their bad input.</summary>
public sealed unsafe class PageCacheTests
{
    [Fact]
    public void CacheAdd_PutsThePageOnItsZonesActiveList()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        void* clean = arena.AllocPages(0);
        void* dirty = arena.AllocPages(0);

        arena.CacheAdd(clean, owner);
        arena.CacheAdd(dirty, owner, dirty: true);

        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(2, zone.ActivePages);
        Assert.Equal(0, zone.InactiveDirtyPages + zone.InactiveCleanPages);
        Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, (nint)clean));
        Assert.Equal(0, (int)(ArenaState.FlagsOf(arena, (nint)clean) & PageFlags.Dirty));
        Assert.Equal(PageFlags.Dirty, ArenaState.FlagsOf(arena, (nint)dirty) & PageFlags.Dirty);
        arena.Validate();
    }

    [Fact]
    public void CacheRemove_OfACachedPage_ReturnsTrue_AndThePageStaysAllocated()
    {
        var owner = new RecordingOwner();
        // Exact zone states: magazines off in both runs of the suite.
        using BuddyArena arena = Create(perCpuPages: 0);
        void* p = arena.AllocPages(0);
        arena.CacheAdd(p, owner, dirty: true);
        long free = ArenaState.Free(arena);

        Assert.True(arena.CacheRemove(p));

        Assert.Equal(free, ArenaState.Free(arena));
        Assert.Equal(0, arena.GetStats().ActivePages);
        Assert.Equal(0, owner.WritebackCount + owner.EvictCount);
        Assert.Equal(FastBuddyStatus.InvalidArgument, Assert.Throws<FastBuddyException>(() => arena.CacheRemove(p)).Status); // not cached any more
        arena.FreePages(p, 0);               // the host's again: an ordinary page
        Assert.Equal(free + 1, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void CacheRemove_OfAPageFromEveryList_ReturnsTrue()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> clean = ArenaState.MakeCleanInactive(arena, owner, 2);
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 2);
        List<nint> active = ArenaState.AddToCache(arena, owner, 2, dirty: false);

        foreach (nint p in clean.Concat(dirty).Concat(active))
            Assert.True(arena.CacheRemove((void*)p));

        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages);
        arena.Validate();
    }

    [Fact]
    public void CacheRemove_AfterTheArenaReclaimedThePage_ReturnsFalse()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);

        void* p = arena.AllocPages(0, AllocFlags.Kernel); // direct reclaim evicts cached[0]

        Assert.Equal(cached[0], (nint)p);
        Assert.False(arena.CacheRemove(p));
        Assert.True(arena.CacheRemove((void*)cached[1]));
        arena.Validate();
    }

    [Fact]
    public void CacheRemoveTrueAndEvict_ExactlyOneHappensToEachCachedPage()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 40);
        ArenaState.DrainTo(arena, 10);

        // Direct reclaim takes some; the rest are taken back by the host.
        for (int i = 0; i < 15; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.NoIo) != null);
        var removed = cached.Where(p => arena.CacheRemove((void*)p)).ToHashSet();

        Assert.Equal(15, owner.EvictCount);
        Assert.Equal(cached.Count, removed.Count + owner.EvictCount);
        Assert.All(cached, p => Assert.Equal(1, (removed.Contains(p) ? 1 : 0) + owner.EvictionsOf(p)));
        arena.Validate();
    }

    [Fact]
    public void FreePagesOfACachedPage_IsBusy_AndChangesNothing()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        void* p = arena.AllocPages(0);
        arena.CacheAdd(p, owner);
        ArenaStats before = arena.GetStats();

        var e1 = Assert.Throws<FastBuddyException>(() => arena.FreePages(p, 0));
        var e2 = Assert.Throws<FastBuddyException>(() => arena.Free(p));

        Assert.Equal(FastBuddyStatus.Busy, e1.Status);
        Assert.Equal(FastBuddyStatus.Busy, e2.Status);
        ArenaStats after = arena.GetStats();
        Assert.Equal(before.FreePages, after.FreePages);
        Assert.Equal(1, after.ActivePages);
        Assert.True(arena.CacheRemove(p));
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void CacheCalls_OnAFreePage_AreBadInput()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        void* p = arena.AllocPages(0);
        void* q = arena.AllocPages(0);  // keeps p from merging: p stays a free order-0 head
        arena.FreePages(p, 0);
        void* neverAllocated = (byte*)q + 2 * PageSize; // inside a free block

        foreach (nint page in new[] { (nint)p, (nint)neverAllocated })
        {
            Assert.Throws<FastBuddyException>(() => arena.CacheAdd((void*)page, owner));
            Assert.Throws<FastBuddyException>(() => arena.CacheTouch((void*)page));
            Assert.Throws<FastBuddyException>(() => arena.CacheMarkDirty((void*)page));
            Assert.Throws<FastBuddyException>(() => arena.CacheRemove((void*)page));
        }
        Assert.Equal(0, arena.GetStats().ActivePages);
        arena.Validate();
    }

    [Fact]
    public void CacheCalls_OnAHigherOrderBlock_AreBadInput()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        void* block = arena.AllocPages(2);

        var add = Assert.Throws<FastBuddyException>(() => arena.CacheAdd(block, owner));
        Assert.Equal(FastBuddyStatus.OrderMismatch, add.Status);
        Assert.Throws<FastBuddyException>(() => arena.CacheAdd((byte*)block + PageSize, owner)); // interior page
        Assert.Throws<FastBuddyException>(() => arena.CacheTouch(block));
        Assert.Throws<FastBuddyException>(() => arena.CacheMarkDirty(block));

        Assert.Equal(0, arena.GetStats().ActivePages);
        arena.FreePages(block, 2);
        arena.Validate();
    }

    [Fact]
    public void CacheAdd_OfAPageAlreadyCached_IsBusy()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        void* p = arena.AllocPages(0);
        arena.CacheAdd(p, owner);

        var e = Assert.Throws<FastBuddyException>(() => arena.CacheAdd(p, new RecordingOwner()));

        Assert.Equal(FastBuddyStatus.Busy, e.Status);
        Assert.Equal(1, arena.GetStats().ActivePages);
        arena.Validate();
    }

    [Fact]
    public void CacheCalls_OnAPointerOutsideTheArena_AreNotOwned()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        byte* outside = stackalloc byte[16];

        Assert.Equal(FastBuddyStatus.NotOwned, Assert.Throws<FastBuddyException>(() => arena.CacheAdd(outside, owner)).Status);
        Assert.Equal(FastBuddyStatus.NotOwned, Assert.Throws<FastBuddyException>(() => arena.CacheRemove(outside)).Status);
        arena.Validate();
    }

    [Fact]
    public void CacheTouch_ReactivatesAnInactiveCleanPage()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> pages = ArenaState.MakeCleanInactive(arena, owner, 3);

        arena.CacheTouch((void*)pages[1]);

        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(1, zone.ActivePages);
        Assert.Equal(2, zone.InactiveCleanPages);
        Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, pages[1]));
        arena.Validate();
    }

    [Fact]
    public void CacheTouch_ReactivatesAnInactiveDirtyPage()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> pages = ArenaState.MakeDirtyInactive(arena, owner, 3);

        arena.CacheTouch((void*)pages[0]);

        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(1, zone.ActivePages);
        Assert.Equal(2, zone.InactiveDirtyPages);
        arena.Validate();
    }

    [Fact]
    public void CacheTouch_KeepsATouchedPageFromDirectReclaim()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        arena.CacheTouch((void*)cached[0]); // the tail: the next victim, until touched

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.Equal(cached[1], (nint)p);
        Assert.Equal(0, owner.EvictionsOf(cached[0]));
        arena.Validate();
    }

    [Fact]
    public void CacheMarkDirty_MovesAnInactiveCleanPageToInactiveDirty()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> pages = ArenaState.MakeCleanInactive(arena, owner, 2);

        arena.CacheMarkDirty((void*)pages[0]);

        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(1, zone.InactiveCleanPages);
        Assert.Equal(1, zone.InactiveDirtyPages);
        Assert.Equal(PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, pages[0]));
        arena.Validate();
    }

    [Fact]
    public void CacheMarkDirty_APageThatMustBeWrittenBack_IsNeverEvictedWithoutWriteback()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        arena.CacheMarkDirty((void*)cached[0]);

        void* p = arena.AllocPages(0, AllocFlags.NoIo);

        Assert.Equal(cached[1], (nint)p);
        Assert.Equal(0, owner.EvictionsOf(cached[0]));
        Assert.Equal(0, owner.WritebackCount);
        arena.Validate();
    }
}
