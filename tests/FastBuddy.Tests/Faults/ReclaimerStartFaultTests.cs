using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// kswapd's thread starts at its first wake-up, or with the arena when decommit is on. A thread that cannot start
/// at a wake-up fails no allocation: callers that would wait for its pass run the pass themselves, and a later
/// wake-up starts it. A thread that cannot start with the arena fails the creation as a whole.
/// </summary>
public unsafe class ReclaimerStartFaultTests
{
    private const int Pages = 256;

    [Fact]
    public void Allocations_go_on_when_the_reclaimer_thread_cannot_start()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.ReclaimerStart, 1);
        int served = Drive();

        Assert.True(plan.Fired, "the scenario never woke kswapd");
        Assert.True(plan.Calls >= 2, "a later wake-up did not try to start the thread again");
        Assert.True(served > Pages / 2, $"only {served} allocations were served");
    }

    [Fact]
    public void Every_failed_start_at_a_wake_up_leaves_the_arena_valid_and_loses_no_page()
    {
        int failures = FaultLoop.Walk(FaultPoint.ReclaimerStart, () => Drive(), run => Assert.Null(run.Error), limit: 50);

        Assert.True(failures >= 1);
    }

    [Fact]
    public void A_reclaimer_that_cannot_start_with_the_arena_fails_the_creation_and_keeps_no_reservation()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.ReclaimerStart, 1);

        OutOfMemoryException e = Assert.Throws<OutOfMemoryException>(() => new BuddyArena(WithDecommit()));

        Assert.True(plan.Fired);
        Assert.Contains("reclaimer", e.Message);
        Assert.Equal(2, plan.Reservations);
        Assert.Equal(0, plan.LiveReservations);
    }

    [Fact]
    public void Every_creation_fault_after_the_reclaimer_started_stops_it_and_keeps_no_reservation()
    {
        int failures = FaultLoop.Walk(FaultPoint.CreationAllocation, () =>
        {
            using var arena = new BuddyArena(WithDecommit());
            arena.Validate();
        }, run =>
        {
            if (run.Plan.Fired)
                Assert.IsType<OutOfMemoryException>(run.Error);
            else
                Assert.Null(run.Error);
            Assert.Equal(0, run.Plan.LiveReservations);
        });

        Assert.True(failures >= 8);
    }

    private static ArenaOptions WithDecommit()
    {
        var options = new ArenaOptions { BackgroundReclaim = true, DecommitAfter = TimeSpan.FromSeconds(1) };
        options.Zones.Add(new ZoneOptions("DMA", 1 << 20));
        options.Zones.Add(new ZoneOptions("Normal", 2 << 20));
        return options;
    }

    /// <summary>Cache a third of the arena, allocate until null, free everything; returns the allocations served.</summary>
    private static int Drive()
    {
        using var arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = Pages * 4096,
            BackgroundReclaim = true,
            AllocWaitTimeout = TimeSpan.FromMilliseconds(20),
        });
        var owner = new FaultyOwner(0);
        var cached = new List<nint>();
        var held = new List<nint>();
        for (int i = 0; i < Pages / 3; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.Atomic);
            arena.CacheAdd(p, owner, dirty: i % 2 == 0);
            cached.Add((nint)p);
        }
        for (int i = 0; i < Pages * 2; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.Kernel);
            if (p == null)
            {
                Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
                break;
            }
            held.Add((nint)p);
        }
        arena.Validate();
        foreach (nint p in cached)
        {
            // kswapd may evict concurrently; CacheRemove says who won.
            if (arena.CacheRemove((void*)p))
                arena.FreePages((void*)p, 0);
        }
        foreach (nint p in held)
            arena.FreePages((void*)p, 0);
        AssertEventuallyAllFree(arena);
        return held.Count;
    }

    /// <summary>A page kswapd is evicting is freed when its Evict returns, so the last frees may trail a little.</summary>
    private static void AssertEventuallyAllFree(BuddyArena arena)
    {
        for (int i = 0; i < 200; i++)
        {
            arena.Validate();
            ArenaStats s = arena.GetStats();
            if (s.FreePages == s.TotalPages)
                return;
            Thread.Sleep(10);
        }
        CallbackFaultTests.AssertAllFree(arena);
    }
}
