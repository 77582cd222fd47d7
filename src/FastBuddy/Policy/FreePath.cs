using FastBuddy.Buddy;
using FastBuddy.PerThread;

namespace FastBuddy.Policy;

/// <summary>
/// The free path, beside the allocation path: 2.4's <c>__free_pages</c> with every free validated, behind the
/// arena's inline fast path (which parks the calling thread's own blocks of the fast zone).
/// </summary>
/// <remarks>
/// Step 1: a block the calling thread owns, of an order its magazine keeps, while the zone's gate is open for that
/// order, is parked in the magazine (a full list spills its coldest batch). Step 2: any other block is claimed,
/// with one compare-and-swap of its tag (shutting its owner thread out of its window first, when another thread
/// owns it), and returned to the buddy system under the zone lock; the free is counted and every waiting
/// allocation woken. A free that is not of a live block of that order changes nothing and is refused with the
/// status that says why (double, interior, misaligned, wrong order, cached).
/// </remarks>
internal sealed unsafe class FreePath
{
    private readonly Zone[] _zones;
    private readonly ZoneAccount[] _accounts;
    private readonly ThreadMagazines _magazines;
    private readonly WaitQueue _frees;

    public FreePath(Zone[] zones, ZoneAccount[] accounts, ThreadMagazines magazines, WaitQueue frees)
    {
        _zones = zones;
        _accounts = accounts;
        _magazines = magazines;
        _frees = frees;
    }

    /// <summary>Frees the block headed by <paramref name="page"/> as <paramref name="order"/>; throws when that is wrong.</summary>
    public void Free(Zone zone, int page, int order, nint block)
    {
        // Step 1: our own block, its order kept and the gate open: park it, lock-free.
        bool open = (uint)order < (uint)*zone.Gate;
        if (open && TryParkOwn(zone, page, order))
            return;
        // Step 2: claim it; it is ours now: park it in our magazine if the gate is open, else give it to the buddy system.
        FastBuddyStatus status = ClaimForFree(zone, page, order, (ulong)PageFlags.Freed << PageDescriptor.FlagsShift);
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, block, order);
        if (open && TryParkClaimed(zone, page, order))
            return;
        GiveBack(zone, page, order);
    }

    /// <summary>A block the caller holds (claimed, or a slab's) back to the buddy system: counted, waiters woken.</summary>
    public void GiveBack(Zone zone, int page, int order)
    {
        lock (zone.Lock)
        {
            zone.FreeBlock(page, order);
            _accounts[zone.Index].CountFree();
        }
        _frees.Signal();
    }

    private bool TryParkOwn(Zone zone, int page, int order)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m == null || m->ArenaKey != _magazines.Key || !_magazines.Enter(m))
            return false;
        ulong want = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
        int spilled = 0;
        bool parked = Volatile.Read(ref PageDescriptor.TagOf(ref zone.Desc[page])) == want
            && _magazines.Park(m, zone, page, order, out spilled);
        ThreadMagazines.Exit(m);
        if (spilled > 0)
            _frees.Signal();
        return parked;
    }

    private bool TryParkClaimed(Zone zone, int page, int order)
    {
        Magazine* m = _magazines.For();
        if (!_magazines.Enter(m))
            return false;
        bool parked = _magazines.Park(m, zone, page, order, out int spilled);
        ThreadMagazines.Exit(m);
        if (spilled > 0)
            _frees.Signal();
        return parked;
    }

    /// <summary>
    /// Moves the tag of a live allocated head of <paramref name="order"/> to <paramref name="claimed"/>; or says
    /// why the block cannot be freed. Loops only while the tag changes under it (a racing free or cache call).
    /// </summary>
    public FastBuddyStatus ClaimForFree(Zone zone, int page, int order, ulong claimed)
    {
        while (true)
        {
            ulong tag = Volatile.Read(ref PageDescriptor.TagOf(ref zone.Desc[page]));
            FastBuddyStatus status = zone.CheckTag(page, order, tag);
            if (status != FastBuddyStatus.Ok)
                return status;
            ulong expected = PageDescriptor.HeadTag(PageDescriptor.OwnerOf(tag), order);
            if (tag != expected)
                return FastBuddyStatus.Busy; // an allocated head with state of another kind (being evicted, laundered)
            if (_magazines.Claim(zone, page, expected, claimed))
                return FastBuddyStatus.Ok;
        }
    }

    /// <summary>
    /// Frees order-0 pages all or nothing: every entry is claimed first (a duplicate shows as already claimed); if
    /// one is bad, the claims are undone and its status thrown. Then the pages are parked in the calling thread's
    /// magazine while there is room, the rest freed with one lock round trip per zone.
    /// </summary>
    /// <remarks>
    /// The calling thread's own pages are claimed inside its window with plain stores (no other thread claims
    /// them without shutting it out first); any other page with the compare-and-swap of step 2.
    /// </remarks>
    public void FreeBulk(ReadOnlySpan<nint> pages, ReadOnlySpan<int> index, ReadOnlySpan<byte> zoneOf)
    {
        const ulong Mark = (ulong)(PageFlags.AllocatedHead | PageFlags.BulkMark) << PageDescriptor.FlagsShift;
        Span<bool> own = pages.Length <= 256 ? stackalloc bool[pages.Length] : new bool[pages.Length];
        ClaimOwn(index, zoneOf, own, Mark);
        int bad = -1;
        FastBuddyStatus status = FastBuddyStatus.Ok;
        for (int i = 0; i < pages.Length && bad < 0; i++)
        {
            if (!own[i] && (status = ClaimForFree(_zones[zoneOf[i]], index[i], 0, Mark)) != FastBuddyStatus.Ok)
                bad = i;
        }
        if (bad >= 0)
        {
            // Undo: the claimed pages become plain allocated heads again (of no thread; their frees take step 2).
            for (int i = 0; i < pages.Length; i++)
            {
                ref ulong tag = ref PageDescriptor.TagOf(ref _zones[zoneOf[i]].Desc[index[i]]);
                if ((i < bad || own[i]) && tag == Mark)
                    Volatile.Write(ref tag, PageDescriptor.HeadTag(0, 0));
            }
            ThrowHelper.ThrowFreeRejected(status, pages[bad], 0);
        }
        foreach (Zone zone in _zones)
            CommitBulk(zone, index, zoneOf);
        _frees.Signal();
    }

    /// <summary>Claims, inside the calling thread's window, the entries that are its own order-0 pages.</summary>
    private void ClaimOwn(ReadOnlySpan<int> index, ReadOnlySpan<byte> zoneOf, Span<bool> own, ulong mark)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m == null || m->ArenaKey != _magazines.Key || !_magazines.Enter(m))
            return;
        ulong want = m->HeadTag;
        for (int i = 0; i < index.Length; i++)
        {
            ref ulong tag = ref PageDescriptor.TagOf(ref _zones[zoneOf[i]].Desc[index[i]]);
            if (tag == want)
            {
                tag = mark;
                own[i] = true;
            }
        }
        ThreadMagazines.Exit(m);
    }

    /// <summary>The claimed pages of one zone: into the magazine while it has room and the gate is open, the rest to the zone.</summary>
    private void CommitBulk(Zone zone, ReadOnlySpan<int> index, ReadOnlySpan<byte> zoneOf)
    {
        Span<int> mine = index.Length <= 256 ? stackalloc int[index.Length] : new int[index.Length];
        int n = 0;
        for (int i = 0; i < index.Length; i++)
        {
            if (zoneOf[i] == zone.Index)
                mine[n++] = index[i];
        }
        if (n == 0)
            return;
        int parked = 0;
        if (*zone.Gate > 0)
        {
            Magazine* m = _magazines.For();
            if (_magazines.Enter(m))
            {
                _magazines.MakeRoom(m, zone, 0, n);
                parked = Math.Min(n, _magazines.Room(m, zone, 0));
                _magazines.ParkClaimed(m, zone, 0, mine[..parked]);
                ThreadMagazines.Exit(m);
            }
        }
        if (parked == n)
            return;
        lock (zone.Lock)
        {
            for (int i = parked; i < n; i++)
            {
                zone.FreeBlock(mine[i], 0);
                _accounts[zone.Index].CountFree();
            }
        }
    }
}
