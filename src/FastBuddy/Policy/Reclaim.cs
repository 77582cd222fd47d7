using FastBuddy.Buddy;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Policy;

/// <summary>
/// The reclaim mechanics of 2.4's vmscan.c over the page cache: <c>reclaim_page</c>, <c>page_launder</c>,
/// <c>refill_inactive</c> and <c>try_to_free_pages</c>, plus kreclaimd's refill of a zone's free area.
/// </summary>
/// <remarks>
/// Every scan is bounded by the length its list had when the scan began. Owner callbacks run outside every arena
/// lock and inside <see cref="ReclaimContext"/>: the page is first marked under the zone lock (Laundering or
/// Reclaiming), the callback runs, and the outcome is applied under the lock again, unless the host changed the
/// page meanwhile (CacheRemove or CacheMarkDirty clear the Laundering mark, so a stale Writeback result is ignored).
/// "Progress" for a waiting caller means pages freed or made clean.
/// </remarks>
internal sealed unsafe class Reclaim
{
    /// <summary>At most this many Writebacks per zone in one page_launder pass.</summary>
    public const int LaunderBatch = 32;

    private readonly BuddyArena _arena;
    private readonly Zone[] _zones;
    private readonly PageCache _cache;
    private readonly MemoryPressure _pressure;
    private readonly WaitQueue _frees;

    public Reclaim(BuddyArena arena, Zone[] zones, PageCache cache, MemoryPressure pressure, WaitQueue frees)
    {
        _arena = arena;
        _zones = zones;
        _cache = cache;
        _pressure = pressure;
        _frees = frees;
    }

    /// <summary>
    /// reclaim_page(zone): scans inactive_clean from the tail (referenced or young pages go back to active, dirty
    /// ones to inactive_dirty) and evicts the first clean, old page. The page leaves the cache as an allocated
    /// order-0 head that now belongs to the caller. Returns its index, or -1.
    /// </summary>
    /// <param name="zone">The zone to reclaim from.</param>
    /// <param name="forCaller">Count the page as handed straight to an allocating caller (direct reclaim).</param>
    public int ReclaimPage(Zone zone, bool forCaller)
    {
        int victim = -1, owner = 0;
        lock (zone.Lock)
        {
            if (_arena.IsDisposed)
                return -1;
            for (long scan = zone.InactiveClean.Count; scan > 0; scan--)
            {
                int page = zone.InactiveClean.Tail(zone.Desc);
                ref PageDescriptor d = ref zone.Desc[page];
                if ((d.Flags & PageFlags.Referenced) != 0 || d.Age > 0)
                {
                    d.Flags &= ~PageFlags.Referenced;
                    PageCache.Move(zone, page, PageFlags.OnActive);
                    continue;
                }
                if ((d.Flags & PageFlags.Dirty) != 0)
                {
                    PageCache.Move(zone, page, PageFlags.OnInactiveDirty);
                    continue;
                }
                owner = d.Owner;
                PageCache.Leave(zone, page);
                d.Flags |= PageFlags.Reclaiming; // from here on CacheRemove returns false: Evict is final
                _arena.Policy.Account(zone).Reclaimed++;
                _arena.Policy.Account(zone).Pressure++;
                victim = page;
                break;
            }
        }
        if (victim < 0)
            return -1;

        IPageOwner target = _cache.OwnerOf(owner);
        using (ReclaimContext.Enter())
        {
            try
            {
                target.Evict(zone.Address(victim));
            }
            catch (Exception e)
            {
                LogCallbackFailure(e, "Evict");
            }
        }

        lock (zone.Lock)
        {
            // Disposed while Evict ran: the zone's memory is gone, so there is no page to hand out.
            if (_arena.IsDisposed)
                return -1;
            zone.Desc[victim].Flags &= ~PageFlags.Reclaiming;
            if (forCaller)
                _arena.Policy.Account(zone).CountServed(AllocationStep.DirectReclaim);
        }
        return victim;
    }

    /// <summary>kreclaimd's work for one zone: reclaims clean pages into the free area until pages_low.</summary>
    public long RefillFreeArea(Zone zone)
    {
        long freed = 0;
        while (Volatile.Read(ref zone.FreePages) < zone.PagesLow && zone.InactiveClean.Count > 0 && !_arena.IsDisposed)
        {
            int page = ReclaimPage(zone, forCaller: false);
            if (page < 0)
                break;
            FreeReclaimed(zone, page);
            freed++;
        }
        return freed;
    }

    /// <summary>Returns a page that <see cref="ReclaimPage"/> produced to the buddy system and wakes waiters.</summary>
    public void FreeReclaimed(Zone zone, int page)
    {
        lock (zone.Lock)
        {
            zone.FreeBlock(page, 0);
            _arena.Policy.Account(zone).CountFree();
        }
        _frees.Signal();
    }

    /// <summary>
    /// page_launder: pass 0 moves clean inactive_dirty pages to inactive_clean (referenced ones back to active) and
    /// rotates dirty ones; pass 1, when the caller may do I/O and memory is short, writes up to
    /// <see cref="LaunderBatch"/> dirty pages per zone back through their owners. Returns the pages made clean.
    /// </summary>
    public long Launder(bool mayIo)
    {
        long cleaned = 0;
        foreach (Zone zone in _zones)
            cleaned += SortInactiveDirty(zone);
        if (mayIo && _pressure.FreeShortage() > 0)
        {
            foreach (Zone zone in _zones)
                cleaned += WriteBackDirty(zone);
        }
        return cleaned;
    }

    private static long SortInactiveDirty(Zone zone)
    {
        long moved = 0;
        lock (zone.Lock)
        {
            for (long scan = zone.InactiveDirty.Count; scan > 0; scan--)
            {
                int page = zone.InactiveDirty.Tail(zone.Desc);
                ref PageDescriptor d = ref zone.Desc[page];
                PageFlags target;
                if ((d.Flags & PageFlags.Laundering) != 0)
                    target = PageFlags.OnInactiveDirty;
                else if ((d.Flags & PageFlags.Referenced) != 0 || d.Age > 0)
                {
                    d.Flags &= ~PageFlags.Referenced;
                    target = PageFlags.OnActive;
                }
                else if ((d.Flags & PageFlags.Dirty) == 0)
                {
                    target = PageFlags.OnInactiveClean;
                    moved++;
                }
                else
                    target = PageFlags.OnInactiveDirty;
                PageCache.Move(zone, page, target);
            }
        }
        return moved;
    }

    private long WriteBackDirty(Zone zone)
    {
        long cleaned = 0;
        for (int budget = LaunderBatch; budget > 0; budget--)
        {
            int page = -1, owner = 0;
            lock (zone.Lock)
            {
                if (_arena.IsDisposed)
                    return cleaned;
                for (long scan = zone.InactiveDirty.Count; scan > 0; scan--)
                {
                    int candidate = zone.InactiveDirty.Tail(zone.Desc);
                    ref PageDescriptor d = ref zone.Desc[candidate];
                    PageCache.Move(zone, candidate, PageFlags.OnInactiveDirty); // rotate: scanned pages go to the head
                    if ((d.Flags & (PageFlags.Dirty | PageFlags.Laundering)) == PageFlags.Dirty)
                    {
                        d.Flags |= PageFlags.Laundering;
                        page = candidate;
                        owner = d.Owner;
                        break;
                    }
                }
            }
            if (page < 0)
                break;

            bool clean = false, failed = false;
            using (ReclaimContext.Enter())
            {
                try
                {
                    clean = _cache.OwnerOf(owner).Writeback(zone.Address(page));
                }
                catch (Exception e)
                {
                    failed = true;
                    LogCallbackFailure(e, "Writeback");
                }
            }

            lock (zone.Lock)
            {
                ref PageDescriptor d = ref zone.Desc[page];
                if ((d.Flags & (PageFlags.Cached | PageFlags.Laundering)) != (PageFlags.Cached | PageFlags.Laundering))
                    continue; // removed, re-added or re-dirtied while it was written: the result is stale
                d.Flags &= ~PageFlags.Laundering;
                if (failed)
                {
                    d.Age = PageCache.StartAge;
                    PageCache.Move(zone, page, PageFlags.OnActive);
                }
                else if (clean)
                {
                    d.Flags &= ~PageFlags.Dirty;
                    PageCache.Move(zone, page, PageFlags.OnInactiveClean);
                    _arena.Policy.Account(zone).Laundered++;
                    cleaned++;
                }
            }
        }
        return cleaned;
    }

    /// <summary>
    /// refill_inactive: ages active pages from the tail (referenced: +3 and rotate; otherwise halve, and deactivate to
    /// inactive_dirty at age 0), at priority 6 down to 0, until <paramref name="wanted"/> pages are deactivated.
    /// </summary>
    public long RefillInactive(long wanted)
    {
        long deactivated = 0;
        for (int priority = 6; priority >= 0 && deactivated < wanted; priority--)
        {
            foreach (Zone zone in _zones)
            {
                deactivated += AgeScan(zone, priority, wanted - deactivated);
                if (deactivated >= wanted)
                    break;
            }
        }
        return deactivated;
    }

    /// <summary>One aging scan of a zone's active list: count &gt;&gt; priority pages (at least one).</summary>
    public static long AgeScan(Zone zone, int priority, long wanted)
    {
        long deactivated = 0;
        lock (zone.Lock)
        {
            for (long scan = Math.Max(zone.Active.Count >> priority, 1); scan > 0 && zone.Active.Count > 0 && deactivated < wanted; scan--)
            {
                int page = zone.Active.Tail(zone.Desc);
                ref PageDescriptor d = ref zone.Desc[page];
                if ((d.Flags & PageFlags.Referenced) != 0)
                {
                    d.Flags &= ~PageFlags.Referenced;
                    d.Age = (byte)Math.Min(d.Age + PageCache.AgeStep, PageCache.MaxAge);
                    PageCache.Move(zone, page, PageFlags.OnActive);
                    continue;
                }
                d.Age >>= 1;
                if (d.Age == 0)
                {
                    PageCache.Move(zone, page, PageFlags.OnInactiveDirty);
                    deactivated++;
                }
                else
                    PageCache.Move(zone, page, PageFlags.OnActive);
            }
        }
        return deactivated;
    }

    /// <summary>
    /// try_to_free_pages (and the body of kswapd's pass): launder when there is a free shortage or more dirty than
    /// free + clean pages; refill the inactive lists to cover the shortages, and launder what that deactivated.
    /// Returns the progress: pages made clean.
    /// </summary>
    public long TryToFreePages(bool mayIo)
    {
        long progress = 0;
        (long dirty, long freeable) = _pressure.DirtyVersusFreeable();
        if (_pressure.FreeShortage() > 0 || dirty > freeable)
            progress += Launder(mayIo);
        long shortage = _pressure.FreeShortage() + _pressure.InactiveShortage();
        if (shortage > 0 && RefillInactive(shortage) > 0)
            progress += Launder(mayIo);
        return progress;
    }

    private void LogCallbackFailure(Exception e, string callback)
    {
        ILogger? logger = _arena.Logger;
        if (logger is not null && logger.IsEnabled(LogLevel.Error))
            logger.LogError(e, "A page owner's {Callback} threw; the arena stays consistent.", callback);
    }
}
