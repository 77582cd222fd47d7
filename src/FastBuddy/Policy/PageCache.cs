using System.Runtime.CompilerServices;
using FastBuddy.Buddy;

namespace FastBuddy.Policy;

/// <summary>
/// The page cache: host-owned order-0 pages on per-zone LRU lists (active, inactive_dirty, inactive_clean) that
/// the arena may launder and reclaim through the owners' callbacks.
/// </summary>
/// <remarks>
/// A cached page is an allocated order-0 head whose descriptor links thread it onto exactly one list; the list is
/// named by one of the <c>On*</c> flags. Pages enter at the head and are scanned from the tail, with 2.4's ages
/// (start 2, +3 when referenced up to 64, halved when scanned unreferenced). A page chosen for eviction leaves the
/// cache under the zone lock (flag <see cref="PageFlags.Reclaiming"/>), so exactly one of "CacheRemove returns true"
/// and "Evict" happens to it. Owners are kept in a table and referred to by index from the descriptor.
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

    public PageCache(BuddyArena arena) => _arena = arena;

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
        PageFlags flags = PageFlags.AllocatedHead | PageFlags.Cached | (dirty ? PageFlags.Dirty : 0);
        ulong cached = (uint)ownerIndex | (ulong)flags << PageDescriptor.FlagsShift | (ulong)StartAge << 56;
        FastBuddyStatus status = _arena.Policy.FreePath.ClaimForFree(zone, page, 0, cached);
        lock (zone.Lock)
        {
            if (status != FastBuddyStatus.Ok)
                RequireOrderZeroHead(zone, page, (nint)p);
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
            // A running Writeback's result is stale now: clearing Laundering tells the launderer to ignore it.
            d.Flags = (d.Flags | PageFlags.Dirty) & ~PageFlags.Laundering;
            if ((d.Flags & PageFlags.OnInactiveClean) != 0)
                Move(zone, page, PageFlags.OnInactiveDirty);
        }
    }

    public bool Remove(void* p)
    {
        Zone zone = _arena.Locate(p, out int page);
        lock (zone.Lock)
        {
            ref PageDescriptor d = ref zone.Desc[page];
            if ((d.Flags & PageFlags.Cached) == 0)
                return false; // reclaimed (or being reclaimed), or never cached
            Leave(zone, page);
            return true;
        }
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
        if (status == FastBuddyStatus.Ok)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"0x{p:x} is not in the page cache.", "page");
        if (status != FastBuddyStatus.Busy)
            ThrowHelper.ThrowBadInput(status, $"0x{p:x} is not a cached page ({status}).", "page");
        return ref zone.Desc[page];
    }
}
