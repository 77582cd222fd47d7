namespace FastBuddy.Tests.PerCpu;

/// <summary>AllocPagesBulk and FreePagesBulk.</summary>
public sealed unsafe class BulkTests
{
    private static BuddyArena NewArena(nuint bytes = 4 << 20) => new(new ArenaOptions { ArenaBytes = bytes, BackgroundReclaim = false });

    [Fact]
    public void AllocPagesBulk_FillsEveryEntry_WithDistinctAlignedPages()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[300];
        Assert.Equal(300, arena.AllocPagesBulk(pages, AllocFlags.Atomic));
        Assert.Equal(300, pages.Distinct().Count());
        Assert.All(pages, p => Assert.Equal(0, p % arena.PageSize));
        Assert.All(pages, p => Assert.True(arena.Owns((void*)p)));
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.FreePagesBulk(pages);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void AllocPagesBulk_WithZero_ZeroesEveryPage()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[64];
        arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        foreach (nint p in pages)
            new Span<byte>((void*)p, arena.PageSize).Fill(0xAB);
        arena.FreePagesBulk(pages);
        Assert.Equal(64, arena.AllocPagesBulk(pages, AllocFlags.Atomic | AllocFlags.Zero));
        foreach (nint p in pages)
            Assert.True(new Span<byte>((void*)p, arena.PageSize).IndexOfAnyExcept((byte)0) < 0);
        arena.FreePagesBulk(pages);
        arena.Validate();
    }

    [Fact]
    public void AllocPagesBulk_ForAnAtomicCaller_StopsAtTheReserveFloor()
    {
        using BuddyArena arena = NewArena(1 << 20); // 256 pages, pages_min 10: the floor is 2
        var pages = new nint[1000];
        int n = arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(256 - 2, n);
        Assert.Equal(0, pages[n]);
        arena.FreePagesBulk(pages.AsSpan(0, n));
        arena.Validate();
    }

    [Fact]
    public void FreePagesBulk_WithADuplicate_FreesNothing()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[8];
        arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        long free = arena.GetStats().FreePages;
        nint[] bad = [.. pages, pages[3]];
        var e = Assert.Throws<FastBuddyException>(() => arena.FreePagesBulk(bad));
        Assert.Equal(FastBuddyStatus.DoubleFree, e.Status);
        Assert.Equal(free, arena.GetStats().FreePages);
        arena.Validate();
        arena.FreePagesBulk(pages);
        arena.Validate();
    }

    [Fact]
    public void FreePagesBulk_WithAForeignPointer_FreesNothing()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[4];
        arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        long free = arena.GetStats().FreePages;
        int local = 0;
        nint[] bad = [pages[0], (nint)(&local), pages[1]];
        Assert.Equal(FastBuddyStatus.NotOwned, Assert.Throws<FastBuddyException>(() => arena.FreePagesBulk(bad)).Status);
        Assert.Equal(free, arena.GetStats().FreePages);
        arena.FreePagesBulk(pages);
        arena.Validate();
    }

    [Fact]
    public void FreePagesBulk_OfAHigherOrderBlock_IsAnOrderMismatch_AndFreesNothing()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[2];
        arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        void* big = arena.AllocPages(2, AllocFlags.Atomic);
        long free = arena.GetStats().FreePages;
        Assert.Equal(FastBuddyStatus.OrderMismatch,
            Assert.Throws<FastBuddyException>(() => arena.FreePagesBulk([pages[0], (nint)big])).Status);
        Assert.Equal(free, arena.GetStats().FreePages);
        arena.FreePagesBulk(pages);
        arena.FreePages(big, 2);
        arena.Validate();
    }

    [Fact]
    public void FreePagesBulk_OfTheThreadsOwnPages_ParksThem_AndAllocPagesBulk_TakesThemBackLatestFirst()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[16];
        Assert.Equal(16, arena.AllocPagesBulk(pages, AllocFlags.Atomic));
        long parked = arena.GetStats().PerCpuPages;

        arena.FreePagesBulk(pages);
        Assert.Equal(parked + 16, arena.GetStats().PerCpuPages);

        var again = new nint[16];
        Assert.Equal(16, arena.AllocPagesBulk(again, AllocFlags.Atomic));
        Assert.Equal(pages.Reverse(), again);
        Assert.Equal(parked, arena.GetStats().PerCpuPages);
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.FreePagesBulk(again);
        arena.Validate();
    }

    [Fact]
    public void FreePagesBulk_RejectedAtItsLastEntry_LeavesEveryEarlierPageAllocatedToItsThread()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[32];
        arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        nint[] bad = [.. pages, pages[0] + 8]; // the pages would all park; the interior pointer at the end undoes that

        Assert.Equal(FastBuddyStatus.NotABlock, Assert.Throws<FastBuddyException>(() => arena.FreePagesBulk(bad)).Status);

        foreach (nint p in pages) // each is still a live order-0 page of this thread: a single free takes it
            arena.FreePages((void*)p, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void FreePagesBulk_OfPagesAnotherThreadAllocated_FreesThemAll()
    {
        using BuddyArena arena = NewArena();
        var pages = new nint[24];
        var other = new Thread(() => arena.AllocPagesBulk(pages, AllocFlags.Atomic));
        other.Start();
        other.Join();

        arena.FreePagesBulk(pages); // not this thread's: the checked path claims each

        Assert.Equal(FastBuddyStatus.DoubleFree, Assert.Throws<FastBuddyException>(() => arena.FreePages((void*)pages[5], 0)).Status);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void FreePagesBulk_OfNothing_DoesNothing()
    {
        using BuddyArena arena = NewArena();
        arena.FreePagesBulk([]);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }
}
