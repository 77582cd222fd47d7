using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Steps 1-4 of the seed's allocation path: a zone put into the exact state where one step is the first that
/// qualifies, and ArenaStats.Steps showing that this step (and only it) served. Zone: 256 pages, watermarks
/// min 16 / low 32 / high 48, no background reclaim.
/// </summary>
public sealed unsafe class AllocationStepTests
{
    [Fact]
    public void Step1_FastPath_ServesWhenFreeEqualsPagesLow()
    {
        // Exact zone states: magazines off in both runs of the suite.
        using BuddyArena arena = Create(perCpuPages: 0);
        ArenaState.DrainTo(arena, Low);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal(StepCounts.Of(fastPath: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Low - 1, ArenaState.Free(arena));
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void Step1_FastPath_ServesEveryAllocationOfAFreshArenaDownToPagesLow()
    {
        using BuddyArena arena = Create();
        for (long i = Pages; i > Low; i--)
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        Assert.Equal(StepCounts.Of(fastPath: Pages - Low), StepCounts.Read(arena));
        Assert.Equal(Pages - Low, arena.GetStats().Allocations);
        arena.Validate();
    }

    [Fact]
    public void Step1_FastPath_IsSkippedOnePageBelowPagesLow()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Low - 1);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        // No cache pages: free + clean = 31 is not above high (48) nor low (32), but above min (16).
        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void Step2_High_ServesWhenFreeBelowLowButFreePlusCleanAboveHigh()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 20);
        ArenaState.DrainTo(arena, Low - 1); // 31 free + 20 clean = 51 > 48
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Low - 2, ArenaState.Free(arena));       // taken from the free area...
        Assert.Equal(20, ArenaState.Stats(arena).InactiveCleanPages); // ...not from the cache (free >= min + 8)
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }

    [Fact]
    public void Step3_Low_ServesWhenFreePlusCleanEqualsHigh()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 17);
        ArenaState.DrainTo(arena, Low - 1); // 31 + 17 = 48: not strictly above high, above low
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);

        Assert.Equal(StepCounts.Of(low: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }

    [Fact]
    public void Step3_Low_ServesWhenFreePlusCleanBetweenLowAndHigh()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 10);
        ArenaState.DrainTo(arena, Low - 1); // 41: in (32, 48]
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);

        Assert.Equal(StepCounts.Of(low: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Low - 2, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Step4_Min_ServesWhenFreePlusCleanAtOrBelowLowButAboveMin()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 1);
        ArenaState.DrainTo(arena, Low - 1); // 31 + 1 = 32: not above low, above min
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);

        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void Step4_Min_ServesDownToExactlyPagesMinWithoutCachePages()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Min + 1);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.NoFs) != null);

        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Min, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Steps2To4_OrderOne_QualifiesOnlyWhenFreeMinusOneIsAboveTheWatermark()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Min + 2); // 18 - 1 = 17 > 16: step 4 qualifies
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(1, AllocFlags.NoFs) != null);

        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Min, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Steps2To4_OrderOne_AtFreeMinPlusOne_FallsThroughToTheFinalPhase()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Min + 1); // 17 - 1 = 16: not above min; a higher order goes on to step 6
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(1, AllocFlags.NoFs) != null);

        Assert.Equal(StepCounts.Of(finalPhase: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Min - 1, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Steps2To4_CleanPagesCountTowardsTheWatermarkForHigherOrders()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 20);
        ArenaState.DrainTo(arena, Low - 1); // order 1: 31 + 20 - 1 = 50 > 48
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(1, AllocFlags.Kernel) != null);

        Assert.Equal(StepCounts.Of(high: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, owner.EvictCount); // no direct reclaim for order > 0
        arena.Validate();
    }
}
