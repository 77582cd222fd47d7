using System.Diagnostics;
using FastBuddy.Policy;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>Step 5 for a tight single page: who runs the pass, what counts as progress, and how long a call may wait.</summary>
public sealed unsafe class ReclaimFlowTests
{
    [Fact]
    public void NoIoCaller_RunsTryToFreePagesItself_ThenReclaimsAPageDirectly()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        // 40 clean pages deactivated to inactive_dirty but not yet sorted: steps 2-4 see no clean page.
        List<nint> cached = ArenaState.AddToCache(arena, owner, 40, dirty: false);
        Reclaim.AgeScan(ArenaState.ZoneOf(arena), 0, long.MaxValue);
        Reclaim.AgeScan(ArenaState.ZoneOf(arena), 0, long.MaxValue);
        Assert.Equal(40, arena.GetStats().InactiveDirtyPages);
        ArenaState.DrainTo(arena, Min);
        StepCounts before = StepCounts.Read(arena);
        var clock = Stopwatch.StartNew();

        void* p = arena.AllocPages(0, AllocFlags.NoIo);

        // try_to_free_pages without I/O sorted them to inactive_clean (progress); the restart reclaimed one directly.
        Assert.True(p != null);
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.Read(arena) - before);
        Assert.Equal([(nint)p], owner.Evicted);
        Assert.Contains((nint)p, cached);
        Assert.Equal(0, owner.WritebackCount);
        Assert.Equal(Environment.CurrentManagedThreadId, owner.Events[0].ThreadId);
        Assert.Equal(39, arena.GetStats().InactiveCleanPages);
        arena.Validate();
    }

    [Fact]
    public void IoCaller_WaitForKswapdsPass_IsBoundedByAllocWaitTimeout()
    {
        var owner = new RecordingOwner();
        using var release = new ManualResetEventSlim();
        int caller = Environment.CurrentManagedThreadId;
        owner.OnWriteback = _ =>
        {
            if (Environment.CurrentManagedThreadId != caller)
                release.Wait(TimeSpan.FromSeconds(5)); // kswapd's pass is stuck in I/O
            return true;
        };
        BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromMilliseconds(150));
        try
        {
            List<nint> held = ArenaState.DrainTo(arena, Min);
            ArenaState.CacheExisting(arena, owner, held.Take(40), dirty: true);
            ArenaState.AgeToInactive(arena);
            var clock = Stopwatch.StartNew();

            void* p = arena.AllocPages(0, AllocFlags.NoFs);

            clock.Stop();
            Assert.True(p == null);
            Assert.True(clock.ElapsedMilliseconds >= 140, $"returned after {clock.ElapsedMilliseconds} ms");
            Assert.True(clock.ElapsedMilliseconds < 1000, $"returned after {clock.ElapsedMilliseconds} ms");
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        }
        finally
        {
            release.Set();
            arena.Validate();
            arena.Dispose();
        }
    }

    [Fact]
    public void FsCaller_TheWaitForKswapdsPassAndForFreesShareOneDeadline()
    {
        var owner = new RecordingOwner();
        using var release = new ManualResetEventSlim();
        int caller = Environment.CurrentManagedThreadId;
        owner.OnWriteback = _ =>
        {
            if (Environment.CurrentManagedThreadId != caller)
                release.Wait(TimeSpan.FromSeconds(5));
            return true;
        };
        BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromMilliseconds(300));
        try
        {
            List<nint> held = ArenaState.DrainTo(arena, Min);
            ArenaState.CacheExisting(arena, owner, held.Take(40), dirty: true);
            ArenaState.AgeToInactive(arena);
            var clock = Stopwatch.StartNew();

            void* p = arena.AllocPages(0, AllocFlags.Kernel);

            clock.Stop();
            Assert.True(p == null);
            Assert.True(clock.ElapsedMilliseconds >= 290, $"returned after {clock.ElapsedMilliseconds} ms");
            // Two separate 300 ms waits would take at least 600 ms.
            Assert.True(clock.ElapsedMilliseconds < 550, $"returned after {clock.ElapsedMilliseconds} ms");
        }
        finally
        {
            release.Set();
            arena.Validate();
            arena.Dispose();
        }
    }

    [Fact]
    public void OwnerCallbacks_RunWithoutAnyArenaLockHeld()
    {
        using BuddyArena arena = Create();
        var owner = new RecordingOwner();
        int checks = 0;
        void CheckNoLock()
        {
            foreach (FastBuddy.Buddy.Zone zone in arena.Zones)
                Assert.False(zone.Lock.IsHeldByCurrentThread, "an owner callback runs under a zone lock");
            // And another thread can take every zone lock meanwhile.
            var other = new Thread(() => arena.GetStats());
            other.Start();
            Assert.True(other.Join(TimeSpan.FromSeconds(2)), "GetStats blocked while an owner callback ran");
            Interlocked.Increment(ref checks);
        }
        owner.OnWriteback = _ => { CheckNoLock(); return true; };
        owner.OnEvict = _ => CheckNoLock();
        ArenaState.MakeDirtyInactive(arena, owner, 10);
        ArenaState.MakeCleanInactive(arena, owner, 10);
        ArenaState.DrainTo(arena, Min);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null); // direct reclaim (Evict)
        ArenaState.DrainTo(arena, 0);
        Assert.True(arena.AllocPages(1, AllocFlags.Kernel) != null); // launder (Writeback) and reclaim (Evict)

        Assert.True(owner.WritebackCount > 0);
        Assert.True(owner.EvictCount > 1);
        Assert.Equal(owner.WritebackCount + owner.EvictCount, checks);
        arena.Validate();
    }
}
