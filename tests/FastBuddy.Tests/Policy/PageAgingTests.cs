using FastBuddy.Buddy;
using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>Page age: start 2, +3 when referenced (max 64), halved when scanned unreferenced; age 0 deactivates.</summary>
public sealed unsafe class PageAgingTests
{
    private static Zone Zone0(BuddyArena arena) => ArenaState.ZoneOf(arena);

    [Fact]
    public void NewCachedPage_StartsAtAgeTwo()
    {
        using BuddyArena arena = Create();
        List<nint> pages = ArenaState.AddToCache(arena, new RecordingOwner(), 1, dirty: false);

        Assert.Equal(PageCache.StartAge, ArenaState.AgeOf(arena, pages[0]));
        Assert.Equal(2, ArenaState.AgeOf(arena, pages[0]));
        arena.Validate();
    }

    [Fact]
    public void Touch_AddsThree_UpToSixtyFour()
    {
        using BuddyArena arena = Create();
        nint p = ArenaState.AddToCache(arena, new RecordingOwner(), 1, dirty: false)[0];

        arena.CacheTouch((void*)p);
        Assert.Equal(5, ArenaState.AgeOf(arena, p));
        arena.CacheTouch((void*)p);
        Assert.Equal(8, ArenaState.AgeOf(arena, p));
        for (int i = 0; i < 30; i++)
            arena.CacheTouch((void*)p);
        Assert.Equal(64, ArenaState.AgeOf(arena, p));
        arena.Validate();
    }

    [Fact]
    public void Scan_HalvesAnUnreferencedPage_AndAgeZeroDeactivatesIt()
    {
        using BuddyArena arena = Create();
        nint p = ArenaState.AddToCache(arena, new RecordingOwner(), 1, dirty: false)[0];

        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
        Assert.Equal(1, ArenaState.AgeOf(arena, p));
        Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, p));

        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
        Assert.Equal(0, ArenaState.AgeOf(arena, p));
        // Deactivated to inactive_dirty even though it is clean: only laundering makes a page inactive_clean.
        Assert.Equal(PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, p));
        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(0, zone.ActivePages);
        Assert.Equal(1, zone.InactiveDirtyPages);
        arena.Validate();
    }

    [Fact]
    public void Scan_OfAReferencedPage_AgesItUpAndKeepsItActive()
    {
        using BuddyArena arena = Create();
        nint p = ArenaState.AddToCache(arena, new RecordingOwner(), 1, dirty: false)[0];
        arena.CacheTouch((void*)p); // 5, referenced

        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
        Assert.Equal(8, ArenaState.AgeOf(arena, p)); // referenced: +3, reference consumed
        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
        Assert.Equal(4, ArenaState.AgeOf(arena, p)); // unreferenced now: halved
        Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, p));
        arena.Validate();
    }

    [Fact]
    public void PageAtMaximumAge_NeedsSevenUnreferencedScansToDeactivate()
    {
        using BuddyArena arena = Create();
        nint p = ArenaState.AddToCache(arena, new RecordingOwner(), 1, dirty: false)[0];
        for (int i = 0; i < 30; i++)
            arena.CacheTouch((void*)p);
        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue); // consumes the reference: stays 64
        Assert.Equal(64, ArenaState.AgeOf(arena, p));

        byte[] expected = [32, 16, 8, 4, 2, 1];
        foreach (byte age in expected)
        {
            Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
            Assert.Equal(age, ArenaState.AgeOf(arena, p));
            Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, p));
        }
        Reclaim.AgeScan(Zone0(arena), priority: 0, wanted: long.MaxValue);
        Assert.Equal(PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, p));
        arena.Validate();
    }

    [Fact]
    public void Laundering_MovesOnlyCleanDeactivatedPagesToInactiveClean()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> clean = ArenaState.AddToCache(arena, owner, 3, dirty: false);
        List<nint> dirty = ArenaState.AddToCache(arena, owner, 2, dirty: true);
        Reclaim.AgeScan(Zone0(arena), 0, long.MaxValue);
        Reclaim.AgeScan(Zone0(arena), 0, long.MaxValue);
        Assert.Equal(5, ArenaState.Stats(arena).InactiveDirtyPages);

        arena.Policy.Reclaimer.Launder(mayIo: false);

        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(3, zone.InactiveCleanPages);
        Assert.Equal(2, zone.InactiveDirtyPages);
        Assert.All(clean, p => Assert.Equal(PageFlags.OnInactiveClean, ArenaState.ListOf(arena, p)));
        Assert.All(dirty, p => Assert.Equal(PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, p)));
        Assert.Equal(0, owner.WritebackCount);
        arena.Validate();
    }

    [Fact]
    public void RefillInactive_DeactivatesNoMoreThanWanted()
    {
        using BuddyArena arena = Create();
        ArenaState.AddToCache(arena, new RecordingOwner(), 100, dirty: false);

        long deactivated = arena.Policy.Reclaimer.RefillInactive(10);

        Assert.Equal(10, deactivated);
        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(90, zone.ActivePages);
        Assert.Equal(10, zone.InactiveDirtyPages);
        arena.Validate();
    }
}
