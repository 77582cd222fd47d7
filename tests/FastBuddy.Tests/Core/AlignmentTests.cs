using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Every block of order k is aligned to PageSize &lt;&lt; k in absolute addresses.</summary>
public sealed unsafe class AlignmentTests
{
    public static TheoryData<int> EveryOrder => new(Enumerable.Range(0, 11));

    [Theory]
    [MemberData(nameof(EveryOrder))]
    public void EveryBlockOfOrderK_IsAlignedToItsOwnSize_UntilTheZoneIsFull(int order)
    {
        using BuddyArena arena = SingleZone(4 << 10);
        var model = new LiveBlockModel(arena); // checks alignment, bounds and overlap of every block
        nuint size = arena.BlockBytes(order);

        void* p;
        while ((p = arena.AllocPages(order, Mechanism)) != null)
        {
            Assert.Equal((nuint)0, (nuint)p % size);
            model.Add(p, order, 0);
        }

        Assert.Equal((4 << 10) >> order, model.Count);
        Assert.Equal(0, arena.GetStats().FreePages);
        foreach (LiveBlock b in model.Blocks.ToList())
            arena.FreePages((void*)b.Address, b.Order);
        arena.Validate();
    }

    [Theory]
    [InlineData(64, 11)]
    [InlineData(1024, 8)]
    [InlineData(65536, 5)]
    [InlineData(1 << 20, 3)]
    public void BlocksOfEveryOrder_AreAlignedToTheirSize_ForEveryPageSize(int pageSize, int maxOrder)
    {
        using BuddyArena arena = SingleZone(6L << (maxOrder - 1), pageSize, maxOrder);
        var model = new LiveBlockModel(arena);

        for (int round = 0; round < 3; round++)
        {
            for (int order = maxOrder - 1; order >= 0; order--)
            {
                void* p = arena.AllocPages(order, Mechanism);
                Assert.True(p != null, $"order {order}");
                Assert.Equal((nuint)0, (nuint)p % ((nuint)pageSize << order));
                model.Add(p, order, 0);
            }
        }
        model.AssertArenaMatches();
    }

    [Fact]
    public void EveryZoneBase_IsAlignedToTheLargestBlock()
    {
        using BuddyArena arena = Zoned(4096, 11, 1024, 3000, 2048);
        nuint largest = arena.BlockBytes(10);

        foreach (Zone zone in arena.Zones)
            Assert.Equal((nuint)0, (nuint)zone.Base % largest);
        arena.Validate();
    }

    [Fact]
    public void TailBlocksOfAnOddSizedZone_AreAlignedToTheirSize()
    {
        using BuddyArena arena = SingleZone(1024 + 512 + 64 + 7);
        var model = new LiveBlockModel(arena);

        foreach (int order in new[] { 10, 9, 6, 2, 1, 0 })
        {
            void* p = arena.AllocPages(order, Mechanism);
            Assert.True(p != null);
            Assert.Equal((nuint)0, (nuint)p % arena.BlockBytes(order));
            model.Add(p, order, 0);
        }
        model.AssertArenaMatches();
    }
}
