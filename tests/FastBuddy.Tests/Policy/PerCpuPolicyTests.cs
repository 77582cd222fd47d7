using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// The policy's side of the per-CPU lists (SPEC section 4): parked pages count as not free, are handed out only
/// after the step-1 watermark check, and are drained whenever the slow path is about to fail. (Validate drains the
/// lists too, so these tests call it only at the end.) Zone of 256 pages: order-0 lists of 4 pages.
/// </summary>
public sealed unsafe class PerCpuPolicyTests
{
    private static BuddyArena CreateWithLists(TimeSpan? allocWait = null) => Create(perCpuPages: 64, allocWait: allocWait);

    [Fact]
    public void ParkedPages_CountAsNotFree()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.DrainTo(arena, Low - 1);
        ArenaStats before = arena.GetStats();

        arena.FreePages((void*)held[0], 0);
        arena.FreePages((void*)held[1], 0);

        ArenaStats after = arena.GetStats();
        Assert.Equal(before.FreePages, after.FreePages);
        Assert.Equal(before.PerCpuPages + 2, after.PerCpuPages);
        arena.Validate();
    }

    [Fact]
    public void ParkedPage_IsNotHandedOutBelowPagesLow_TheWatermarkCheckComesFirst()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.DrainTo(arena, Low - 1);
        arena.FreePages((void*)held[0], 0);
        arena.FreePages((void*)held[1], 0);
        long parked = arena.GetStats().PerCpuPages;
        Assert.True(parked >= 2);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        // free 31 < pages_low: no fast path, so no parked page; step 4 takes one from the free area.
        Assert.True(p != null);
        Assert.NotEqual(held[0], (nint)p);
        Assert.NotEqual(held[1], (nint)p);
        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        Assert.Equal(parked, arena.GetStats().PerCpuPages);
        Assert.Equal(Low - 2, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void ParkedPages_AreDrainedBeforeAnAtomicCallerFails()
    {
        using BuddyArena arena = CreateWithLists();
        List<nint> held = ArenaState.DrainTo(arena, Floor);
        arena.FreePages((void*)held[0], 0);
        arena.FreePages((void*)held[1], 0);
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
        List<nint> held = ArenaState.DrainTo(arena, Min);
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
}
