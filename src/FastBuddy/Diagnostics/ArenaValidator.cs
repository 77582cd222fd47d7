using FastBuddy.Buddy;

namespace FastBuddy.Diagnostics;

/// <summary>
/// Checks every invariant of every zone, under the zone's lock, and throws <see cref="FastBuddyException"/>
/// (status Corrupt) naming the first one broken.
/// </summary>
/// <remarks>
/// Free lists: well linked, heads flagged with their order, aligned, inside the zone, counts right. Coverage: the
/// zone is exactly tiled by free and allocated blocks. Merge bitmaps: every pair bit equals "left free" XOR "right
/// free" at that order, and no two buddies are free at the same order (they would have merged). Counters:
/// free_pages is the sum of the free blocks. Page cache: each LRU list is well linked, holds only cached order-0
/// heads flagged for that list, and every page flagged for a list is on it. Runs: a plain allocated head of the top
/// order followed by exactly its length - 1 member blocks, inside the zone. Commit map: no allocated page is in a
/// unit marked decommitted, and the decommitted bytes add up.
/// </remarks>
internal static unsafe class ArenaValidator
{
    public static void Validate(BuddyArena arena)
    {
        // Magazines change without locks: return their blocks to the buddy system and their slabs to the pools, so that every count is exact.
        arena.Policy.Magazines.DrainAll();
        if (arena.Policy.Magazines.Slabs is { BrokenReuseLines: > 0 } owned)
            ThrowHelper.ThrowCorrupt($"{owned.BrokenReuseLines} reuse lines of the magazines named objects that were not free objects of their current slab.");
        foreach (Zone zone in arena.Zones)
        {
            lock (zone.Lock)
                ValidateZone(zone);
        }
        if (arena.Policy.Slabs is { } slabs)
            SlabValidator.Validate(slabs, arena.Zones);
    }

    private static void ValidateZone(Zone z)
    {
        PageDescriptor* d = z.Desc;
        long freeFromLists = 0;
        for (int order = 0; order < z.MaxOrder; order++)
            freeFromLists += CheckList(z, z.FreeListHead(order), z.FreeBlocks(order), $"free area {order}",
                page => (d[page].Flags & PageFlags.FreeHead) != 0 && d[page].Order == order
                    && (page & ((1 << order) - 1)) == 0 && (long)page + (1L << order) <= z.Pages,
                "a free head of that order, aligned and inside the zone") << order;
        if (freeFromLists != z.FreePages)
            Fail(z, $"free_pages is {z.FreePages} but the free areas hold {freeFromLists} pages");

        // Coverage: walk the zone block by block (a run's members count as allocated blocks of the run).
        long listed = 0;
        int runLeft = 0;
        for (int page = 0; page < z.Pages;)
        {
            PageFlags f = d[page].Flags;
            int order = d[page].Order;
            bool isFree = (f & PageFlags.FreeHead) != 0;
            runLeft = CheckRunPlace(z, page, runLeft);
            if (!isFree && (f & (PageFlags.AllocatedHead | PageFlags.RunMember)) == 0)
                Fail(z, $"page {page} is neither the head of a free block nor of an allocated one");
            if (isFree && (f & PageFlags.AllocatedHead) != 0)
                Fail(z, $"page {page} is flagged both free and allocated");
            if (order >= z.MaxOrder || (page & ((1 << order) - 1)) != 0 || (long)page + (1L << order) > z.Pages)
                Fail(z, $"block at page {page} has a bad order {order} for its place");
            if ((f & PageFlags.OnAnyList) != 0)
                listed++;
            if ((f & PageFlags.Cached) != 0 && (isFree || order != 0))
                Fail(z, $"page {page} is cached but is not an allocated order-0 page");
            // Validate drains the magazines first, but other threads may park blocks again right after: a parked block
            // must be a plain allocated block of an order the magazines keep.
            if ((f & PageFlags.Parked) != 0 && (isFree || order >= z.GateLimit || (f & PageFlags.CacheState) != 0))
                Fail(z, $"page {page} is marked as parked in a magazine but is not a plain allocated block of a kept order");
            if ((f & PageFlags.Cached) == 0 && !isFree && d[page].Age != 0)
                Fail(z, $"page {page} is an allocated head outside the page cache with an age ({d[page].Age})");
            page += 1 << order;
        }
        if (runLeft > 0)
            Fail(z, $"a run reaches past the end of the zone ({runLeft} blocks missing)");

        // Merge bitmaps: one bit per pair below the top order.
        for (int order = 0; order < z.MaxOrder - 1; order++)
        {
            int step = 2 << order;
            for (int left = 0; left < z.Pages; left += step)
            {
                int right = left + (1 << order);
                bool leftFree = IsFreeHead(z, left, order);
                bool rightFree = right < z.Pages && IsFreeHead(z, right, order);
                if (leftFree && rightFree)
                    Fail(z, $"buddies {left} and {right} are both free at order {order} but not merged");
                if (z.BitmapBit(left, order) != (leftFree ^ rightFree))
                    Fail(z, $"merge bit of pair {left}/{right} at order {order} is {z.BitmapBit(left, order)}, expected {leftFree ^ rightFree}");
            }
        }

        // The page cache's lists.
        long onLists = 0;
        onLists += CheckCacheList(z, z.Active, PageFlags.OnActive, "active");
        onLists += CheckCacheList(z, z.InactiveDirty, PageFlags.OnInactiveDirty, "inactive_dirty");
        onLists += CheckCacheList(z, z.InactiveClean, PageFlags.OnInactiveClean, "inactive_clean");
        if (onLists != listed)
            Fail(z, $"{listed} pages are flagged as on an LRU list but the lists hold {onLists}");
        ValidateCommitMap(z);
    }

    /// <summary>
    /// The commit map: no page of an allocated block lies in a unit marked decommitted (madvise must never have
    /// hit it, and every allocation clears its units), and the decommitted bytes are the sum of the marked units.
    /// </summary>
    private static void ValidateCommitMap(Zone z)
    {
        CommitMap map = z.Commit;
        for (int page = 0; page < z.Pages; page += 1 << z.Desc[page].Order)
        {
            if ((z.Desc[page].Flags & PageFlags.FreeHead) != 0)
                continue;
            int last = (int)(((long)page + (1L << z.Desc[page].Order) - 1) >> map.UnitOrder);
            for (int u = page >> map.UnitOrder; u <= last; u++)
            {
                if (map.IsMarked(u))
                    Fail(z, $"allocated block at page {page} lies in decommitted unit {u}");
            }
        }
        long marked = 0;
        for (int u = 0; u < map.Units; u++)
            marked += map.IsMarked(u) ? map.BytesOf(u) : 0;
        if (marked != map.DecommittedBytes)
            Fail(z, $"the commit map marks {marked} bytes decommitted but counts {map.DecommittedBytes}");
    }

    /// <summary>
    /// A run: its head is a plain allocated head of the top order with a length of at least 2 blocks that fits in
    /// the zone, and exactly the next length - 1 blocks are its members (top order, neither free nor allocated
    /// heads). Returns how many members are still to come after <paramref name="page"/>.
    /// </summary>
    private static int CheckRunPlace(Zone z, int page, int runLeft)
    {
        ref PageDescriptor d = ref z.Desc[page];
        int top = z.MaxOrder - 1;
        bool member = (d.Flags & PageFlags.RunMember) != 0;
        if (member != runLeft > 0)
            Fail(z, member ? $"page {page} is flagged as a run member outside any run" : $"the run before page {page} is missing {runLeft} members");
        if (member && ((d.Flags & (PageFlags.FreeHead | PageFlags.AllocatedHead | PageFlags.Run)) != 0 || d.Order != top))
            Fail(z, $"run member at page {page} is also a head of its own, or not of the top order");
        if (member)
            return runLeft - 1;
        if ((d.Flags & PageFlags.Run) == 0)
            return 0;
        if (d.Flags != (PageFlags.AllocatedHead | PageFlags.Run) || d.Order != top || d.Owner != 0
            || d.Next < 2 || (long)page + ((long)d.Next << top) > z.Pages)
            Fail(z, $"run at page {page} is not a plain allocated head of the top order with a length from 2 that fits the zone ({d.Next} blocks)");
        return d.Next - 1;
    }

    private static bool IsFreeHead(Zone z, int page, int order)
        => (z.Desc[page].Flags & PageFlags.FreeHead) != 0 && z.Desc[page].Order == order;

    private static long CheckCacheList(Zone z, PageList list, PageFlags flag, string name)
    {
        PageDescriptor* d = z.Desc;
        return CheckList(z, list.Head, list.Count, name,
            page => (d[page].Flags & (PageFlags.OnAnyList | PageFlags.Cached | PageFlags.AllocatedHead))
                    == (flag | PageFlags.Cached | PageFlags.AllocatedHead) && d[page].Order == 0
                    && (flag != PageFlags.OnInactiveClean || (d[page].Flags & PageFlags.Dirty) == 0),
            "a cached order-0 page flagged for this list (and clean, on inactive_clean)");
    }

    /// <summary>Walks a circular list from its head; checks links, membership and the count. Returns the count.</summary>
    private static long CheckList(Zone z, int head, long count, string name, Func<int, bool> member, string expectation)
    {
        PageDescriptor* d = z.Desc;
        if (head == PageList.Nil)
        {
            if (count != 0)
                Fail(z, $"{name} list is empty but its count is {count}");
            return 0;
        }
        long seen = 0;
        int page = head;
        do
        {
            if ((uint)page >= (uint)z.Pages)
                Fail(z, $"{name} list links to page {page}, outside the zone");
            if (!member(page))
                Fail(z, $"{name} list holds page {page}, which is not {expectation}");
            int next = d[page].Next;
            if ((uint)next >= (uint)z.Pages || d[next].Prev != page)
                Fail(z, $"{name} list is broken after page {page}");
            page = next;
            if (++seen > count)
                Fail(z, $"{name} list has more entries than its count {count}");
        }
        while (page != head);
        if (seen != count)
            Fail(z, $"{name} list has {seen} entries but its count is {count}");
        return seen;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(Zone z, string message) => ThrowHelper.ThrowCorrupt($"Zone '{z.Name}': {message}.");
}
