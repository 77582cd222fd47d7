using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// The policy's side of the per-thread magazines: parked pages count as not free, are handed out only after the
/// step-1 watermark check (the zone's gate), a free parks only while that check passes, and parked pages are
/// drained whenever the slow path is about to fail. (Validate drains the magazines too, so these tests call it
/// only at the end.) Zone of 256 pages: order-0 lists of 4 pages.
/// </summary>
public sealed unsafe class PerCpuPolicyTests
{
    private static BuddyArena CreateWithLists(TimeSpan? allocWait = null) => Create(perCpuPages: 64, allocWait: allocWait);

    [Fact]
    public void ParkedPages_CountAsNotFree()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.TakeFromZone(arena, Low + 8);
        ArenaStats before = arena.GetStats();

        arena.FreePages((void*)held[0], 0);
        arena.FreePages((void*)held[1], 0);

        ArenaStats after = arena.GetStats();
        Assert.Equal(before.FreePages, after.FreePages);
        Assert.Equal(before.PerCpuPages + 2, after.PerCpuPages);
        arena.Validate();
    }

    [Fact]
    public void FreeBelowPagesLow_GoesStraightToTheZone_NotToTheMagazine()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.DrainTo(arena, Low - 1);
        ArenaStats before = arena.GetStats();

        arena.FreePages((void*)held[0], 0);

        ArenaStats after = arena.GetStats();
        Assert.Equal(before.FreePages + 1, after.FreePages);
        Assert.Equal(before.PerCpuPages, after.PerCpuPages);
        arena.Validate();
    }

    [Fact]
    public void ParkedPage_IsNotHandedOutBelowPagesLow_TheWatermarkCheckComesFirst()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.TakeFromZone(arena, Low + 8);
        nint first = held[0], second = held[1];
        arena.FreePages((void*)first, 0);
        arena.FreePages((void*)second, 0);
        held.AddRange(ArenaState.TakeFromZone(arena, Low - 1));
        long parked = arena.GetStats().PerCpuPages;
        Assert.True(parked >= 2);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        // free 31 < pages_low: no fast path, so no parked page; step 4 takes one from the free area.
        Assert.True(p != null);
        Assert.NotEqual(first, (nint)p);
        Assert.NotEqual(second, (nint)p);
        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        Assert.Equal(parked, arena.GetStats().PerCpuPages);
        Assert.Equal(Low - 2, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void ParkedPages_AreDrainedBeforeAnAtomicCallerFails()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.ParkThenDrainTo(arena, parked: 2, free: Floor);
        Assert.Equal(2, arena.GetStats().PerCpuPages);
        Assert.Equal(Floor, ArenaState.Free(arena));
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.Atomic);

        Assert.True(p != null);
        Assert.Equal(StepCounts.Of(finalPhase: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, arena.GetStats().PerCpuPages);
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void PagesParkedByAnotherLiveThread_AreDrainedBeforeAWaitingCallerFails()
    {
        using BuddyArena arena = CreateWithLists(allocWait: TimeSpan.FromSeconds(5));
        List<nint> held = ArenaState.TakeFromZone(arena, Low + 8);
        using var parkedThem = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            arena.FreePages((void*)held[0], 0);
            arena.FreePages((void*)held[1], 0);
            parkedThem.Set();
            finish.Wait(TimeSpan.FromSeconds(5)); // stays alive: its lists are not an exited thread's
        });
        other.Start();
        Assert.True(parkedThem.Wait(TimeSpan.FromSeconds(5)));
        held.AddRange(ArenaState.TakeFromZone(arena, Min));
        Assert.Equal(2, arena.GetStats().PerCpuPages);
        Assert.Equal(Min, ArenaState.Free(arena));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        finish.Set();
        other.Join();
        Assert.True(p != null, "the pages parked by the other thread were not drained");
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Equal(0, arena.GetStats().PerCpuPages);
        Assert.Equal(Min + 1, ArenaState.Free(arena));
        arena.Validate();
    }
    /// <summary>
    /// A waiting Fs caller must get a page that another thread frees while it waits, also when that free parks the
    /// page in the freeing thread's per-CPU list (the default configuration): every free wakes the waiters, and the
    /// woken caller must be able to use what was freed.
    /// </summary>
    [Fact]
    public void FsCaller_IsWokenByAFreeFromAnotherLiveThread_WhoseListParksThePage()
    {
        using BuddyArena arena = CreateWithLists(allocWait: TimeSpan.FromMilliseconds(1500));
        List<nint> held = ArenaState.DrainTo(arena, Min);
        using var done = new ManualResetEventSlim();
        var freer = new Thread(() =>
        {
            Thread.Sleep(100);
            arena.FreePages((void*)held[0], 0);
            done.Wait(TimeSpan.FromSeconds(5)); // stays alive while the caller retries
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        freer.Start();

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        clock.Stop();
        done.Set();
        freer.Join();
        Assert.True(p != null, $"null after {clock.ElapsedMilliseconds} ms; a page freed by another thread during the wait was parked in its list");
        Assert.True(clock.ElapsedMilliseconds < 1000, $"returned after {clock.ElapsedMilliseconds} ms");
        arena.Validate();
    }

    /// <summary>
    /// memory_pressure never goes below 0 (docs/design.md, "Counters"): a free when it is at 0 does not make it negative, so the next
    /// allocations raise it again. With the per-CPU lists the fast path's allocations and frees are counted per
    /// thread; after the pressure has decayed, the frees must not leave a hidden negative balance that swallows
    /// later allocations. (Without the lists this holds.)
    /// </summary>
    [Theory]
    [InlineData(0)]   // lists off: the reference behaviour
    [InlineData(64)]  // lists on (the default)
    public void Pressure_FreesAfterDecay_DoNotSwallowLaterAllocations(int perCpuPages)
    {
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        List<nint> held = ArenaState.DrainTo(arena, 0);
        Assert.Equal(Pages, arena.GetStats().MemoryPressure);
        // Five minutes pass: the once-a-second decay (p -= p >> 6) brings the pressure down (lazily, on read).
        var last = typeof(FastBuddy.Policy.MemoryPressure).GetField("_lastDecay",
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        last.SetValue(arena.Policy.Pressure, System.Diagnostics.Stopwatch.GetTimestamp() - 300 * System.Diagnostics.Stopwatch.Frequency);
        long decayed = arena.GetStats().MemoryPressure;
        Assert.InRange(decayed, 1, Pages - 1);

        foreach (nint p in held)
            arena.FreePages((void*)p, 0);
        Assert.Equal(0, arena.GetStats().MemoryPressure); // more frees than the remaining pressure: 0, not negative

        for (int i = 0; i < 10; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);

        Assert.Equal(10, arena.GetStats().MemoryPressure);
        arena.Validate();
    }
}
