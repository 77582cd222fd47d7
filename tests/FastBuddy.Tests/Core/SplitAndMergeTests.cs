using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Splitting a large block down to the requested order, and merging free buddies back up (2.4's expand and __free_pages_ok).</summary>
public sealed unsafe class SplitAndMergeTests
{
    private const int MaxOrder = 11;

    public static TheoryData<int> EveryOrder => new(Enumerable.Range(0, MaxOrder));

    [Theory]
    [MemberData(nameof(EveryOrder))]
    public void AllocOfOrderK_FromOneLargestBlock_LeavesExactlyOneFreeBlockAtEachOrderFromKBelowTheTop(int order)
    {
        using BuddyArena arena = OneLargestBlock(MaxOrder);

        void* block = arena.AllocPages(order, Mechanism);

        Assert.True(block != null);
        long[] expected = new long[MaxOrder];
        for (int j = order; j < MaxOrder - 1; j++)
            expected[j] = 1;
        Assert.Equal(expected, ZoneProbe.StatsFreeBlocks(arena));
        Assert.Equal((1L << (MaxOrder - 1)) - (1L << order), arena.GetStats().FreePages);
        arena.Validate();
    }

    [Theory]
    [MemberData(nameof(EveryOrder))]
    public void AllocOfOrderK_PutsTheBuddyOfTheBlockAtEachOrderOnThatOrdersFreeList(int order)
    {
        using BuddyArena arena = OneLargestBlock(MaxOrder);

        void* block = arena.AllocPages(order, Mechanism);

        Zone zone = arena.Zones[0];
        int page = ZoneProbe.PageOf(arena, block);
        for (int j = order; j < MaxOrder - 1; j++)
        {
            int enclosing = page & ~((1 << j) - 1);
            Assert.Equal(enclosing ^ (1 << j), zone.FreeListHead(j));
        }
        BuddyModel.AssertZoneState(zone, [new PageBlock(page, order)]);
        arena.Validate();
    }

    [Theory]
    [MemberData(nameof(EveryOrder))]
    public void FreeOfOrderK_MergesEveryBuddyBackIntoOneLargestBlock(int order)
    {
        using BuddyArena arena = OneLargestBlock(MaxOrder);
        void* block = arena.AllocPages(order, Mechanism);

        arena.FreePages(block, order);

        long[] expected = new long[MaxOrder];
        expected[MaxOrder - 1] = 1;
        Assert.Equal(expected, ZoneProbe.StatsFreeBlocks(arena));
        Assert.Equal(0, arena.Zones[0].FreeListHead(MaxOrder - 1));
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    [Theory]
    [MemberData(nameof(OrdersBelowTheTop))]
    public void TwoFreedBuddiesOfOrderK_MergeIntoTheirParent(int order)
    {
        // Two largest blocks, so the merge back to two top-order blocks shows the pair went all the way up.
        using BuddyArena arena = SingleZone(2L << (MaxOrder - 1), maxOrder: MaxOrder);
        void* a = arena.AllocPages(order, Mechanism);
        void* b = arena.AllocPages(order, Mechanism); // the smallest sufficient block is a's buddy
        Assert.Equal(1 << order, ZoneProbe.PageOf(arena, a) ^ ZoneProbe.PageOf(arena, b));

        arena.FreePages(a, order);
        Assert.Equal(1, arena.Zones[0].FreeBlocks(order));
        Assert.Equal(ZoneProbe.PageOf(arena, a), arena.Zones[0].FreeListHead(order));
        arena.FreePages(b, order);

        Assert.Equal(ZoneProbe.Counts(MaxOrder, (MaxOrder - 1, 2)), ZoneProbe.StatsFreeBlocks(arena));
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    public static TheoryData<int> OrdersBelowTheTop => new(Enumerable.Range(0, MaxOrder - 1));

    [Fact]
    public void FreedBlockWhoseBuddyIsBusy_StaysAtItsOwnOrder()
    {
        using BuddyArena arena = OneLargestBlock(MaxOrder);
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism);
        Assert.Equal(1, Math.Abs(ZoneProbe.PageOf(arena, a) - ZoneProbe.PageOf(arena, b)));

        arena.FreePages(a, 0);

        Zone zone = arena.Zones[0];
        Assert.Equal(1, zone.FreeBlocks(0));
        Assert.Equal(ZoneProbe.PageOf(arena, a), zone.FreeListHead(0));
        BuddyModel.AssertZoneState(zone, [ZoneProbe.BlockOf(arena, b, 0)]);
        arena.Validate();
    }

    [Fact]
    public void FillingOneLargestBlockPageByPage_SplitsAsTheModelSaysAfterEveryStep()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 8);
        var live = new List<PageBlock>();

        for (int i = 0; i < 1 << 7; i++)
        {
            void* p = arena.AllocPages(0, Mechanism);
            Assert.True(p != null);
            live.Add(ZoneProbe.BlockOf(arena, p, 0));
            BuddyModel.AssertZoneState(arena.Zones[0], live);
        }
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void FreeingAFullySplitBlockPageByPage_MergesAsTheModelSaysAfterEveryStep()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 8);
        var live = new List<PageBlock>();
        var pointers = new List<nint>();
        for (int i = 0; i < 1 << 7; i++)
        {
            void* p = arena.AllocPages(0, Mechanism);
            pointers.Add((nint)p);
            live.Add(ZoneProbe.BlockOf(arena, p, 0));
        }
        var random = new Random(7);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pointers));

        foreach (nint p in pointers)
        {
            arena.FreePages((void*)p, 0);
            live.Remove(ZoneProbe.BlockOf(arena, (void*)p, 0));
            BuddyModel.AssertZoneState(arena.Zones[0], live);
        }
        Assert.Equal(ZoneProbe.Counts(8, (7, 1)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void SmallestSufficientBlockIsSplit_NotALargerOne()
    {
        using BuddyArena arena = OneLargestBlock(MaxOrder);
        void* first = arena.AllocPages(0, Mechanism);   // leaves one free block at each order 0..9
        long[] before = ZoneProbe.StatsFreeBlocks(arena);

        void* second = arena.AllocPages(2, Mechanism);  // must take the free order-2 block, splitting nothing

        long[] expected = (long[])before.Clone();
        expected[2]--;
        Assert.Equal(expected, ZoneProbe.StatsFreeBlocks(arena));
        BuddyModel.AssertZoneState(arena.Zones[0], [ZoneProbe.BlockOf(arena, first, 0), ZoneProbe.BlockOf(arena, second, 2)]);
        arena.Validate();
    }
}
