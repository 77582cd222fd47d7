using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Filling a zone completely, then freeing everything: the zone must coalesce back to largest blocks.</summary>
public sealed unsafe class FillAndCoalesceTests
{
    private const int LargestBlocks = 4;
    private const int MaxOrder = 8;
    private const int Pages = LargestBlocks << (MaxOrder - 1);

    private static long[] AllLargest => ZoneProbe.Counts(MaxOrder, (MaxOrder - 1, LargestBlocks));

    private static LiveBlockModel FillWith(BuddyArena arena, Func<int, int> orderOfNth)
    {
        var model = new LiveBlockModel(arena);
        for (int n = 0; ; n++)
        {
            int order = orderOfNth(n);
            void* p = arena.AllocPages(order, Mechanism);
            if (p == null)
            {
                // Fall back to smaller orders until not even one page is left.
                for (order--; order >= 0 && p == null; order--)
                    p = arena.AllocPages(order, Mechanism);
                if (p == null)
                    return model;
                order++;
            }
            model.Add(p, order, Patterns.Seed(0, n));
        }
    }

    [Fact]
    public void FullFillWithSinglePages_ThenFreeingInAllocationOrder_CoalescesBackToLargestBlocks()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        LiveBlockModel model = FillWith(arena, _ => 0);
        Assert.Equal(Pages, model.Count);
        Assert.Equal(new long[MaxOrder], ZoneProbe.StatsFreeBlocks(arena));

        foreach (LiveBlock b in model.Blocks.ToList())
        {
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, 0);
        }

        Assert.Equal(AllLargest, arena.GetStats().Zones[0].FreeBlocks);
        Assert.Equal(Pages, arena.GetStats().FreePages);
        model.AssertArenaMatches();
    }

    [Fact]
    public void FullFillWithSinglePages_ThenFreeingInRandomOrder_CoalescesBackToLargestBlocks()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        LiveBlockModel model = FillWith(arena, _ => 0);
        var random = new Random(2024);

        while (model.Count > 0)
        {
            LiveBlock b = model[random.Next(model.Count)];
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, 0);
        }

        Assert.Equal(AllLargest, arena.GetStats().Zones[0].FreeBlocks);
        model.AssertArenaMatches();
    }

    [Fact]
    public void FullFillWithMixedOrders_ThenFreeingInReverse_CoalescesBackToLargestBlocks()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        var random = new Random(5);
        LiveBlockModel model = FillWith(arena, _ => random.Next(MaxOrder));
        Assert.Equal(0, arena.GetStats().FreePages);
        model.AssertArenaMatches();

        foreach (LiveBlock b in model.Blocks.Reverse().ToList())
        {
            Patterns.AssertIntact((void*)b.Address, arena.BlockBytes(b.Order), b.Seed);
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, b.Order);
        }

        Assert.Equal(AllLargest, arena.GetStats().Zones[0].FreeBlocks);
        model.AssertArenaMatches();
    }

    [Fact]
    public void FullZone_NextAllocationReturnsNull_WithNoMemory_AndCountsOneFailure()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        LiveBlockModel model = FillWith(arena, _ => MaxOrder - 1);
        long failuresBefore = arena.GetStats().Failures;

        void* none = arena.AllocPages(0, Mechanism);

        Assert.True(none == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(failuresBefore + 1, arena.GetStats().Failures);
        model.AssertArenaMatches();
    }

    [Fact]
    public void FreeingOneBlockOfAFullZone_MakesExactlyThatBlockAllocatableAgain()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        LiveBlockModel model = FillWith(arena, _ => 2);
        LiveBlock victim = model[model.Count / 2];
        model.Remove((void*)victim.Address);
        arena.FreePages((void*)victim.Address, 2);

        Assert.True(arena.AllocPages(3, Mechanism) == null);
        void* again = arena.AllocPages(2, Mechanism);

        Assert.Equal(victim.Address, (nint)again);
        model.Add(again, 2, 77);
        model.AssertArenaMatches();
    }

    [Fact]
    public void FullFillOfEveryZone_ThenFreeingEverything_RestoresEveryZone()
    {
        using BuddyArena arena = Zoned(4096, 6, 64, 96 + 5, 32);
        ArenaStats fresh = arena.GetStats();
        LiveBlockModel model = FillWith(arena, n => n % 3);
        Assert.Equal(fresh.TotalPages, model.LivePages);
        Assert.All(arena.GetStats().Zones, z => Assert.Equal(0, z.FreePages));

        foreach (LiveBlock b in model.Blocks.ToList())
        {
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, b.Order);
        }

        ArenaStats after = arena.GetStats();
        for (int z = 0; z < arena.ZoneCount; z++)
            Assert.Equal(fresh.Zones[z].FreeBlocks, after.Zones[z].FreeBlocks);
        model.AssertArenaMatches();
    }
}
