using System.Diagnostics;
using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using Xunit.Abstractions;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>kswapd and kreclaimd on their background thread (BackgroundReclaim = true).</summary>
public sealed unsafe class BackgroundReclaimTests(ITestOutputHelper output)
{
    /// <summary>Polls <paramref name="condition"/> every 5 ms for up to <paramref name="ms"/> milliseconds.</summary>
    private static bool Eventually(Func<bool> condition, int ms = 3000)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < ms)
        {
            if (condition())
                return true;
            Thread.Sleep(5);
        }
        return condition();
    }

    [Fact]
    public void Kswapd_BringsFreePlusCleanBackAbovePagesHigh()
    {
        var owner = new RecordingOwner();
        // Exact zone states: magazines off in both runs of the suite.
        using BuddyArena arena = Create(background: true, perCpuPages: 0);
        // Allocate first, then cache: kswapd, woken while free falls, finds nothing to do yet.
        List<nint> held = ArenaState.DrainTo(arena, 41); // below pages_high, above pages_low
        ArenaState.CacheExisting(arena, owner, held, dirty: false);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null); // served by the fast path; wakes kswapd

        bool balanced = Eventually(() =>
        {
            ZoneStats z = ArenaState.Stats(arena);
            return z.FreePages + z.InactiveCleanPages > High;
        });
        ArenaStats s = arena.GetStats();
        output.WriteLine($"free {s.FreePages}, clean {s.InactiveCleanPages}, dirty {s.InactiveDirtyPages}, active {s.ActivePages}");
        Assert.True(balanced, $"free {s.FreePages} + clean {s.InactiveCleanPages} stayed at or below pages_high {High}");
        Assert.True(s.InactiveCleanPages > 0);
        Assert.Equal(0, owner.EvictCount); // free stayed above pages_low: nothing needed reclaiming
        arena.Validate();
    }

    [Fact]
    public void Kswapd_LaundersDirtyPagesOnItsOwnThread()
    {
        var owner = new RecordingOwner();
        // Exact zone states: magazines off in both runs of the suite.
        using BuddyArena arena = Create(background: true, perCpuPages: 0);
        List<nint> held = ArenaState.DrainTo(arena, 41);
        ArenaState.CacheExisting(arena, owner, held, dirty: true);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        Assert.True(Eventually(() => arena.GetStats().Laundered > 0), "kswapd wrote nothing back");
        Assert.All(owner.Events, e => Assert.NotEqual(Environment.CurrentManagedThreadId, e.ThreadId));
        Assert.True(Eventually(() => arena.Policy.Pressure.FreeShortage() == 0));
        arena.Validate();
    }

    [Fact]
    public void Kreclaimd_RefillsAZoneBelowPagesMinFromCleanPages_UpToPagesLow()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(background: true);
        ArenaState.MakeCleanInactive(arena, owner, 100);
        // Atomic callers go below pages_min (down to the floor) without reclaiming; the fast path's check of
        // free < pages_min wakes kreclaimd.
        for (int i = 0; i < 146; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        bool refilled = Eventually(() => ArenaState.Free(arena) >= Low);
        Thread.Sleep(50); // let it finish the page it is on
        ArenaStats s = arena.GetStats();
        output.WriteLine($"free {s.FreePages}, clean {s.InactiveCleanPages}, reclaimed {s.Reclaimed}");
        Assert.True(refilled, $"free stayed at {s.FreePages}");
        Assert.InRange(s.FreePages, Low, High);
        Assert.Equal(s.Reclaimed, owner.EvictCount);
        Assert.True(owner.EvictCount >= Low - 10);
        Assert.All(owner.Events, e => Assert.NotEqual(Environment.CurrentManagedThreadId, e.ThreadId));
        arena.Validate();
    }

    [Fact]
    public void IoCaller_WaitsForKswapdsPass_WhichLaundersForIt()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromSeconds(5));
        List<nint> held = ArenaState.DrainTo(arena, Min);
        // The drain woke kswapd: let that pass end first, or it launders the dirty pages before the caller asks.
        Assert.True(Eventually(() => arena.Policy.Daemon.Idle), "kswapd did not go idle");
        ArenaState.CacheExisting(arena, owner, held.Take(60), dirty: true);
        ArenaState.AgeToInactive(arena);
        Assert.Equal(60, arena.GetStats().InactiveDirtyPages);
        var clock = Stopwatch.StartNew();

        void* p = arena.AllocPages(0, AllocFlags.NoFs); // no Fs: only kswapd's pass can help it

        clock.Stop();
        Assert.True(p != null, "the pass made no page available");
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.True(owner.WritebackCount > 0);
        Assert.All(owner.Events.Where(e => e.Kind == CallbackKind.Writeback),
            e => Assert.NotEqual(Environment.CurrentManagedThreadId, e.ThreadId));
        arena.Validate();
    }

    /// <summary>
    /// A pass that began before the caller woke kswapd (here one held inside a Writeback while the caller's dirty
    /// pages are put on inactive_dirty) ends without progress; the caller waits on for the pass its wake-up starts,
    /// which launders its pages, instead of failing on the earlier pass's result.
    /// </summary>
    [Fact]
    public void IoCaller_WaitsForThePassItsWakeupStarts_NotOneAlreadyRunning()
    {
        var owner = new RecordingOwner();
        using var inFirstWriteback = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var callerReturned = new ManualResetEventSlim();
        int writebacks = 0;
        owner.OnWriteback = _ =>
        {
            int n = Interlocked.Increment(ref writebacks);
            if (n == 2)
                callerReturned.Wait(500); // the next pass: a caller that did not wait for it has decided by now
            if (n > 1)
                return true;
            inFirstWriteback.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return false; // still dirty: the running pass makes no progress
        };
        using BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromSeconds(5), perCpuPages: 0);
        Kswapd daemon = arena.Policy.Daemon;
        List<nint> held = ArenaState.DrainTo(arena, Min);
        Assert.True(Eventually(() => daemon.Idle), "kswapd did not go idle");
        ArenaState.CacheExisting(arena, owner, held.Take(1), dirty: true);
        ArenaState.AgeToInactive(arena);
        daemon.WakeKswapd();
        Assert.True(inFirstWriteback.Wait(TimeSpan.FromSeconds(5)), "kswapd's pass did not start its writeback");
        // That pass's scan covered the one dirty page it began with; these come after it.
        ArenaState.CacheExisting(arena, owner, held.Skip(1).Take(60), dirty: true);
        ArenaState.AgeToInactive(arena);
        var releaser = new Thread(() =>
        {
            Eventually(() => daemon.Passes.HasWaiters, 5000); // the caller waits for a pass
            release.Set();
        });
        releaser.Start();

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        callerReturned.Set();
        release.Set();
        Assert.True(releaser.Join(TimeSpan.FromSeconds(10)));
        Assert.True(p != null, "the caller failed on the result of a pass that began before it woke kswapd");
        Assert.True(arena.GetStats().Laundered > 0);
        Assert.Equal(0, arena.Policy.Failures);
        arena.Validate();
    }

    /// <summary>
    /// The caller's own earlier wake-up started the pass that laundered and freed (here one held inside a
    /// Writeback until the caller waits); the pass the caller then waits for finds nothing left to do. No progress
    /// of its own, but the zone has a page for it now: it takes one more look before failing.
    /// </summary>
    [Fact]
    public void IoCaller_AfterAPassWithoutProgress_LooksAgainBeforeFailing()
    {
        var owner = new RecordingOwner();
        using var inFirstWriteback = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        owner.OnWriteback = _ =>
        {
            inFirstWriteback.Set();
            release.Wait(TimeSpan.FromSeconds(10));
            return true;
        };
        using BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromSeconds(5), perCpuPages: 0);
        Kswapd daemon = arena.Policy.Daemon;
        List<nint> held = ArenaState.DrainTo(arena, Min);
        Assert.True(Eventually(() => daemon.Idle), "kswapd did not go idle");
        ArenaState.CacheExisting(arena, owner, held.Take(1), dirty: true);
        ArenaState.AgeToInactive(arena);
        daemon.WakeKswapd();
        Assert.True(inFirstWriteback.Wait(TimeSpan.FromSeconds(5)), "kswapd's pass did not start its writeback");
        var releaser = new Thread(() =>
        {
            Eventually(() => daemon.Passes.HasWaiters, 5000); // the caller waits for the next pass
            release.Set(); // this pass cleans the page and frees it; the next one has nothing to do
        });
        releaser.Start();

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        release.Set();
        Assert.True(releaser.Join(TimeSpan.FromSeconds(10)));
        Assert.True(p != null, "the caller failed with a page above its floor");
        Assert.Equal(1, owner.EvictCount);
        Assert.Equal(0, arena.Policy.Failures);
        arena.Validate();
    }

    [Fact]
    public void Dispose_WhileCallersWait_TheyReturnNullPromptly()
    {
        BuddyArena arena = Create(background: true, allocWait: Timeout.InfiniteTimeSpan);
        ArenaState.DrainTo(arena, Min);
        const int waiters = 3;
        var results = new nint[waiters];
        var errors = new Exception?[waiters];
        var returnedAt = new long[waiters];
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, waiters).Select(i => new Thread(() =>
        {
            try
            {
                results[i] = (nint)arena.AllocPages(0, AllocFlags.Kernel);
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
            returnedAt[i] = clock.ElapsedMilliseconds;
        })).ToArray();
        foreach (Thread t in threads)
            t.Start();
        Thread.Sleep(200);
        Assert.All(threads, t => Assert.True(t.IsAlive, "a caller did not wait"));
        arena.Validate();

        long disposedAt = clock.ElapsedMilliseconds;
        arena.Dispose();

        foreach (Thread t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(5)), "a waiting caller hung after Dispose");
        for (int i = 0; i < waiters; i++)
        {
            Assert.Null(errors[i]);
            Assert.Equal(0, results[i]);
            Assert.True(returnedAt[i] - disposedAt < 1000, $"returned {returnedAt[i] - disposedAt} ms after Dispose");
        }
        // Calls started after Dispose throw ObjectDisposedException.
        Assert.Throws<ObjectDisposedException>(() => arena.AllocPages(0, AllocFlags.Kernel));
        Assert.Throws<ObjectDisposedException>(() => arena.GetStats());
        Assert.Throws<ObjectDisposedException>(() => arena.Balance());
        arena.Dispose(); // twice is harmless
    }

    /// <summary>
    /// An allocation that is inside a direct reclaim (its owner's Evict running on the caller's thread) when the
    /// arena is disposed must fail cleanly (null), not return a pointer into the released zone.
    /// </summary>
    [Fact]
    public void Dispose_DuringADirectReclaimsEvict_TheAllocationReturnsNull()
    {
        var owner = new RecordingOwner();
        using var inEvict = new ManualResetEventSlim();
        using var disposed = new ManualResetEventSlim();
        owner.OnEvict = _ =>
        {
            inEvict.Set();
            disposed.Wait(TimeSpan.FromSeconds(5));
        };
        BuddyArena arena = Create(background: false);
        ArenaState.DrainTo(arena, Pages - 8); // the cache pages are not the zone's first pages
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        arena.Validate();
        nint result = -1;
        Exception? error = null;
        var caller = new Thread(() =>
        {
            try
            {
                result = (nint)arena.AllocPages(0, AllocFlags.NoIo);
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        caller.Start();
        Assert.True(inEvict.Wait(TimeSpan.FromSeconds(5)), "direct reclaim did not start");

        arena.Dispose();
        disposed.Set();

        Assert.True(caller.Join(TimeSpan.FromSeconds(5)), "the allocation hung after Dispose");
        Assert.Null(error);
        Assert.True(result == 0, $"the allocation returned 0x{result:x} from a disposed arena");
    }

    [Fact]
    public void Dispose_WithAnIdleReclaimerThread_IsPrompt()
    {
        BuddyArena arena = Create(background: true);
        ArenaState.DrainTo(arena, Min - 1); // wakes kreclaimd: the thread exists now
        Thread.Sleep(20);
        arena.Validate();
        var clock = Stopwatch.StartNew();

        arena.Dispose();

        Assert.True(clock.ElapsedMilliseconds < 1000, $"Dispose took {clock.ElapsedMilliseconds} ms");
    }
}
