using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// kswapd's thread starts at its first wake-up. When it cannot start, no allocation fails because of it: the
/// callers that would have waited for its pass run the pass themselves, and a later wake-up starts the thread.
/// </summary>
public unsafe class ReclaimerStartFaultTests
{
    private const int Pages = 256;

    [Fact]
    public void Allocations_go_on_when_the_reclaimer_thread_cannot_start()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.ReclaimerStart, 1);
        int served = Drive(out bool fired);

        Assert.True(fired, "the scenario never woke kswapd");
        Assert.True(served > Pages / 2, $"only {served} allocations were served");
    }

    [Fact]
    public void Every_failed_start_of_the_reclaimer_leaves_the_arena_valid_and_loses_no_page()
    {
        int failures = FaultLoop.Walk(FaultPoint.ReclaimerStart, () => Drive(out _), run =>
        {
            Assert.Null(run.Error);
        }, limit: 200);

        Assert.True(failures >= 1);
    }

    /// <summary>Cache a third of the arena, then allocate until null and free everything; returns the allocations served.</summary>
    private static int Drive(out bool fired)
    {
        var arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = Pages * 4096,
            BackgroundReclaim = true,
            AllocWaitTimeout = TimeSpan.FromMilliseconds(20),
        });
        var owner = new FaultyOwner(0);
        var cached = new List<nint>();
        var held = new List<nint>();
        try
        {
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
            fired = FiredOnThisThread();
            AssertEventuallyAllFree(arena);
            return held.Count;
        }
        finally
        {
            arena.Dispose();
        }
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

    private static bool FiredOnThisThread() => FaultInjection.CurrentPlan?.Fired ?? false;
}
