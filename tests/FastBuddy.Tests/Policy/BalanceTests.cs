using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>Balance(): one synchronous kswapd pass (plus kreclaimd's refill) for arenas without background threads.</summary>
public sealed unsafe class BalanceTests
{
    [Fact]
    public void Balance_WithoutAShortage_DoesNothing()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.AddToCache(arena, owner, 10, dirty: true);
        ArenaStats before = arena.GetStats();

        arena.Balance();

        ArenaStats after = arena.GetStats();
        Assert.Equal(10, after.ActivePages);
        Assert.Equal(before.FreePages, after.FreePages);
        Assert.Empty(owner.Events);
        arena.Validate();
    }

    [Fact]
    public void Balance_AgesAndLaundersActivePages_UntilFreePlusCleanCoversTheShortage()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.AddToCache(arena, owner, 220, dirty: false); // free 36 < pages_high 48, all cache pages active
        Assert.True(arena.Policy.Pressure.FreeShortage() > 0);
        Assert.Equal(0, arena.GetStats().InactiveCleanPages);

        arena.Balance();

        ArenaStats after = arena.GetStats();
        Assert.True(after.InactiveCleanPages > 0);
        Assert.Equal(0, arena.Policy.Pressure.FreeShortage());
        Assert.True(after.FreePages + after.InactiveCleanPages >= High + after.InactiveTarget / 3);
        Assert.Equal(36, after.FreePages);  // above pages_low: nothing reclaimed into the free area
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(220, after.ActivePages + after.InactiveDirtyPages + after.InactiveCleanPages);
        arena.Validate();
    }

    [Fact]
    public void Balance_WritesDirtyPagesBackWhenMemoryIsShort()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.AddToCache(arena, owner, 220, dirty: true);
        ArenaStats before = arena.GetStats();

        arena.Balance();

        ArenaStats after = arena.GetStats();
        Assert.True(owner.WritebackCount > 0);
        Assert.Equal(owner.WritebackCount, after.Laundered - before.Laundered);
        Assert.Equal(after.Laundered, after.InactiveCleanPages);
        Assert.Equal(0, arena.Policy.Pressure.FreeShortage());
        Assert.All(owner.Events, e => Assert.Equal(Environment.CurrentManagedThreadId, e.ThreadId));
        arena.Validate();
    }

    [Fact]
    public void Balance_RefillsAZoneBelowPagesMinFromCleanPagesUpToPagesLow()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 60);
        ArenaState.DrainTo(arena, 10);
        ArenaStats before = arena.GetStats();

        arena.Balance();

        ArenaStats after = arena.GetStats();
        Assert.Equal(Low, after.FreePages);
        Assert.Equal(Low - 10, owner.EvictCount);
        Assert.Equal(before.Reclaimed + Low - 10, after.Reclaimed);
        Assert.Equal(60 - (Low - 10), after.InactiveCleanPages);
        arena.Validate();
    }
}
