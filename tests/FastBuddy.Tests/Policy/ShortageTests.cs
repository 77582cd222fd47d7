using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// free_shortage(): target = freepages.high + inactive_target / 3 against free + clean; failing that, the zones'
/// deficits below pages_min + 1. inactive_shortage() = freepages.high + inactive_target - free - clean - dirty, ≥ 0.
/// </summary>
public sealed class ShortageTests
{
    [Fact]
    public void FreshArena_HasNoShortage()
    {
        using BuddyArena arena = Create();
        MemoryPressure p = arena.Policy.Pressure;
        Assert.Equal(0, p.FreeShortage());
        Assert.Equal(0, p.InactiveShortage());
        arena.Validate();
    }

    [Fact]
    public void FreeShortage_IsTheDistanceOfFreePlusCleanFromFreepagesHighPlusAThirdOfInactiveTarget()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 5);
        ArenaState.MakeDirtyInactive(arena, owner, 3);
        ArenaState.DrainTo(arena, 40);
        ArenaStats s = arena.GetStats();
        long target = High + s.InactiveTarget / 3;

        Assert.Equal(5, s.InactiveCleanPages);
        Assert.True(s.InactiveTarget > 0);
        Assert.Equal(target - (40 + 5), arena.Policy.Pressure.FreeShortage());
        arena.Validate();
    }

    [Fact]
    public void FreeShortage_WhenFreeableSuffices_IsTheSumOfZoneDeficitsBelowPagesMinPlusOne()
    {
        using BuddyArena arena = CreateZones(false, ("Low", 256, 16, 32, 48), ("High", 256, 20, 40, 60));
        ArenaState.DrainTo(arena, 10, zone: 0); // zonelist 0 is zone 0 alone

        // freeable = 10 + 256 is far above freepages.high (108): the per-zone rule applies: 16 + 1 - 10.
        Assert.Equal(7, arena.Policy.Pressure.FreeShortage());
        arena.Validate();
    }

    [Fact]
    public void FreeShortage_CleanPagesCoverAZonesDeficit()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = CreateZones(false, ("Low", 256, 16, 32, 48), ("High", 256, 20, 40, 60));
        ArenaState.MakeCleanInactive(arena, owner, 4, zone: 0);
        ArenaState.DrainTo(arena, 10, zone: 0);

        Assert.Equal(16 + 1 - 10 - 4, arena.Policy.Pressure.FreeShortage());
        arena.Validate();
    }

    [Fact]
    public void InactiveShortage_IsFreepagesHighPlusInactiveTargetLessFreeCleanAndDirty()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 5);
        ArenaState.MakeDirtyInactive(arena, owner, 3);
        ArenaState.AddToCache(arena, owner, 7, dirty: false); // active pages do not count
        ArenaState.DrainTo(arena, 30);
        ArenaStats s = arena.GetStats();

        Assert.Equal(High + s.InactiveTarget - 30 - 5 - 3, arena.Policy.Pressure.InactiveShortage());
        arena.Validate();
    }

    [Fact]
    public void InactiveShortage_IsNeverNegative()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeDirtyInactive(arena, owner, 100);

        Assert.Equal(0, arena.Policy.Pressure.InactiveShortage());
        arena.Validate();
    }
}
