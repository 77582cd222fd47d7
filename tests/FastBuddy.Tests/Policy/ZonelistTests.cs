using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Every step walks the whole zonelist (zones i, i-1, ..., 0) before the next step is tried: a lower zone above
/// pages_low serves from the fast path before a higher one is taken at HIGH, LOW or MIN.
/// </summary>
public sealed unsafe class ZonelistTests
{
    private static BuddyArena TwoZones()
        => PolicyArena.CreateZones(false, ("Low", 256, 16, 32, 48), ("High", 256, 16, 32, 48));

    [Fact]
    public void FastPath_FallsBackToALowerZoneAbovePagesLow()
    {
        using BuddyArena arena = TwoZones();
        var owner = new RecordingOwner();
        // Zone 1 (High) below pages_low but with plenty of clean pages (it would qualify at step 2).
        for (int i = 0; i < 225; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.MemAlloc, 1) != null);
        Assert.Equal(31, ArenaState.Free(arena, 1));
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.Kernel, 1);

        Assert.True(ArenaState.ZoneOf(arena, 0).Contains((nint)p));
        Assert.Equal(StepCounts.Of(fastPath: 1), StepCounts.Read(arena) - before);
        Assert.Equal(31, ArenaState.Free(arena, 1));
        Assert.Equal(255, ArenaState.Free(arena, 0));
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }

    [Fact]
    public void StepsAfterTheFastPath_AlsoTryTheZonelistInOrder()
    {
        using BuddyArena arena = TwoZones();
        // Both zones at 31 free: neither qualifies for the fast path; at MIN the first zone of zonelist 1 (zone 1) serves.
        ArenaState.DrainTo(arena, 31, zone: 0);
        for (int i = 0; i < 225; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.MemAlloc, 1) != null);
        Assert.Equal(31, ArenaState.Free(arena, 1));
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.NoFs, 1);

        Assert.True(ArenaState.ZoneOf(arena, 1).Contains((nint)p));
        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void Zonelist0_NeverTakesFromAHigherZone()
    {
        using BuddyArena arena = TwoZones();
        int served = 0;
        while (arena.AllocPages(0, AllocFlags.NoFs, 0) != null)
            served++;

        Assert.Equal(256 - 16, served);
        Assert.Equal(16, ArenaState.Free(arena, 0));
        Assert.Equal(256, ArenaState.Free(arena, 1));
        arena.Validate();
    }

    [Fact]
    public void WaitingCaller_StopsAtPagesMinOfEveryZoneOfItsZonelist()
    {
        using BuddyArena arena = TwoZones();
        int served = 0;
        while (arena.AllocPages(0, AllocFlags.NoFs, 1) != null)
            served++;

        Assert.Equal(2 * (256 - 16), served);
        Assert.Equal(16, ArenaState.Free(arena, 0));
        Assert.Equal(16, ArenaState.Free(arena, 1));
        arena.Validate();
    }
}
