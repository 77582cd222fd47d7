using FastBuddy.Buddy;
using FastBuddy.Policy;

namespace FastBuddy.Tests.PolicySupport;

/// <summary>
/// Puts an arena's zones into exact states (free pages, clean or dirty inactive cache pages) and reads
/// page-level state through the library's internals.
/// </summary>
internal static unsafe class ArenaState
{
    public static Zone ZoneOf(BuddyArena arena, int zone = 0) => arena.Zones[zone];

    public static ZoneStats Stats(BuddyArena arena, int zone = 0) => arena.GetStats().Zones[zone];

    public static long Free(BuddyArena arena, int zone = 0) => Stats(arena, zone).FreePages;

    /// <summary>
    /// Allocates order-0 pages as MemAlloc from zonelist <paramref name="zone"/> (MemAlloc never reclaims, launders
    /// or waits, and may go down to 0) until the zone has exactly <paramref name="free"/> free pages.
    /// </summary>
    public static List<nint> DrainTo(BuddyArena arena, long free, int zone = 0)
    {
        var taken = new List<nint>();
        Zone z = ZoneOf(arena, zone);
        while (Free(arena, zone) > free)
        {
            void* p = arena.AllocPages(0, AllocFlags.MemAlloc, zone);
            if (p == null)
                throw new InvalidOperationException($"DrainTo({free}): MemAlloc allocation failed at {Free(arena, zone)} free pages.");
            if (!z.Contains((nint)p))
                throw new InvalidOperationException($"DrainTo({free}): the page came from another zone.");
            taken.Add((nint)p);
        }
        if (Free(arena, zone) != free)
            throw new InvalidOperationException($"DrainTo({free}): the zone has {Free(arena, zone)} free pages.");
        return taken;
    }

    /// <summary>
    /// Takes order-0 pages straight from the zone's free area (under its lock, past every magazine and counter) until
    /// it has <paramref name="free"/> free pages: for scenarios whose parked pages were parked while the zone was
    /// still above pages_low (a free below it goes straight to the zone).
    /// </summary>
    public static List<nint> TakeFromZone(BuddyArena arena, long free, int zone = 0)
    {
        var taken = new List<nint>();
        Zone z = ZoneOf(arena, zone);
        lock (z.Lock)
        {
            while (z.FreePages > free)
                taken.Add((nint)z.Address(z.RmQueue(0, 0, 0)));
        }
        return taken;
    }

    /// <summary>
    /// Parks <paramref name="parked"/> pages in the calling thread's magazine (freed while the zone is above
    /// pages_low), then takes the zone down to <paramref name="free"/> free pages. Returns every page still held.
    /// </summary>
    public static List<nint> ParkThenDrainTo(BuddyArena arena, int parked, long free, int zone = 0)
    {
        Zone z = ZoneOf(arena, zone);
        List<nint> held = TakeFromZone(arena, Math.Max(free, z.PagesLow + 2L * parked), zone);
        for (int i = 0; i < parked; i++)
            arena.FreePages((void*)held[i], 0);
        held.RemoveRange(0, parked);
        held.AddRange(TakeFromZone(arena, free, zone));
        return held;
    }

    /// <summary>Allocates <paramref name="count"/> order-0 pages (MemAlloc, zonelist 0) and puts them into the page cache.</summary>
    public static List<nint> AddToCache(BuddyArena arena, IPageOwner owner, int count, bool dirty, int zone = 0)
    {
        var pages = new List<nint>(count);
        for (int i = 0; i < count; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.MemAlloc, zone);
            if (p == null)
                throw new InvalidOperationException($"AddToCache: allocation {i} of {count} failed.");
            arena.CacheAdd(p, owner, dirty);
            pages.Add((nint)p);
        }
        return pages;
    }

    /// <summary>Puts pages the test already holds into the page cache (all on the active list).</summary>
    public static void CacheExisting(BuddyArena arena, IPageOwner owner, IEnumerable<nint> pages, bool dirty)
    {
        foreach (nint p in pages)
            arena.CacheAdd((void*)p, owner, dirty);
    }

    /// <summary>
    /// Ages every active page of every zone down to age 0 (so it moves to inactive_dirty), then runs page_launder's
    /// pass 0 without I/O, which moves the clean ones to inactive_clean. Dirty pages stay on inactive_dirty.
    /// </summary>
    public static void AgeToInactive(BuddyArena arena)
    {
        foreach (Zone zone in arena.Zones)
        {
            for (int i = 0; i < 10 && zone.Active.Count > 0; i++)
                Reclaim.AgeScan(zone, priority: 0, wanted: long.MaxValue);
        }
        arena.Policy.Reclaimer.Launder(mayIo: false);
    }

    /// <summary><paramref name="count"/> new cached pages on inactive_clean (checked through GetStats).</summary>
    public static List<nint> MakeCleanInactive(BuddyArena arena, IPageOwner owner, int count, int zone = 0)
    {
        long before = Stats(arena, zone).InactiveCleanPages;
        List<nint> pages = AddToCache(arena, owner, count, dirty: false, zone);
        AgeToInactive(arena);
        long after = Stats(arena, zone).InactiveCleanPages;
        if (after != before + count)
            throw new InvalidOperationException($"MakeCleanInactive: inactive_clean went from {before} to {after}, expected +{count}.");
        return pages;
    }

    /// <summary><paramref name="count"/> new dirty cached pages on inactive_dirty (checked through GetStats).</summary>
    public static List<nint> MakeDirtyInactive(BuddyArena arena, IPageOwner owner, int count, int zone = 0)
    {
        long before = Stats(arena, zone).InactiveDirtyPages;
        List<nint> pages = AddToCache(arena, owner, count, dirty: true, zone);
        AgeToInactive(arena);
        long after = Stats(arena, zone).InactiveDirtyPages;
        if (after != before + count)
            throw new InvalidOperationException($"MakeDirtyInactive: inactive_dirty went from {before} to {after}, expected +{count}.");
        return pages;
    }

    /// <summary>The descriptor of the page at <paramref name="page"/> (read without the zone lock: deterministic tests only).</summary>
    public static ref PageDescriptor Desc(BuddyArena arena, nint page)
    {
        Zone zone = arena.Locate((void*)page, out int index);
        return ref zone.Desc[index];
    }

    public static byte AgeOf(BuddyArena arena, nint page) => Desc(arena, page).Age;

    public static PageFlags FlagsOf(BuddyArena arena, nint page) => Desc(arena, page).Flags;

    /// <summary>Which LRU list the page is on (None when it is not on one).</summary>
    public static PageFlags ListOf(BuddyArena arena, nint page) => FlagsOf(arena, page) & PageFlags.OnAnyList;
}
