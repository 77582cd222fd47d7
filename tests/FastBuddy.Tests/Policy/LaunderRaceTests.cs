using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using FastBuddy.Tests.Systematic;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// page_launder against the host: a page becomes clean only through a writeback that began after its last
/// CacheMarkDirty; it is never evicted while a writeback of it runs; and no callback of a page starts after
/// CacheRemove returned true. With the per-thread lists off and in the default configuration.
/// </summary>
public sealed unsafe class LaunderRaceTests
{
    /// <summary>One dirty page on inactive_dirty, the zone at pages_min (so page_launder's pass 1 writes back).</summary>
    private static (BuddyArena Arena, nint Page) OneDirtyPage(IPageOwner owner, int perCpuPages)
    {
        BuddyArena arena = Create(perCpuPages: perCpuPages);
        nint page = ArenaState.MakeDirtyInactive(arena, owner, 1)[0];
        ArenaState.DrainTo(arena, Min);
        return (arena, page);
    }

    /// <summary>page_launder with I/O, as kswapd runs it (in reclaim context).</summary>
    private static long Launder(BuddyArena arena)
    {
        using (ReclaimContext.Enter())
            return arena.Policy.Reclaimer.Launder(mayIo: true);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void AWritebackBegunBeforeTheLastMarkDirty_DoesNotMakeThePageClean_EvenWhenASecondLaunderer_RunsMeanwhile(int perCpuPages)
    {
        var owner = new RecordingOwner();
        (BuddyArena arena, nint page) = OneDirtyPage(owner, perCpuPages);
        using (arena)
        {
            using var secondStarted = new ManualResetEventSlim();
            using var secondMayReturn = new ManualResetEventSlim();
            Thread? second = null;
            bool secondWroteBack = false;
            bool secondRan = false;
            owner.OnWriteback = _ =>
            {
                if (Environment.CurrentManagedThreadId == second?.ManagedThreadId)
                {
                    secondWroteBack = true;
                    secondStarted.Set();
                    secondMayReturn.Wait(TimeSpan.FromSeconds(10));
                    return true;
                }
                // Writeback #1 has read the page; the host changes it and says so, and a second launderer runs.
                arena.CacheMarkDirty((void*)page);
                second = new Thread(() => { Launder(arena); secondStarted.Set(); });
                second.Start();
                secondRan = secondStarted.Wait(TimeSpan.FromSeconds(10));
                return true; // #1 says "clean": true of the old contents only
            };

            Launder(arena);

            Assert.True(secondRan);
            PageFlags flags = ArenaState.FlagsOf(arena, page);
            Assert.True((flags & PageFlags.Dirty) != 0, $"the page was marked clean by a writeback older than its last MarkDirty ({flags})");
            Assert.Equal(-1, arena.Policy.Reclaimer.ReclaimPage(arena.Zones[0], forCaller: false));
            Assert.Equal(0, owner.EvictCount);
            secondMayReturn.Set();
            second!.Join();
            if (!secondWroteBack)
            {
                // The page was still being written when the second launderer looked: offered again now.
                owner.OnWriteback = null;
                Assert.Equal(1, Launder(arena));
            }
            Assert.Equal(PageFlags.OnInactiveClean, ArenaState.ListOf(arena, page));
            arena.Validate();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void APage_IsNotEvicted_WhileAWritebackOfItStillRuns_EvenAfterTheHostRecachedIt(int perCpuPages)
    {
        var owner = new RecordingOwner();
        (BuddyArena arena, nint page) = OneDirtyPage(owner, perCpuPages);
        using (arena)
        {
            bool removed = false;
            PageFlags listAfterAging = PageFlags.None;
            int reclaimed = int.MinValue;
            owner.OnWriteback = _ =>
            {
                // Inside the page's own writeback: the host takes it back, caches it again clean, and it ages out.
                removed = arena.CacheRemove((void*)page);
                arena.CacheAdd((void*)page, owner, dirty: false);
                ArenaState.AgeToInactive(arena);
                listAfterAging = ArenaState.ListOf(arena, page);
                reclaimed = arena.Policy.Reclaimer.ReclaimPage(arena.Zones[0], forCaller: false);
                return true;
            };

            Launder(arena);

            Assert.True(removed);
            Assert.Equal(PageFlags.OnInactiveClean, listAfterAging);
            Assert.Equal(-1, reclaimed);
            Assert.Equal(0, owner.EvictCount);
            // Once the writeback has returned the page may go.
            owner.OnWriteback = null;
            int page0 = arena.Policy.Reclaimer.ReclaimPage(arena.Zones[0], forCaller: false);
            Assert.True(page0 >= 0);
            Assert.Equal(1, owner.EvictCount);
            arena.Policy.Reclaimer.FreeReclaimed(arena.Zones[0], page0);
            arena.Validate();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void NoWriteback_Starts_AfterCacheRemoveReturnedTrue(int perCpuPages)
    {
        var owner = new RecordingOwner();
        (BuddyArena arena, nint page) = OneDirtyPage(owner, perCpuPages);
        using (arena)
        {
            bool removed = false;
            // The launderer has chosen the page and let go of the zone lock: the host takes the page back now.
            using (PointHooks.Once(SchedulePoints.LaunderChosen, () => removed = arena.CacheRemove((void*)page)))
                Launder(arena);

            Assert.True(removed);
            Assert.Equal(0, owner.WritebackCount);
            Assert.Equal(PageFlags.AllocatedHead, ArenaState.FlagsOf(arena, page));
            arena.FreePages((void*)page, 0);
            arena.Validate();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void NoCallbackOfTheOldOwner_Starts_AfterTheHostRemovedThePageAndCachedItUnderAnother(int perCpuPages)
    {
        var first = new RecordingOwner();
        var second = new RecordingOwner();
        (BuddyArena arena, nint page) = OneDirtyPage(first, perCpuPages);
        using (arena)
        {
            using (PointHooks.Once(SchedulePoints.LaunderChosen, () =>
            {
                Assert.True(arena.CacheRemove((void*)page));
                arena.CacheAdd((void*)page, second, dirty: true);
            }))
            {
                Launder(arena);
            }

            Assert.Equal(0, first.WritebackCount + first.EvictCount);
            Assert.True((ArenaState.FlagsOf(arena, page) & (PageFlags.Cached | PageFlags.Dirty)) == (PageFlags.Cached | PageFlags.Dirty));
            Assert.True(arena.CacheRemove((void*)page));
            arena.Validate();
        }
    }
}
