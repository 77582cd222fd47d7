using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// The 2.4 merge bitmap: one bit per buddy pair and order below the top, equal to "exactly one of the pair is a free
/// block of that order". It is toggled when either buddy enters or leaves the free area.
/// </summary>
public sealed unsafe class MergeBitmapTests
{
    [Fact]
    public void FreshZoneOfLargestBlocks_HasEveryMergeBitClear()
    {
        using BuddyArena arena = SingleZone(4 << 6, maxOrder: 7);
        Zone zone = arena.Zones[0];

        for (int order = 0; order < zone.MaxOrder - 1; order++)
        {
            for (int page = 0; page < zone.Pages; page += 2 << order)
                Assert.False(zone.BitmapBit(page, order), $"bit of page {page} order {order}");
        }
        arena.Validate();
    }

    [Fact]
    public void MergeBits_FollowEveryStepOfASplitAndItsMerge()
    {
        // One block of 8 pages (orders 0..3; order 3 is the top and has no bitmap).
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        Zone zone = arena.Zones[0];

        void* a = arena.AllocPages(0, Mechanism);
        int pa = ZoneProbe.PageOf(arena, a);
        // Split 8 -> 4+4 -> 2+2 -> 1+1: at each order one buddy is free and the other busy.
        Assert.True(zone.BitmapBit(pa, 0));
        Assert.True(zone.BitmapBit(pa, 1));
        Assert.True(zone.BitmapBit(pa, 2));

        void* b = arena.AllocPages(0, Mechanism);
        Assert.Equal(pa ^ 1, ZoneProbe.PageOf(arena, b));
        // Both order-0 buddies busy: the order-0 bit is clear again; the higher pairs still have one free half.
        Assert.False(zone.BitmapBit(pa, 0));
        Assert.True(zone.BitmapBit(pa, 1));
        Assert.True(zone.BitmapBit(pa, 2));

        arena.FreePages(a, 0);
        // a free, b busy: no merge, the order-0 bit is set.
        Assert.True(zone.BitmapBit(pa, 0));
        Assert.Equal([1L, 1L, 1L, 0L], ZoneProbe.StatsFreeBlocks(arena));

        arena.FreePages(b, 0);
        // b's free toggles the bit to 0 (merge), then order 1 and order 2 toggle to 0 too: one order-3 block.
        Assert.False(zone.BitmapBit(pa, 0));
        Assert.False(zone.BitmapBit(pa, 1));
        Assert.False(zone.BitmapBit(pa, 2));
        Assert.Equal([0L, 0L, 0L, 1L], ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void MergeBit_IsSetWhileExactlyOneBuddyIsFree_AndClearWhenBothAreBusy()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 6);
        Zone zone = arena.Zones[0];
        void* a = arena.AllocPages(2, Mechanism);
        void* b = arena.AllocPages(2, Mechanism);
        int pa = ZoneProbe.PageOf(arena, a);
        Assert.Equal(pa ^ 4, ZoneProbe.PageOf(arena, b));
        Assert.False(zone.BitmapBit(pa, 2));

        arena.FreePages(b, 2);
        Assert.True(zone.BitmapBit(pa, 2));

        void* again = arena.AllocPages(2, Mechanism);
        Assert.True(again == b);
        Assert.False(zone.BitmapBit(pa, 2));
        BuddyModel.AssertZoneState(zone, [new PageBlock(pa, 2), ZoneProbe.BlockOf(arena, again, 2)]);
        arena.Validate();
    }

    [Fact]
    public void MergeBits_MatchTheModel_AfterEveryStepOfAMixedSequence()
    {
        using BuddyArena arena = SingleZone(3 << 5, maxOrder: 6);
        var model = new LiveBlockModel(arena);
        var random = new Random(1234);

        for (int step = 0; step < 400; step++)
        {
            if (model.Count > 0 && random.Next(3) == 0)
            {
                LiveBlock victim = model[random.Next(model.Count)];
                model.Remove((void*)victim.Address);
                arena.FreePages((void*)victim.Address, victim.Order);
            }
            else
            {
                int order = random.Next(6);
                void* p = arena.AllocPages(order, Mechanism);
                if (p != null)
                    model.Add(p, order, 0);
            }
            BuddyModel.AssertArenaState(arena, model.Intervals);
        }
        arena.Validate();
    }
}
