using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;

namespace FastBuddy.Policy;

/// <summary>
/// The page cache: host-owned order-0 pages on per-zone LRU lists (active, inactive_dirty, inactive_clean) that
/// the arena may launder and reclaim through the owners' callbacks.
/// </summary>
/// <remarks>
/// <para>
/// A cached page is an allocated order-0 head whose descriptor links thread it onto exactly one list; the list is
/// named by one of the <c>On*</c> flags. Pages enter at the head and are scanned from the tail, with 2.4's ages
/// (start 2, +3 when referenced up to 64, halved when scanned unreferenced). Owners are kept in a table and
/// referred to by index from the descriptor; the rest of a page's cache state lives out of band in a
/// <see cref="CacheSlot"/> per page (one array per zone, made at the zone's first CacheAdd).
/// </para>
/// <para>
/// Callbacks run outside the zone lock, so every race between a callback and the host is settled by what was
/// recorded under the lock. Eviction: a page chosen for eviction leaves the cache under the lock (flag
/// <see cref="PageFlags.Reclaiming"/>), so exactly one of "CacheRemove returns true" and "Evict" happens to it, and
/// it stays claimed until the reclaimer frees it or hands it to its allocating caller, so a host's free in between
/// is refused. Writeback: a launderer chooses a page under the lock (<see cref="PageFlags.Laundering"/>, and a
/// Chosen token in the slot), lets go of the lock, and turns the token into Running with one compare-exchange just
/// before calling Writeback; CacheRemove cancels a Chosen token under the lock, so after it returned true no
/// callback of that page starts (one already running is the host's own, as before, and runs on). The result
/// applies only to the same residency, and cleans the page only when no CacheMarkDirty came after the writeback
/// began (the slot's dirty count); while a Laundering page waits for its result no other launderer takes it, and
/// while any writeback of a page runs (even one from before a CacheRemove) no reclaim evicts or frees it.
/// </para>
/// </remarks>
internal sealed unsafe class PageCache
{
    public const byte StartAge = 2;
    public const byte AgeStep = 3;
    public const byte MaxAge = 64;

    private readonly BuddyArena _arena;
    private readonly Lock _ownersLock = new();
    private readonly Dictionary<IPageOwner, int> _ownerIndex = new(ReferenceEqualityComparer.Instance);
    private IPageOwner?[] _owners = new IPageOwner?[8];
    private readonly CacheSlot[]?[] _slots;

    public PageCache(BuddyArena arena)
    {
        _arena = arena;
        _slots = new CacheSlot[arena.Zones.Length][];
    }

    /// <summary>The zone's slots, or null when no page of the zone was ever cached.</summary>
    public CacheSlot[]? SlotsOf(Zone zone) => Volatile.Read(ref _slots[zone.Index]);

    private CacheSlot[] SlotsFor(Zone zone)
    {
        CacheSlot[]? slots = SlotsOf(zone);
        if (slots is null)
        {
            Interlocked.CompareExchange(ref _slots[zone.Index], new CacheSlot[zone.Pages], null);
            slots = SlotsOf(zone)!;
        }
        return slots;
    }

    public IPageOwner OwnerOf(int index) => Volatile.Read(ref _owners)[index]!;

    private int IndexOf(IPageOwner owner)
    {
        lock (_ownersLock)
        {
            if (_ownerIndex.TryGetValue(owner, out int index))
                return index;
            index = _ownerIndex.Count + 1; // 0 means "no owner"
            if (index == _owners.Length)
            {
                var grown = new IPageOwner?[_owners.Length * 2];
                _owners.CopyTo(grown, 0);
                Volatile.Write(ref _owners, grown);
            }
            _owners[index] = owner;
            _ownerIndex.Add(owner, index);
            return index;
        }
    }

    // ------------------------------------------------------------ host calls

    public void Add(void* p, IPageOwner owner, bool dirty)
    {
        Zone zone = _arena.Locate(p, out int page);
        int ownerIndex = IndexOf(owner);
        // Claimed like a free (outside the zone lock: the claim may shut the block's owner thread out first), so
        // that of a racing free and this call exactly one wins; the loser is told what the winner left.
        CacheSlot[] slots = SlotsFor(zone);
        PageFlags flags = PageFlags.AllocatedHead | PageFlags.Cached | (dirty ? PageFlags.Dirty : 0);
        ulong cached = (uint)ownerIndex | (ulong)flags << PageDescriptor.FlagsShift | (ulong)StartAge << 56;
        FastBuddyStatus status = _arena.Policy.FreePath.ClaimForFree(zone, page, 0, cached);
        if (status != FastBuddyStatus.Ok)
        {
            lock (zone.Lock)
                RequireOrderZeroHead(zone, page, (nint)p);
            ThrowHelper.ThrowBadInput(FastBuddyStatus.Busy, $"0x{(nint)p:x} changed state during CacheAdd ({status}).", "page");
        }
        SchedulePoints.Reach(SchedulePoints.CacheAddClaimed);
        lock (zone.Lock)
        {
            ref CacheSlot slot = ref slots[page];
            slot.Residency++;
            slot.Reclaimed = false;
            // Linked once, and only while still cached: a racing CacheRemove may have taken the page back since
            // the claim (or a racing CacheAdd linked it already); a host's misuse must not corrupt the lists.
            if ((zone.Desc[page].Flags & (PageFlags.Cached | PageFlags.OnAnyList)) == PageFlags.Cached)
                Link(zone, page, PageFlags.OnActive);
        }
    }

    public void Touch(void* p)
    {
        Zone zone = _arena.Locate(p, out int page);
        lock (zone.Lock)
        {
            ref PageDescriptor d = ref RequireCached(zone, page, (nint)p);
            if ((d.Flags & PageFlags.Cached) == 0)
                return; // being evicted: the touch lost the race
            d.Flags |= PageFlags.Referenced;
            d.Age = (byte)Math.Min(d.Age + AgeStep, MaxAge);
            if ((d.Flags & (PageFlags.OnInactiveDirty | PageFlags.OnInactiveClean)) != 0 && (d.Flags & PageFlags.Laundering) == 0)
                Move(zone, page, PageFlags.OnActive);
        }
    }

    public void MarkDirty(void* p)
    {
        Zone zone = _arena.Locate(p, out int page);
        lock (zone.Lock)
        {
            ref PageDescriptor d = ref RequireCached(zone, page, (nint)p);
            if ((d.Flags & PageFlags.Cached) == 0)
                return;
            // A running Writeback may have read the old contents: it must not make the page clean now.
            d.Flags |= PageFlags.Dirty;
            SlotsOf(zone)![page].Dirtied++;
            if ((d.Flags & PageFlags.OnInactiveClean) != 0)
                Move(zone, page, PageFlags.OnInactiveDirty);
        }
    }

    /// <summary>
    /// True: the page left the cache and no callback of it will start. False: the arena chose it for eviction since
    /// it was last cached. Throws when the page is not in the cache otherwise (never cached, or already removed).
    /// </summary>
    public bool Remove(void* p)
    {
        Zone zone = _arena.Locate(p, out int page);
        FastBuddyStatus status;
        lock (zone.Lock)
        {
            ref PageDescriptor d = ref zone.Desc[page];
            CacheSlot[]? slots = SlotsOf(zone);
            if ((d.Flags & PageFlags.Cached) != 0)
            {
                ref CacheSlot slot = ref slots![page];
                // A writeback chosen but not started is cancelled; one that has started runs on (the host's own).
                if ((d.Flags & PageFlags.Laundering) != 0)
                    Interlocked.CompareExchange(ref slot.Writeback, 0, CacheSlot.Chosen(slot.Residency));
                Leave(zone, page);
                return true;
            }
            if ((d.Flags & PageFlags.Reclaiming) != 0 || (slots is not null && slots[page].Reclaimed))
                return false;
            status = zone.CheckFree(page, 0);
        }
        ThrowNotCached(status, (nint)p);
        return false;
    }

    // ------------------------------------------------------------ list mechanics (zone lock held)

    /// <summary>Puts a page at the head of the list named by <paramref name="list"/>.</summary>
    public static void Link(Zone zone, int page, PageFlags list)
    {
        zone.Desc[page].Flags |= list;
        ListOf(zone, list).PushHead(zone.Desc, page);
    }

    /// <summary>Takes a page off whatever list it is on.</summary>
    public static void Unlink(Zone zone, int page)
    {
        ref PageDescriptor d = ref zone.Desc[page];
        PageFlags list = d.Flags & PageFlags.OnAnyList;
        if (list == 0)
            return;
        ListOf(zone, list).Remove(zone.Desc, page);
        d.Flags &= ~PageFlags.OnAnyList;
    }

    /// <summary>Moves a page to the head of another (or the same) list.</summary>
    public static void Move(Zone zone, int page, PageFlags list)
    {
        Unlink(zone, page);
        Link(zone, page, list);
    }

    /// <summary>Takes a page out of the cache entirely; it stays an allocated order-0 head.</summary>
    public static void Leave(Zone zone, int page)
    {
        Unlink(zone, page);
        ref PageDescriptor d = ref zone.Desc[page];
        d.Flags &= ~PageFlags.CacheState;
        d.Owner = 0;
        d.Age = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref PageList ListOf(Zone zone, PageFlags list)
    {
        if (list == PageFlags.OnActive)
            return ref zone.Active;
        if (list == PageFlags.OnInactiveDirty)
            return ref zone.InactiveDirty;
        return ref zone.InactiveClean;
    }

    /// <summary>Add: the page must be a live, uncached order-0 block (CheckFree's verdict must be Ok).</summary>
    private static ref PageDescriptor RequireOrderZeroHead(Zone zone, int page, nint p)
    {
        FastBuddyStatus status = zone.CheckFree(page, 0);
        if (status == FastBuddyStatus.Busy)
            ThrowHelper.ThrowBadInput(status, $"0x{p:x} is already in the page cache.", "page");
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowBadInput(status, $"0x{p:x} cannot be cached ({status}): only allocated order-0 pages can.", "page");
        return ref zone.Desc[page];
    }

    /// <summary>Touch, MarkDirty: the page must be cached (or being evicted, when the call lost the race).</summary>
    private static ref PageDescriptor RequireCached(Zone zone, int page, nint p)
    {
        FastBuddyStatus status = zone.CheckFree(page, 0);
        if (status != FastBuddyStatus.Busy)
            ThrowNotCached(status, p);
        return ref zone.Desc[page];
    }

    /// <summary>
    /// A page that is not in the cache: a live order-0 block (CheckFree's Ok) is InvalidArgument, anything else
    /// (free, interior, another order) is what CheckFree found.
    /// </summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotCached(FastBuddyStatus status, nint p)
    {
        if (status == FastBuddyStatus.Ok)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"0x{p:x} is not in the page cache.", "page");
        ThrowHelper.ThrowBadInput(status, $"0x{p:x} is not a cached page ({status}).", "page");
    }
}
