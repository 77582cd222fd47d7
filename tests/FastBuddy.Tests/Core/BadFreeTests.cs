using System.Runtime.InteropServices;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// Bad frees (docs/design.md, "Bad input and the edges"): each is refused with its own status, touches no list, and leaves Validate passing and
/// every count unchanged.
/// </summary>
public sealed unsafe class BadFreeTests
{
    private static BuddyArena NewArena() => SingleZone(256, maxOrder: 6);

    [Fact]
    public void FreeOfAForeignPointer_IsNotOwned_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* live = arena.AllocPages(1, Mechanism);
        void* foreign = NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.FreePages(foreign, 0));
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.Free(foreign));
        }
        finally
        {
            NativeMemory.AlignedFree(foreign);
        }
        arena.FreePages(live, 1);
        arena.Validate();
    }

    [Fact]
    public void FreeOfABlockOfAnotherArena_IsNotOwned_AndChangesBothArenasNot()
    {
        using BuddyArena arena = NewArena();
        using BuddyArena other = NewArena();
        void* theirs = other.AllocPages(0, Mechanism);
        string otherBefore = ArenaState.Describe(other);

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.FreePages(theirs, 0));

        Assert.Equal(otherBefore, ArenaState.Describe(other));
        other.FreePages(theirs, 0);
        other.Validate();
        arena.Validate();
    }

    [Fact]
    public void FreeOfThePointerJustPastTheZonesEnd_IsNotOwned_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* end = (void*)arena.Zones[0].End;

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.FreePages(end, 0));
    }

    [Fact]
    public void FreeOfAnInteriorPagePointer_IsNotABlock_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        byte* block = (byte*)arena.AllocPages(2, Mechanism);

        for (int page = 1; page < 4; page++)
        {
            byte* interior = block + page * arena.PageSize;
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(interior, 0));
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(interior, 2));
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(interior));
        }
        arena.FreePages(block, 2);
        arena.Validate();
    }

    [Fact]
    public void FreeOfAMisalignedPointer_IsNotABlock_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        byte* block = (byte*)arena.AllocPages(0, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(block + 1, 0));
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(block + arena.PageSize / 2, 0));
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(block + 8));
        arena.FreePages(block, 0);
        arena.Validate();
    }

    [Fact]
    public void FreeOfAPointerInsideAFreeBlock_IsNotABlock_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        byte* zone = (byte*)arena.Zones[0].Base;

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(zone + 3 * arena.PageSize, 0));
    }

    [Fact]
    public void DoubleFree_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* keep = arena.AllocPages(0, Mechanism);
        void* block = arena.AllocPages(3, Mechanism);
        arena.FreePages(block, 3);

        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.FreePages(block, 3));
        arena.FreePages(keep, 0);
        arena.Validate();
    }

    [Fact]
    public void DoubleFreeOfABlockThatMergedWithItsBuddy_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism);
        Assert.Equal(1, ZoneProbe.PageOf(arena, a) ^ ZoneProbe.PageOf(arena, b));
        void* upper = ZoneProbe.PageOf(arena, a) > ZoneProbe.PageOf(arena, b) ? a : b;
        void* lower = upper == a ? b : a;
        arena.FreePages(upper, 0);
        arena.FreePages(lower, 0); // merges: the upper page is now inside a free block, the lower one heads it

        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.FreePages(upper, 0));
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.FreePages(lower, 0));
        Assert.Equal(256, arena.GetStats().FreePages);
    }

    [Fact]
    public void DoubleFreeThroughFree_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(3000, Mechanism);
        arena.Free(p);

        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p));
    }

    [Fact]
    public void FreeWithASmallerOrderThanAllocated_IsOrderMismatch_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* block = arena.AllocPages(3, Mechanism);

        for (int wrong = 0; wrong < 3; wrong++)
            ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.FreePages(block, wrong));
        arena.FreePages(block, 3);
        arena.Validate();
    }

    [Fact]
    public void FreeWithALargerOrderThanAllocated_IsOrderMismatch_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* block = arena.AllocPages(1, Mechanism);

        for (int wrong = 2; wrong < arena.MaxOrder; wrong++)
            ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.FreePages(block, wrong));
        arena.FreePages(block, 1);
        arena.Validate();
    }

    [Theory]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(int.MaxValue)]
    public void FreePagesWithAnOrderAtOrAboveMaxOrder_IsInvalidArgument_AndChangesNothing(int order)
    {
        using BuddyArena arena = NewArena();
        void* block = arena.AllocPages(5, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.FreePages(block, order));
        arena.FreePages(block, 5);
        arena.Validate();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void FreePagesWithANegativeOrder_IsInvalidArgument_AndChangesNothing(int order)
    {
        using BuddyArena arena = NewArena();
        void* block = arena.AllocPages(0, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.FreePages(block, order));
        arena.FreePages(block, 0);
        arena.Validate();
    }

    [Fact]
    public void UsableSizeOfAnInteriorPointer_IsNotABlock_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        byte* block = (byte*)arena.AllocPages(2, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.UsableSize(block + arena.PageSize));
        arena.FreePages(block, 2);
        arena.Validate();
    }

    [Fact]
    public void ReallocOfAFreedBlock_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* keep = arena.AllocPages(0, Mechanism);
        void* p = arena.Alloc(100, Mechanism);
        arena.Free(p);

        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Realloc(p, 8192, Mechanism));
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Realloc(p, 0, Mechanism));
        arena.FreePages(keep, 0);
        arena.Validate();
    }

    [Fact]
    public void ReallocOfAForeignPointer_IsNotOwned_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* foreign = NativeMemory.Alloc(64);
        try
        {
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.Realloc(foreign, 4096, Mechanism));
        }
        finally
        {
            NativeMemory.Free(foreign);
        }
    }

    [Fact]
    public void DoubleFreeOfABlockParkedInAPerCpuList_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = SingleZone(4096, maxOrder: 11, perCpuLists: true);
        void* keep = arena.AllocPages(0, Mechanism);
        void* p = arena.AllocPages(0, Mechanism);
        arena.FreePages(p, 0);
        ArenaStats parked = arena.GetStats();
        Assert.True(parked.PerCpuPages > 0, "the freed page should be parked in this thread's per-CPU list");
        string before = ArenaState.Describe(arena);

        FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.FreePages(p, 0));
        Assert.Equal(FastBuddyStatus.DoubleFree, ex.Status);
        FastBuddyException again = Assert.Throws<FastBuddyException>(() => arena.Free(p));
        Assert.Equal(FastBuddyStatus.DoubleFree, again.Status);

        Assert.Equal(before, ArenaState.Describe(arena));
        arena.FreePages(keep, 0);
        arena.Validate();
        Assert.Equal(4096, arena.GetStats().FreePages);
    }
}
