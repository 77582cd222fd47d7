using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// direct_reclaim: an order-0 request from a caller that may wait and is not MemAlloc takes a clean cache page
/// straight from inactive_clean (the owner's Evict runs with that page, which never enters the free area) when the
/// zone has fewer than pages_min + 8 free pages.
/// </summary>
public sealed unsafe class DirectReclaimTests
{
    /// <summary>30 clean inactive pages and <paramref name="free"/> free pages (30 + free &gt; high for free ≥ 19).</summary>
    private static (BuddyArena Arena, RecordingOwner Owner, List<nint> Cached) Setup(long free, TestLogger? logger = null)
    {
        var owner = new RecordingOwner();
        BuddyArena arena = Create(logger: logger);
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, free);
        return (arena, owner, cached);
    }

    [Fact]
    public void DirectReclaim_HandsTheEvictedPageStraightToTheCaller()
    {
        var (arena, owner, cached) = Setup(free: 20);
        using (arena)
        {
            ArenaStats before = arena.GetStats();

            void* p = arena.AllocPages(0, AllocFlags.Kernel);

            Assert.True(p != null);
            Assert.Equal(1, owner.EvictCount);
            Assert.Equal((nint)p, owner.Evicted[0]);
            Assert.Contains((nint)p, cached);
            ArenaStats after = arena.GetStats();
            Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.From(after.Steps) - StepCounts.From(before.Steps));
            Assert.Equal(before.FreePages, after.FreePages);                 // never entered the free area
            Assert.Equal(before.InactiveCleanPages - 1, after.InactiveCleanPages);
            Assert.Equal(before.Reclaimed + 1, after.Reclaimed);
            Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
            Assert.False(arena.CacheRemove(p));                              // the page is the caller's now
            arena.FreePages(p, 0);                                            // an ordinary allocated page
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_TakesTheTailOfInactiveClean()
    {
        var (arena, owner, cached) = Setup(free: 20);
        using (arena)
        {
            void* p = arena.AllocPages(0, AllocFlags.Kernel);
            // The pages were deactivated and laundered in the order they were cached; the tail is the oldest.
            Assert.Equal(cached[0], (nint)p);
            Assert.Equal([cached[0]], owner.Evicted);
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_HappensOnePageBelowPagesMinPlus8()
    {
        var (arena, owner, _) = Setup(free: DirectReclaimBelow - 1);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);
            Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.Read(arena) - before);
            Assert.Equal(1, owner.EvictCount);
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_DoesNotHappenAtPagesMinPlus8()
    {
        var (arena, owner, _) = Setup(free: DirectReclaimBelow);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);
            Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before); // 24 + 30 > 48: rmqueue at HIGH
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(DirectReclaimBelow - 1, ArenaState.Free(arena));
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_NoIoCaller_MayReclaimBecauseItMayWait()
    {
        var (arena, owner, _) = Setup(free: 20);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            void* p = arena.AllocPages(0, AllocFlags.NoIo);
            Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.Read(arena) - before);
            Assert.Equal([(nint)p], owner.Evicted);
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_NotForAtomicCallers()
    {
        var (arena, owner, _) = Setup(free: 20);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);
            Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before);
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(19, ArenaState.Free(arena));
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_NotForMemAllocCallers()
    {
        var (arena, owner, _) = Setup(free: 20);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            Assert.True(arena.AllocPages(0, AllocFlags.Kernel | AllocFlags.MemAlloc) != null);
            Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before);
            Assert.Equal(0, owner.EvictCount);
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_NotForHigherOrders()
    {
        var (arena, owner, _) = Setup(free: 20);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            Assert.True(arena.AllocPages(1, AllocFlags.Kernel) != null);
            Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before);
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(18, ArenaState.Free(arena));
            arena.Validate();
        }
    }

    [Fact]
    public void DirectReclaim_WorksBelowTheReserveFloorBecauseItTakesNoFreePage()
    {
        var (arena, owner, _) = Setup(free: 0);
        using (arena)
        {
            StepCounts before = StepCounts.Read(arena);
            void* p = arena.AllocPages(0, AllocFlags.NoIo);
            Assert.True(p != null);
            Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.Read(arena) - before);
            Assert.Equal(0, ArenaState.Free(arena));
            Assert.Equal([(nint)p], owner.Evicted);
            arena.Validate();
        }
    }

    [Fact]
    public void ReclaimPage_YoungPageOnInactiveClean_GoesBackToActiveAndTheNextIsEvicted()
    {
        var (arena, owner, cached) = Setup(free: 20);
        using (arena)
        {
            // reclaim_page scans from the tail: a page with age > 0 goes back to active instead of being evicted.
            ArenaState.Desc(arena, cached[0]).Age = 3;

            void* p = arena.AllocPages(0, AllocFlags.Kernel);

            Assert.Equal(cached[1], (nint)p);
            Assert.Equal([cached[1]], owner.Evicted);
            Assert.Equal(FastBuddy.Buddy.PageFlags.OnActive, ArenaState.ListOf(arena, cached[0]));
            Assert.Equal(1, ArenaState.Stats(arena).ActivePages);
            arena.Validate();
        }
    }

    [Fact]
    public void ReclaimPage_DirtyPageOnInactiveClean_GoesToInactiveDirtyAndIsNotEvicted()
    {
        var (arena, owner, cached) = Setup(free: 20);
        using (arena)
        {
            // Only reachable by a race in real use (dirtied after laundering); set the bit directly.
            ArenaState.Desc(arena, cached[0]).Flags |= FastBuddy.Buddy.PageFlags.Dirty;

            void* p = arena.AllocPages(0, AllocFlags.Kernel);

            Assert.Equal(cached[1], (nint)p);
            Assert.Equal(0, owner.EvictionsOf(cached[0]));
            Assert.Equal(FastBuddy.Buddy.PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, cached[0]));
            arena.Validate();
        }
    }
}
