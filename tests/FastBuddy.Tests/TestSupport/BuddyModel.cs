using FastBuddy.Buddy;

namespace FastBuddy.Tests.TestSupport;

/// <summary>
/// An independent model of a zone's free areas under eager coalescing: given the live blocks, the free blocks are
/// the largest size-aligned blocks that lie wholly inside the zone and hold no live page (a whole free pair always
/// merges, so it never appears as two blocks), and every merge-bitmap bit is the XOR of its two buddies being free
/// heads at that order.
/// </summary>
internal static class BuddyModel
{
    /// <summary>The free blocks a zone of <paramref name="pages"/> pages must hold when <paramref name="live"/> are allocated.</summary>
    public static List<PageBlock> ExpectedFreeBlocks(int pages, int maxOrder, IEnumerable<PageBlock> live)
    {
        var busyPrefix = new int[pages + 1];
        var busy = new bool[pages];
        foreach (PageBlock block in live)
        {
            for (int p = block.Page; p < block.End; p++)
            {
                Assert.True(p < pages, $"Live block {block} reaches past the zone's {pages} pages.");
                Assert.False(busy[p], $"Live blocks overlap at page {p}.");
                busy[p] = true;
            }
        }
        for (int p = 0; p < pages; p++)
            busyPrefix[p + 1] = busyPrefix[p] + (busy[p] ? 1 : 0);

        var result = new List<PageBlock>();
        int top = maxOrder - 1;
        for (long start = 0; start < pages; start += 1L << top)
            Decompose((int)start, top);
        return result;

        void Decompose(int page, int order)
        {
            if (page >= pages)
                return;
            int size = 1 << order;
            if ((long)page + size <= pages && busyPrefix[page + size] - busyPrefix[page] == 0)
            {
                result.Add(new PageBlock(page, order));
                return;
            }
            if (order == 0)
                return;
            Decompose(page, order - 1);
            Decompose(page + (size >> 1), order - 1);
        }
    }

    /// <summary>Counts per order of <paramref name="blocks"/>.</summary>
    public static long[] CountPerOrder(IEnumerable<PageBlock> blocks, int maxOrder)
    {
        var counts = new long[maxOrder];
        foreach (PageBlock b in blocks)
            counts[b.Order]++;
        return counts;
    }

    /// <summary>
    /// Checks a zone against the model: free block counts per order, the free page counter, every merge-bitmap bit
    /// below the top order, and that each non-empty free list starts at one of the expected free blocks.
    /// </summary>
    public static void AssertZoneState(Zone zone, IEnumerable<PageBlock> live)
    {
        List<PageBlock> expected = ExpectedFreeBlocks(zone.Pages, zone.MaxOrder, live);
        var freeHeads = new HashSet<PageBlock>(expected);

        Assert.Equal(CountPerOrder(expected, zone.MaxOrder), ZoneProbe.FreeBlocks(zone));
        Assert.Equal(expected.Sum(b => (long)b.Pages), zone.FreePages);

        for (int order = 0; order < zone.MaxOrder; order++)
        {
            int head = zone.FreeListHead(order);
            if (zone.FreeBlocks(order) == 0)
                Assert.Equal(PageList.Nil, head);
            else
                Assert.Contains(new PageBlock(head, order), freeHeads);
        }

        for (int order = 0; order < zone.MaxOrder - 1; order++)
        {
            for (long left = 0; left < zone.Pages; left += 2L << order)
            {
                int right = (int)left + (1 << order);
                bool expectedBit = freeHeads.Contains(new PageBlock((int)left, order)) ^ freeHeads.Contains(new PageBlock(right, order));
                Assert.True(expectedBit == zone.BitmapBit((int)left, order),
                    $"Zone {zone.Name}: merge bit of the pair at page {left}, order {order} is {zone.BitmapBit((int)left, order)}, expected {expectedBit}.");
            }
        }
    }

    /// <summary>Checks every zone of <paramref name="arena"/> against the model for the live blocks (address, order).</summary>
    public static unsafe void AssertArenaState(BuddyArena arena, IEnumerable<(nint Address, int Order)> live)
    {
        var perZone = new List<PageBlock>[arena.ZoneCount];
        for (int i = 0; i < perZone.Length; i++)
            perZone[i] = [];
        foreach ((nint address, int order) in live)
        {
            int zone = ZoneProbe.ZoneIndexOf(arena, (void*)address);
            Assert.True(zone >= 0, $"Live block 0x{address:x} lies in no zone.");
            perZone[zone].Add(ZoneProbe.BlockOf(arena, (void*)address, order));
        }
        for (int i = 0; i < perZone.Length; i++)
            AssertZoneState(arena.Zones[i], perZone[i]);
    }

    /// <summary>
    /// The zone an allocation of <paramref name="order"/> from zonelist <paramref name="zonelist"/> must come from when the
    /// policy is out of the way: the first zone of the zonelist (zonelist, zonelist-1, ..., 0) that holds a free block
    /// of at least that order; -1 when none does.
    /// </summary>
    public static int FirstZoneWithBlock(BuddyArena arena, int zonelist, int order, IEnumerable<(nint Address, int Order)> live)
    {
        for (int z = zonelist; z >= 0; z--)
        {
            Zone zone = arena.Zones[z];
            var inZone = new List<PageBlock>();
            foreach ((nint address, int o) in live)
            {
                if (address >= zone.Base && address < zone.End)
                    inZone.Add(new PageBlock((int)((address - zone.Base) >> zone.PageShift), o));
            }
            if (ExpectedFreeBlocks(zone.Pages, zone.MaxOrder, inZone).Any(b => b.Order >= order))
                return z;
        }
        return -1;
    }
}
