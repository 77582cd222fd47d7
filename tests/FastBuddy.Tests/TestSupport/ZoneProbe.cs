using FastBuddy.Buddy;

namespace FastBuddy.Tests.TestSupport;

/// <summary>A block as the buddy system sees it: a page index within its zone and an order.</summary>
internal readonly record struct PageBlock(int Page, int Order)
{
    public int Pages => 1 << Order;
    public int End => Page + Pages;
    public override string ToString() => $"page {Page} order {Order}";
}

/// <summary>Maps pointers to zones and pages through the internals the test assembly can see.</summary>
internal static unsafe class ZoneProbe
{
    /// <summary>Index of the zone holding <paramref name="p"/>, or -1.</summary>
    public static int ZoneIndexOf(BuddyArena arena, void* p)
    {
        ReadOnlySpan<Zone> zones = arena.Zones;
        for (int i = 0; i < zones.Length; i++)
        {
            if ((nint)p >= zones[i].Base && (nint)p < zones[i].End)
                return i;
        }
        return -1;
    }

    /// <summary>The zone holding <paramref name="p"/>; fails the test when there is none.</summary>
    public static Zone ZoneOf(BuddyArena arena, void* p)
    {
        int index = ZoneIndexOf(arena, p);
        Assert.True(index >= 0, $"0x{(nint)p:x} lies in no zone of the arena.");
        return arena.Zones[index];
    }

    /// <summary>Page index of <paramref name="p"/> within its zone.</summary>
    public static int PageOf(BuddyArena arena, void* p)
    {
        Zone zone = ZoneOf(arena, p);
        return (int)(((nint)p - zone.Base) / arena.PageSize);
    }

    /// <summary>The block at <paramref name="p"/> as (page, order).</summary>
    public static PageBlock BlockOf(BuddyArena arena, void* p, int order) => new(PageOf(arena, p), order);

    /// <summary>Address of <paramref name="page"/> in <paramref name="zone"/>.</summary>
    public static void* Address(Zone zone, int page) => (void*)(zone.Base + (nint)page * (1 << zone.PageShift));

    /// <summary>Free block counts of a zone per order, read from the zone itself.</summary>
    public static long[] FreeBlocks(Zone zone)
    {
        var counts = new long[zone.MaxOrder];
        for (int order = 0; order < counts.Length; order++)
            counts[order] = zone.FreeBlocks(order);
        return counts;
    }

    /// <summary>Free block counts per order of zone <paramref name="zone"/> as GetStats reports them.</summary>
    public static long[] StatsFreeBlocks(BuddyArena arena, int zone = 0) => arena.GetStats().Zones[zone].FreeBlocks.ToArray();

    /// <summary>A counts-per-order array with <paramref name="count"/> blocks at each listed order.</summary>
    public static long[] Counts(int maxOrder, params (int Order, long Count)[] entries)
    {
        var counts = new long[maxOrder];
        foreach ((int order, long count) in entries)
            counts[order] += count;
        return counts;
    }
}
