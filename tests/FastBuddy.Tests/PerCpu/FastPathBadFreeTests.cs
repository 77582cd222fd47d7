using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.PerCpu;

/// <summary>
/// Every bad free through the fast path of the default configuration (magazines on, the thread's own blocks of the
/// first zone): refused with its status in release builds, and nothing changes.
/// </summary>
public sealed unsafe class FastPathBadFreeTests
{
    private static void AssertRefused(BuddyArena arena, FastBuddyStatus status, Action free)
    {
        ArenaStats before = arena.GetStats();
        FastBuddyException e = Assert.Throws<FastBuddyException>(free);
        Assert.Equal(status, e.Status);
        ArenaStats after = arena.GetStats();
        Assert.Equal(before.FreePages, after.FreePages);
        Assert.Equal(before.PerCpuPages, after.PerCpuPages);
    }

    [Fact]
    public void WrongOrder_IsOrderMismatch()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        byte* p = (byte*)arena.AllocPages(2);
        AssertRefused(arena, FastBuddyStatus.OrderMismatch, () => arena.FreePages(p, 1));
        arena.FreePages(p, 2);
        arena.Validate();
    }

    [Fact]
    public void InteriorPage_And_MisalignedPointer_AreNotABlock()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        byte* p = (byte*)arena.AllocPages(2);
        AssertRefused(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(p + arena.PageSize, 0));
        AssertRefused(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(p + 8, 2));
        arena.FreePages(p, 2);
        arena.Validate();
    }

    [Fact]
    public void FreeOfAParkedBlock_IsDoubleFree()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        void* p = arena.AllocPages(0);
        arena.FreePages(p, 0); // parked in this thread's magazine
        Assert.True(arena.GetStats().PerCpuPages > 0);
        AssertRefused(arena, FastBuddyStatus.DoubleFree, () => arena.FreePages(p, 0));
        AssertRefused(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p));
        arena.Validate();
    }

    [Fact]
    public void ForeignPointer_IsNotOwned()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        arena.FreePages(arena.AllocPages(0), 0); // the thread has a magazine here
        byte* foreign = stackalloc byte[16];
        AssertRefused(arena, FastBuddyStatus.NotOwned, () => arena.FreePages(foreign, 0));
        arena.Validate();
    }

    [Fact]
    public void CachedPage_IsBusy()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        void* p = arena.AllocPages(0);
        arena.CacheAdd(p, new RecordingOwner());
        AssertRefused(arena, FastBuddyStatus.Busy, () => arena.FreePages(p, 0));
        Assert.True(arena.CacheRemove(p));
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void ABlockOfAnotherLiveThread_IsFreedOnTheCheckedPath_AndOnlyOnce()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        nint block = 0;
        using var allocated = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var owner = new Thread(() =>
        {
            block = (nint)arena.AllocPages(0);
            allocated.Set();
            done.Wait(TimeSpan.FromSeconds(10)); // alive: its magazine must be shut out for the claim
        });
        owner.Start();
        allocated.Wait();

        arena.FreePages((void*)block, 0);
        AssertRefused(arena, FastBuddyStatus.DoubleFree, () => arena.FreePages((void*)block, 0));

        done.Set();
        owner.Join();
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }
}
