using System.Diagnostics;
using System.Reflection;
using FastBuddy.Buddy;
using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// memory_pressure (+1 per allocation and per reclaim_page, -1 per free, never below 0, decays by p &gt;&gt; 6 once a
/// second) and inactive_target = min(pressure &gt;&gt; 6, total pages / 4).
/// </summary>
public sealed unsafe class MemoryPressureTests
{
    [Fact]
    public void Pressure_GoesUpByOnePerAllocation_AndDownByOnePerFree()
    {
        using BuddyArena arena = Create();
        Assert.Equal(0, arena.GetStats().MemoryPressure);

        var pages = new List<nint>();
        for (int i = 0; i < 10; i++)
            pages.Add((nint)arena.AllocPages(0));
        pages.Add((nint)arena.AllocPages(3)); // one allocation, whatever its order
        Assert.Equal(11, arena.GetStats().MemoryPressure);

        for (int i = 0; i < 4; i++)
            arena.FreePages((void*)pages[i], 0);
        Assert.Equal(7, arena.GetStats().MemoryPressure);
        arena.Validate();
    }

    [Fact]
    public void Pressure_NeverGoesBelowZero()
    {
        // Exact zone states: magazines off in both runs of the suite.
        using BuddyArena arena = Create(perCpuPages: 0);
        var pages = new List<nint>();
        for (int i = 0; i < 10; i++)
            pages.Add((nint)arena.AllocPages(0));
        Zone zone = ArenaState.ZoneOf(arena);
        lock (zone.Lock)
            arena.Policy.Account(zone).Pressure = 3; // as if it had decayed

        foreach (nint p in pages)
            arena.FreePages((void*)p, 0);

        Assert.Equal(0, arena.GetStats().MemoryPressure);
        Assert.Equal(0, arena.GetStats().InactiveTarget);
        arena.Validate();
    }

    /// <summary>
    /// A direct-reclaim allocation is an allocation and runs reclaim_page: +2 (2.4.0: memory_pressure++ on entry to
    /// __alloc_pages and again in reclaim_page). docs/design.md, "Counters": up by one on every allocation and every reclaim_page.
    /// </summary>
    [Fact]
    public void Pressure_DirectReclaimAllocation_CountsTheAllocationAndTheReclaim()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        long before = arena.GetStats().MemoryPressure;
        StepCounts steps = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);

        Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.Read(arena) - steps);
        Assert.Equal(before + 2, arena.GetStats().MemoryPressure);
        arena.Validate();
    }

    [Fact]
    public void Pressure_ReclaimIntoTheFreeAreaIsNeutral_ReclaimPlusFree()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, Low - 5);
        long before = arena.GetStats().MemoryPressure;

        arena.Balance(); // reclaims 5 pages into the free area: +5 (reclaim_page) -5 (free)

        Assert.Equal(5, owner.EvictCount);
        Assert.Equal(before, arena.GetStats().MemoryPressure);
        arena.Validate();
    }

    [Fact]
    public void Pressure_TightMemoryPassCountsOneMoreUnit()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Min);
        long before = arena.GetStats().MemoryPressure;

        Assert.True(arena.AllocPages(0, AllocFlags.NoFs) == null); // step 5: a pass, then failure

        Assert.True(arena.GetStats().MemoryPressure > before);
        arena.Validate();
    }

    [Fact]
    public void InactiveTarget_IsPressureShiftedBySix_WhileBelowAQuarterOfTheArena()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, 0); // 256 allocations

        ArenaStats s = arena.GetStats();
        Assert.Equal(256, s.MemoryPressure);
        Assert.Equal(256 >> 6, s.InactiveTarget);
        arena.Validate();
    }

    [Fact]
    public void InactiveTarget_IsCappedAtAQuarterOfTheArena()
    {
        using BuddyArena arena = Create();
        Zone zone = ArenaState.ZoneOf(arena);
        lock (zone.Lock)
            arena.Policy.Account(zone).Pressure = 100_000; // >> 6 = 1562

        ArenaStats s = arena.GetStats();
        Assert.Equal(100_000, s.MemoryPressure);
        Assert.Equal(Pages / 4, s.InactiveTarget);
        arena.Validate();
    }

    [Fact]
    public void Pressure_DecaysByOneSixtyFourthPerElapsedSecond_LazilyWithoutBackgroundThreads()
    {
        using BuddyArena arena = Create();
        Zone zone = ArenaState.ZoneOf(arena);
        lock (zone.Lock)
            arena.Policy.Account(zone).Pressure = 6400;
        // Pretend the last decay was 2.5 seconds ago.
        FieldInfo last = typeof(MemoryPressure).GetField("_lastDecay", BindingFlags.NonPublic | BindingFlags.Instance)!;
        last.SetValue(arena.Policy.Pressure, Stopwatch.GetTimestamp() - (long)(2.5 * Stopwatch.Frequency));

        long pressure = arena.GetStats().MemoryPressure;

        long expected = 6400;
        expected -= expected >> 6; // 6300
        expected -= expected >> 6; // 6202
        Assert.Equal(expected, pressure);
        Assert.Equal(expected, arena.GetStats().MemoryPressure); // not applied twice for the same seconds
        arena.Validate();
    }
}
