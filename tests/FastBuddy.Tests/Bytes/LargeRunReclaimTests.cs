using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Bytes;

/// <summary>
/// A run under memory pressure walks the same steps as any large request: a caller that may wait reclaims clean
/// cache pages into the buddy system until the run forms (step 5); an atomic caller never reclaims.
/// </summary>
public sealed unsafe class LargeRunReclaimTests
{
    private const int MaxOrder = 6;       // largest block: 32 pages
    private const int Pages = 256;        // 8 largest blocks
    private const int BlockPages = 1 << (MaxOrder - 1);

    private static BuddyArena NewArena()
    {
        var options = new ArenaOptions
        {
            PageSize = PolicyArena.PageSize,
            MaxOrder = MaxOrder,
            BackgroundReclaim = false,
            AllocWaitTimeout = TimeSpan.FromMilliseconds(50),
            PerCpuPages = 0,
            PerCpuOrders = 0,
        };
        options.Zones.Add(new ZoneOptions("Normal", (nuint)Pages * PolicyArena.PageSize)
        {
            PagesMin = PolicyArena.Min, PagesLow = PolicyArena.Low, PagesHigh = PolicyArena.High,
        });
        return new BuddyArena(options);
    }

    /// <summary>Half the zone in clean inactive cache pages, the rest allocated: no run can be taken without reclaim.</summary>
    private static BuddyArena Pressed(RecordingOwner owner)
    {
        BuddyArena arena = NewArena();
        ArenaState.MakeCleanInactive(arena, owner, Pages / 2);
        ArenaState.DrainTo(arena, 0);
        return arena;
    }

    [Fact]
    public void RunForACallerThatMayWait_ReclaimsCleanCachePagesUntilTheRunForms()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Pressed(owner);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.Alloc((nuint)(2 * BlockPages * PolicyArena.PageSize), AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal(StepCounts.Of(higherOrderReclaim: 1), StepCounts.Read(arena) - before);
        for (int i = 0; i < 2 * BlockPages; i++)
            Assert.Contains((nint)p + i * PolicyArena.PageSize, owner.Evicted); // every page of the run was a cache page
        Assert.True(ArenaState.Free(arena) >= PolicyArena.Floor);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void RunForAnAtomicCaller_NeverReclaims_AndFailsWithNoMemory()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Pressed(owner);

        void* p = arena.Alloc((nuint)(2 * BlockPages * PolicyArena.PageSize), AllocFlags.Atomic);

        Assert.True(p == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(Pages / 2, ArenaState.Stats(arena).InactiveCleanPages);
        arena.Validate();
    }
}
