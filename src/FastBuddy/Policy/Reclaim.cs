using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Policy;

/// <summary>
/// The reclaim mechanics of 2.4's vmscan.c over the page cache: <c>reclaim_page</c>, <c>page_launder</c>,
/// <c>refill_inactive</c> and <c>try_to_free_pages</c>, plus kreclaimd's refill of a zone's free area.
/// </summary>
/// <remarks>
/// Every scan is bounded by the length its list had when the scan began. Owner callbacks run outside every arena
/// lock and inside <see cref="ReclaimContext"/>: the page is first claimed under the zone lock (Laundering with a
/// Chosen token, or Reclaiming), the callback runs, and the outcome is applied under the lock again, to the same
/// residency only (see <see cref="PageCache"/> for how CacheRemove and CacheMarkDirty are ordered with a running
/// callback). A page reclaimed for kreclaimd or for a large block stays Reclaiming until it is freed; one reclaimed
/// for an allocating caller is handed over in the same lock section that ends the claim.
/// "Progress" for a waiting caller means pages freed or made clean.
/// </remarks>
internal sealed unsafe class Reclaim
{
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
    /// ones to inactive_dirty, pages with a writeback still running are skipped) and evicts the first clean, old
    /// page. The page leaves the cache as an allocated order-0 head. Returns its index, or -1.
    /// </summary>
    /// <param name="zone">The zone to reclaim from.</param>
    /// <param name="forCaller">
    /// The page goes straight to an allocating caller (direct reclaim): it is counted as served and its claim ends
    /// here. Otherwise it stays <see cref="PageFlags.Reclaiming"/> until the caller frees it into the buddy system
    /// (<see cref="FreeReclaimed"/> or <see cref="Zone.FreeBlock"/>), so that a host's free in between is refused.
    /// </param>
    public int ReclaimPage(Zone zone, bool forCaller)
    {
        int victim = -1, owner = 0;
        lock (zone.Lock)
        {
            if (_arena.IsDisposed)
                return -1;
            CacheSlot[]? slots = _cache.SlotsOf(zone);
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
                if ((d.Flags & PageFlags.Laundering) != 0 || slots![page].Writeback != 0)
                {
                    PageCache.Move(zone, page, PageFlags.OnInactiveClean); // a writeback of it runs: not now
                    continue;
                }
                owner = d.Owner;
                PageCache.Leave(zone, page);
                d.Flags |= PageFlags.Reclaiming; // from here on CacheRemove returns false: Evict is final
                slots[page].Reclaimed = true;
                _arena.Policy.Account(zone).Reclaimed++;
                _arena.Policy.Account(zone).Pressure++;
                victim = page;
                break;
            }
        }
        if (victim < 0)
            return -1;

        SchedulePoints.Reach(SchedulePoints.ReclaimChosen);
        Evict(zone, victim, _cache.OwnerOf(owner));
        SchedulePoints.Reach(SchedulePoints.ReclaimEvicted);

        lock (zone.Lock)
        {
            // Disposed while Evict ran: the zone's memory is gone, so there is no page to hand out.
            if (_arena.IsDisposed)
                return -1;
            if (forCaller)
            {
                // Handed to the allocating caller as its own plain allocated head.
                PageDescriptor.TagOf(ref zone.Desc[victim]) = PageDescriptor.HeadTag(_arena.Policy.OwnerSlot(), 0);
                _arena.Policy.Account(zone).CountServed(AllocationStep.DirectReclaim);
            }
        }
        SchedulePoints.Reach(SchedulePoints.ReclaimHandedOff);
        return victim;
    }

    private void Evict(Zone zone, int page, IPageOwner owner)
    {
        using (ReclaimContext.Enter())
        {
            try
            {
                owner.Evict(zone.Address(page));
            }
            catch (Exception e)
            {
                LogCallbackFailure(e, "Evict");
            }
        }
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
    /// rotates dirty ones; pass 1, when the caller may do I/O and memory is short, offers every dirty page it scans
    /// (as 2.4.0 calls writepage on each: its MAX_LAUNDER bounds only synchronous flushes, which have no
    /// counterpart here) to its owner's Writeback. Returns the pages made clean.
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

    /// <summary>
    /// Pass 1 for one zone: scans inactive_dirty from the tail once (its length when the pass began), rotating each
    /// scanned page to the head, and writes back each dirty page that no other writeback holds.
    /// </summary>
    private long WriteBackDirty(Zone zone)
    {
        CacheSlot[]? slots = _cache.SlotsOf(zone);
        if (slots is null)
            return 0;
        long cleaned = 0, scan;
        lock (zone.Lock)
            scan = zone.InactiveDirty.Count;
        while (scan > 0 && !_arena.IsDisposed)
        {
            int page = ChooseDirty(zone, slots, ref scan, out int owner, out uint residency, out uint dirtied);
            if (page < 0)
                break;

            SchedulePoints.Reach(SchedulePoints.LaunderChosen);
            ref long token = ref slots[page].Writeback;
            if (Interlocked.CompareExchange(ref token, CacheSlot.Running(residency), CacheSlot.Chosen(residency)) != CacheSlot.Chosen(residency))
                continue; // CacheRemove took the page back before the callback started: it must not start now

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

            SchedulePoints.Reach(SchedulePoints.LaunderReturned);
            lock (zone.Lock)
            {
                if (ApplyWriteback(zone, slots, page, residency, clean ? dirtied : null, failed))
                    cleaned++;
            }
        }
        return cleaned;
    }

    /// <summary>
    /// Under the zone lock: the next dirty page of the scan that no writeback holds, claimed for writeback
    /// (Laundering and a Chosen token), or -1 when the scan is over.
    /// </summary>
    private static int ChooseDirty(Zone zone, CacheSlot[] slots, ref long scan, out int owner, out uint residency, out uint dirtied)
    {
        lock (zone.Lock)
        {
            while (scan > 0 && zone.InactiveDirty.Count > 0)
            {
                scan--;
                int page = zone.InactiveDirty.Tail(zone.Desc);
                ref PageDescriptor d = ref zone.Desc[page];
                PageCache.Move(zone, page, PageFlags.OnInactiveDirty); // rotate: scanned pages go to the head
                ref CacheSlot slot = ref slots[page];
                if ((d.Flags & (PageFlags.Dirty | PageFlags.Laundering)) != PageFlags.Dirty || slot.Writeback != 0)
                    continue;
                d.Flags |= PageFlags.Laundering;
                slot.Writeback = CacheSlot.Chosen(slot.Residency);
                owner = d.Owner;
                residency = slot.Residency;
                dirtied = slot.Dirtied;
                return page;
            }
        }
        owner = 0;
        residency = dirtied = 0;
        return -1;
    }

    /// <summary>
    /// Under the zone lock, after Writeback returned: ends the writeback and applies its outcome if the page is still
    /// in the same residency. <paramref name="cleanAsOf"/> is the dirty count when it began if Writeback said
    /// "clean" (else null): the page becomes clean only if no CacheMarkDirty came since. True when it did.
    /// </summary>
    private bool ApplyWriteback(Zone zone, CacheSlot[] slots, int page, uint residency, uint? cleanAsOf, bool failed)
    {
        ref CacheSlot slot = ref slots[page];
        slot.Writeback = 0;
        ref PageDescriptor d = ref zone.Desc[page];
        if ((d.Flags & PageFlags.Cached) == 0 || slot.Residency != residency)
            return false; // taken back (and perhaps cached again) while it was written: the result is nobody's
        d.Flags &= ~PageFlags.Laundering;
        if (failed)
        {
            d.Age = PageCache.StartAge;
            PageCache.Move(zone, page, PageFlags.OnActive);
            return false;
        }
        if (cleanAsOf != slot.Dirtied)
            return false; // still dirty, or dirtied again while it was written: stays on inactive_dirty
        d.Flags &= ~PageFlags.Dirty;
        PageCache.Move(zone, page, PageFlags.OnInactiveClean);
        _arena.Policy.Account(zone).Laundered++;
        return true;
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
        if (logger is not null)
            ArenaLog.CallbackFailed(logger, e, callback);
    }
}
