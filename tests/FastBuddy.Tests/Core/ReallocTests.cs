using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Realloc keeps the data: grows in place when the buddies are free, moves otherwise, shrinks in place.</summary>
public sealed unsafe class ReallocTests
{
    private const int Page = 4096;

    [Fact]
    public void ReallocGrow_WhenTheBuddyIsFree_GrowsInPlaceAndKeepsTheData()
    {
        using BuddyArena arena = SingleZone(2, maxOrder: 2);
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism);
        void* lower = (nint)a < (nint)b ? a : b;
        void* upper = lower == a ? b : a;
        arena.FreePages(upper, 0);
        Patterns.Fill(lower, Page, 1);

        void* grown = arena.Realloc(lower, 2 * Page, Mechanism);

        Assert.True(grown == lower);
        Assert.Equal((nuint)(2 * Page), arena.UsableSize(grown));
        Patterns.AssertIntact(grown, Page, 1);
        Assert.Equal(0, arena.GetStats().FreePages);
        BuddyModel.AssertZoneState(arena.Zones[0], [ZoneProbe.BlockOf(arena, grown, 1)]);
        arena.Validate();
    }

    [Fact]
    public void ReallocGrow_AcrossSeveralOrders_StaysInPlace_WhenEveryUpperBuddyIsFree()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 5);
        void* p = arena.AllocPages(4, Mechanism);
        // Shrink to the smallest block above SmallMax (6 KiB here; anything smaller moves into an object): two
        // pages, after which pages 2-3, 4-7 and 8-15 are free.
        Assert.True((nuint)arena.SmallMax + 1 > Page);
        Assert.True(arena.Realloc(p, (nuint)arena.SmallMax + 1, Mechanism) == p);
        Assert.Equal((nuint)(2 * Page), arena.UsableSize(p));
        Patterns.Fill(p, 2 * Page, 2);

        void* grown = arena.Realloc(p, 16 * Page, Mechanism);

        Assert.True(grown == p);
        Assert.Equal((nuint)(16 * Page), arena.UsableSize(grown));
        Patterns.AssertIntact(grown, 2 * Page, 2);
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void ReallocGrow_WhenTheBuddyIsBusy_MovesAndKeepsTheData()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism);
        Assert.Equal(1, ZoneProbe.PageOf(arena, a) ^ ZoneProbe.PageOf(arena, b));
        Patterns.Fill(a, Page, 3);
        Patterns.Fill(b, Page, 4);

        void* moved = arena.Realloc(a, 2 * Page, Mechanism);

        Assert.True(moved != null && moved != a);
        Assert.Equal((nuint)(2 * Page), arena.UsableSize(moved));
        Patterns.AssertIntact(moved, Page, 3);
        Patterns.AssertIntact(b, Page, 4);
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(a)); // the old block was freed
        Assert.Equal(8 - 1 - 2, arena.GetStats().FreePages);
        BuddyModel.AssertZoneState(arena.Zones[0], [ZoneProbe.BlockOf(arena, b, 0), ZoneProbe.BlockOf(arena, moved, 1)]);
        arena.Validate();
    }

    [Fact]
    public void ReallocShrink_StaysInPlace_KeepsTheData_AndFreesTheTail()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* p = arena.AllocPages(3, Mechanism);
        Patterns.Fill(p, 8 * Page, 5);

        void* shrunk = arena.Realloc(p, 3 * Page, Mechanism);

        Assert.True(shrunk == p);
        Assert.Equal((nuint)(4 * Page), arena.UsableSize(shrunk));
        Patterns.AssertIntact(shrunk, 3 * Page, 5);
        Assert.Equal(4, arena.GetStats().FreePages);
        Assert.Equal(ZoneProbe.Counts(4, (2, 1)), ZoneProbe.StatsFreeBlocks(arena));
        BuddyModel.AssertZoneState(arena.Zones[0], [ZoneProbe.BlockOf(arena, shrunk, 2)]);
        arena.Validate();
    }

    [Fact]
    public void ReallocWithinTheSameBlockSize_ReturnsTheSamePointer_AndChangesNothing()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* p = arena.Alloc(3 * Page, Mechanism);
        Patterns.Fill(p, 4 * Page, 6);
        string before = ArenaState.Describe(arena);

        void* same = arena.Realloc(p, 4 * Page - 1, Mechanism);

        Assert.True(same == p);
        Assert.Equal(before, ArenaState.Describe(arena));
        Patterns.AssertIntact(same, 4 * Page, 6);
        arena.Validate();
    }

    [Fact]
    public void ReallocOfNull_Allocates()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);

        void* p = arena.Realloc(null, 5000, Mechanism);

        Assert.True(p != null);
        Assert.Equal((nuint)(2 * Page), arena.UsableSize(p));
        Assert.Equal(6, arena.GetStats().FreePages);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void ReallocToZero_FreesTheBlock_AndReturnsNull()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* p = arena.Alloc(Page, Mechanism);
        long frees = arena.GetStats().Frees;

        void* result = arena.Realloc(p, 0, Mechanism);

        Assert.True(result == null);
        Assert.Equal(8, arena.GetStats().FreePages);
        Assert.Equal(frees + 1, arena.GetStats().Frees);
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p));
        arena.Validate();
    }

    [Fact]
    public void ReallocOfNullToZero_ReturnsNull_AndAllocatesNothing()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        string before = ArenaState.Describe(arena);

        void* result = arena.Realloc(null, 0, Mechanism);

        Assert.True(result == null);
        Assert.Equal(before, ArenaState.Describe(arena));
        arena.Validate();
    }

    [Fact]
    public void ReallocGrow_WhenNothingFits_ReturnsNull_AndLeavesTheBlockIntact()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism); // a's buddy
        void* c = arena.AllocPages(2, Mechanism); // no order-2 block is left
        Patterns.Fill(a, Page, 8);
        long[] blocksBefore = ZoneProbe.StatsFreeBlocks(arena);
        Assert.Equal(2, arena.GetStats().FreePages);

        void* result = arena.Realloc(a, 4 * Page, Mechanism);

        Assert.True(result == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Patterns.AssertIntact(a, Page, 8);
        Assert.Equal((nuint)Page, arena.UsableSize(a));
        Assert.Equal(2, arena.GetStats().FreePages);
        Assert.Equal(blocksBefore, ZoneProbe.StatsFreeBlocks(arena));
        arena.FreePages(a, 0);
        arena.FreePages(b, 0);
        arena.FreePages(c, 2);
        Assert.Equal(ZoneProbe.Counts(4, (3, 1)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    private static BuddyArena ArenaWithAReserveOfEightPages()
    {
        // 16 pages with pages_min = low = high = 8: the last quarter of the reserve is pages_min / 4 = 2 pages.
        ArenaOptions options = Options(maxOrder: 5);
        options.Zones.Add(new ZoneOptions("Normal", 16 * Page) { PagesMin = 8, PagesLow = 8, PagesHigh = 8 });
        return new BuddyArena(options);
    }

    [Fact]
    public void ReallocGrowInPlace_ByANonMemAllocCaller_NeverTakesTheLastQuarterOfTheReserve()
    {
        using BuddyArena arena = ArenaWithAReserveOfEightPages();
        void* p = arena.AllocPages(3, AllocFlags.Atomic);
        Assert.True(p != null);
        Patterns.Fill(p, 8 * Page, 9);
        Assert.Equal(8, arena.GetStats().FreePages);
        Assert.True(arena.AllocPages(3, AllocFlags.Atomic) == null, "AllocPages refuses to go below the floor");

        void* grown = arena.Realloc(p, 16 * Page, AllocFlags.Atomic);

        // Growing by 8 pages would leave 0 free pages, below pages_min / 4: only MemAlloc callers may do that.
        Assert.True(arena.GetStats().FreePages >= 2, $"a non-MemAlloc Realloc left {arena.GetStats().FreePages} free pages");
        Assert.True(grown == null);
        Patterns.AssertIntact(p, 8 * Page, 9);
        Assert.Equal((nuint)(8 * Page), arena.UsableSize(p));
        arena.Validate();
    }

    [Fact]
    public void ReallocGrowInPlace_ByAMemAllocCaller_MayTakeTheWholeReserve()
    {
        using BuddyArena arena = ArenaWithAReserveOfEightPages();
        void* p = arena.AllocPages(3, AllocFlags.Atomic);
        Assert.Equal(0, ZoneProbe.PageOf(arena, p));
        Patterns.Fill(p, 8 * Page, 10);

        void* grown = arena.Realloc(p, 16 * Page, AllocFlags.MemAlloc);

        Assert.True(grown == p);
        Patterns.AssertIntact(grown, 8 * Page, 10);
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Theory]
    [InlineData(2)] // shrink in place
    [InlineData(1)] // same order: nothing to do
    [InlineData(0)] // free
    public void Realloc_WithUnknownFlagBits_IsInvalidArgument_EvenWhenItNeedsNoAllocation(int pages)
    {
        using BuddyArena arena = SingleZone(8, maxOrder: 3);
        void* p = arena.AllocPages(2, Mechanism);
        Patterns.Fill(p, 4 * Page, 11);
        long free = arena.GetStats().FreePages;

        var e = Assert.Throws<FastBuddyException>(() => arena.Realloc(p, (nuint)(pages * Page), (AllocFlags)0x1000));

        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
        Assert.Equal((nuint)(4 * Page), arena.UsableSize(p));
        Patterns.AssertIntact(p, 4 * Page, 11);
        Assert.Equal(free, arena.GetStats().FreePages);
        arena.Validate();
    }
}
