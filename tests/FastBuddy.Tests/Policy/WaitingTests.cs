using System.Diagnostics;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Waiting single-page requests (docs/design.md, "Waiting"): they stop at pages_min without cache pages, an Fs
/// caller waits for frees until AllocWaitTimeout, a caller without Fs fails at once, Io/Fs without Wait mean nothing.
/// </summary>
public sealed unsafe class WaitingTests
{
    [Fact]
    public void WaitingCallerWithoutCachePages_StopsAtExactlyPagesMin()
    {
        using BuddyArena arena = Create();
        int served = 0;
        while (arena.AllocPages(0, AllocFlags.NoFs) != null)
            served++;

        // Steps 2-4 qualify while free > min; a waiting single page never reaches step 6.
        Assert.Equal(Pages - Min, served);
        Assert.Equal(Min, ArenaState.Free(arena));
        Assert.Equal(StepCounts.Of(fastPath: 225, min: 15, failed: 1), StepCounts.Read(arena));
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void KernelCallerWithoutCachePages_StopsAtPagesMinAfterWaiting()
    {
        using BuddyArena arena = Create(allocWait: TimeSpan.FromMilliseconds(20));
        ArenaState.DrainTo(arena, Min + 1);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);
        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) == null);

        Assert.Equal(Min, ArenaState.Free(arena));
        Assert.Equal(StepCounts.Of(min: 1, failed: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void FsCaller_WaitIsBoundedByAllocWaitTimeout()
    {
        using BuddyArena arena = Create(allocWait: TimeSpan.FromMilliseconds(100));
        ArenaState.DrainTo(arena, Min);
        var clock = Stopwatch.StartNew();

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        clock.Stop();
        Assert.True(p == null);
        Assert.True(clock.ElapsedMilliseconds >= 95, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.True(clock.ElapsedMilliseconds < 1500, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void FsCaller_WithAZeroTimeout_FailsAtOnce()
    {
        using BuddyArena arena = Create(allocWait: TimeSpan.Zero);
        ArenaState.DrainTo(arena, Min);
        var clock = Stopwatch.StartNew();

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) == null);

        Assert.True(clock.ElapsedMilliseconds < 500, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void FsCaller_IsWokenByAFreeFromAnotherThreadBeforeItsDeadline()
    {
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        List<nint> held = ArenaState.DrainTo(arena, Min);
        var freer = new Thread(() =>
        {
            Thread.Sleep(100);
            arena.FreePages((void*)held[0], 0);
        });
        var clock = Stopwatch.StartNew();
        freer.Start();

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        clock.Stop();
        freer.Join();
        Assert.True(p != null);
        Assert.True(clock.ElapsedMilliseconds < 2000, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(Min, ArenaState.Free(arena));
        arena.Validate();
    }

    [Theory]
    [InlineData(AllocFlags.NoFs)]
    [InlineData(AllocFlags.NoIo)]
    public void CallerWithoutFs_FailsAtOnceWithoutWaiting(AllocFlags flags)
    {
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        ArenaState.DrainTo(arena, Min);
        var clock = Stopwatch.StartNew();

        void* p = arena.AllocPages(0, flags);

        clock.Stop();
        Assert.True(p == null);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void IoAndFsWithoutWait_AreIgnored_TheCallerIsAtomic()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        ArenaState.MakeDirtyInactive(arena, owner, 8);
        ArenaState.DrainTo(arena, Min);
        StepCounts before = StepCounts.Read(arena);
        var clock = Stopwatch.StartNew();

        // Like Atomic: no step 5 (no Writeback, no wait), the final phase down to the floor, then at once null.
        int served = 0;
        while (arena.AllocPages(0, AllocFlags.Io | AllocFlags.Fs) != null)
            served++;

        clock.Stop();
        Assert.Equal(Min - Floor, served);
        Assert.Equal(StepCounts.Of(finalPhase: Min - Floor, failed: 1), StepCounts.Read(arena) - before);
        Assert.True(clock.ElapsedMilliseconds < 1000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(0, owner.WritebackCount);
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }

    /// <summary>
    /// A free that happens while the caller runs its own step-5 pass (here: from another thread, during an owner's
    /// Writeback) must not be lost: the page is free, so the caller must get it rather than wait out its deadline
    /// and fail. (Every free wakes waiters; a waiter must not miss a free that raced with its going to sleep.)
    /// </summary>
    [Fact]
    public void FsCaller_FreeFromAnotherThreadDuringItsOwnPass_IsNotLost()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(allocWait: TimeSpan.FromMilliseconds(1500));
        ArenaState.MakeDirtyInactive(arena, owner, 4);
        List<nint> held = ArenaState.DrainTo(arena, Min);
        int freed = 0;
        owner.OnWriteback = _ =>
        {
            if (Interlocked.Exchange(ref freed, 1) == 0)
            {
                var freer = new Thread(() => arena.FreePages((void*)held[0], 0));
                freer.Start();
                freer.Join();
            }
            return false; // the pass itself makes no progress
        };
        var clock = Stopwatch.StartNew();

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        clock.Stop();
        Assert.Equal(1, freed);
        Assert.True(p != null, $"null after {clock.ElapsedMilliseconds} ms although {ArenaState.Free(arena)} pages are free (pages_min {Min})");
        Assert.True(clock.ElapsedMilliseconds < 1000, $"returned after {clock.ElapsedMilliseconds} ms");
        arena.Validate();
    }
}
