using FastBuddy.Buddy;

namespace FastBuddy;

/// <summary>What one page of an arena is doing at the moment a <see cref="PageMap"/> was taken.</summary>
public enum PageState : byte
{
    /// <summary>Part of a free block in its zone's free areas (its order is in <see cref="ZonePageMap.BlockOrders"/>).</summary>
    Free = 0,
    /// <summary>Part of a block handed out to a caller (and not in the page cache).</summary>
    Allocated = 1,
    /// <summary>A cached page on its zone's active list.</summary>
    Active = 2,
    /// <summary>A cached page on its zone's inactive_dirty list (needs Writeback before it can be reclaimed).</summary>
    InactiveDirty = 3,
    /// <summary>A cached page on its zone's inactive_clean list (reclaimable at once).</summary>
    InactiveClean = 4,
    /// <summary>Part of a block parked in a thread's per-CPU list: neither free nor in use.</summary>
    PerThread = 5,
}

/// <summary>
/// A page-by-page picture of an arena: for every page of every zone its <see cref="PageState"/> and the order of
/// the block it belongs to. Made by <see cref="BuddyArena.GetPageMap"/> for diagnostics (fragmentation maps).
/// </summary>
public sealed class PageMap
{
    internal PageMap(int pageSize, int maxOrder, ZonePageMap[] zones)
    {
        PageSize = pageSize;
        MaxOrder = maxOrder;
        Zones = zones;
    }

    /// <summary>Page size in bytes.</summary>
    public int PageSize { get; }

    /// <summary>Number of orders of the arena.</summary>
    public int MaxOrder { get; }

    /// <summary>One map per zone, low to high.</summary>
    public IReadOnlyList<ZonePageMap> Zones { get; }
}

/// <summary>One zone of a <see cref="PageMap"/>.</summary>
/// <remarks>
/// Taken under the zone's lock, so the free areas and the page cache are exact; pages that threads park in (or take
/// from) their per-CPU lists without that lock may be seen just before or after such a move.
/// </remarks>
public sealed class ZonePageMap
{
    private readonly PageState[] _states;
    private readonly byte[] _orders;
    private readonly long[] _freeBlocks;

    private ZonePageMap(string name, PageState[] states, byte[] orders, long[] freeBlocks)
    {
        Name = name;
        _states = states;
        _orders = orders;
        _freeBlocks = freeBlocks;
    }

    /// <summary>The zone's name.</summary>
    public string Name { get; }

    /// <summary>Pages in the zone.</summary>
    public int Pages => _states.Length;

    /// <summary>The state of each page (index = page number within the zone).</summary>
    public ReadOnlySpan<PageState> States => _states;

    /// <summary>The order of the block each page belongs to (free or allocated; cached pages are order 0).</summary>
    public ReadOnlySpan<byte> BlockOrders => _orders;

    /// <summary>Free blocks of <paramref name="order"/> found by the walk (equals the zone's buddyinfo column).</summary>
    public long FreeBlocks(int order) => (uint)order < (uint)_freeBlocks.Length ? _freeBlocks[order] : 0;

    /// <summary>Walks the zone block by block from its descriptors. The caller holds the zone's lock.</summary>
    internal static unsafe ZonePageMap Read(Zone zone)
    {
        var states = new PageState[zone.Pages];
        var orders = new byte[zone.Pages];
        var freeBlocks = new long[zone.MaxOrder];
        PageDescriptor* d = zone.Desc;
        for (int page = 0; page < zone.Pages;)
        {
            PageFlags flags = d[page].Flags;
            int order = Math.Min((int)d[page].Order, zone.MaxOrder - 1);
            int size = Math.Min(1 << order, zone.Pages - page);
            PageState state = StateOf(flags);
            if (state == PageState.Free)
                freeBlocks[order]++;
            states.AsSpan(page, size).Fill(state);
            orders.AsSpan(page, size).Fill((byte)order);
            page += size;
        }
        return new ZonePageMap(zone.Name, states, orders, freeBlocks);
    }

    private static PageState StateOf(PageFlags flags)
    {
        if ((flags & PageFlags.FreeHead) != 0)
            return PageState.Free;
        if ((flags & PageFlags.Parked) != 0)
            return PageState.PerThread;
        if ((flags & PageFlags.OnActive) != 0)
            return PageState.Active;
        if ((flags & PageFlags.OnInactiveDirty) != 0)
            return PageState.InactiveDirty;
        if ((flags & PageFlags.OnInactiveClean) != 0)
            return PageState.InactiveClean;
        return PageState.Allocated;
    }
}
