using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.Policy;
using Microsoft.Extensions.Logging;

namespace FastBuddy;

/// <summary>
/// A fixed arena of native memory managed by a zoned binary buddy system with the Linux 2.4 allocation policy.
/// </summary>
/// <remarks>
/// <para>
/// The arena takes one aligned region per zone from the operating system when it is created and never asks for
/// more. Pages are handed out as blocks of 2^order contiguous pages, aligned to their own size. Which zone serves a
/// request, and what the caller may do when memory is short (reclaim clean cache pages, write dirty ones back,
/// wait for kswapd), follows 2.4's <c>__alloc_pages</c>: see <see cref="AllocFlags"/> and docs/policy.md.
/// </para>
/// <para>
/// Every member is thread-safe. <see cref="Dispose"/> is the arena's "free everything": afterwards every pointer
/// into the arena is invalid and every call throws <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed unsafe class BuddyArena : IDisposable
{
    /// <summary>The largest accepted <see cref="ArenaOptions.MaxOrder"/>.</summary>
    public const int MaxOrderLimit = 31;

    private readonly Zone[] _zones;
    private readonly Zone[][] _zonelists;
    private readonly int _pageShift;
    private readonly ILogger? _logger;
    private readonly WaitQueue _frees;
    private int _disposed;

    /// <summary>Creates an arena; every zone's memory is reserved now (and not touched).</summary>
    /// <exception cref="FastBuddyException">The options are inconsistent (status <see cref="FastBuddyStatus.InvalidArgument"/>).</exception>
    public BuddyArena(ArenaOptions options)
    {
        ArenaLayout layout = ArenaLayout.From(options);
        Options = options;
        _logger = options.Logger;
        _pageShift = layout.PageShift;
        MaxOrder = layout.MaxOrder;
        _zones = new Zone[layout.Zones.Length];
        try
        {
            for (int i = 0; i < _zones.Length; i++)
            {
                ArenaLayout.ZoneLayout z = layout.Zones[i];
                _zones[i] = new Zone(i, z.Name, z.Pages, _pageShift, MaxOrder)
                {
                    PagesMin = z.Watermarks.Min,
                    PagesLow = z.Watermarks.Low,
                    PagesHigh = z.Watermarks.High,
                };
            }
        }
        catch
        {
            foreach (Zone? z in _zones)
                z?.Dispose();
            throw;
        }
        _zonelists = new Zone[_zones.Length][];
        for (int i = 0; i < _zones.Length; i++)
        {
            _zonelists[i] = new Zone[i + 1];
            for (int j = 0; j <= i; j++)
                _zonelists[i][j] = _zones[i - j];
        }
        Cache = new PageCache(this);
        Policy = new AllocationPath(this, _zones, Cache);
        _frees = Policy.Frees;
        ArenaMetrics.Register(this);
    }

    /// <summary>Creates an arena of one zone "Normal" with default options.</summary>
    public static BuddyArena Create(nuint bytes) => new(new ArenaOptions { ArenaBytes = bytes });

    /// <summary>Page size in bytes.</summary>
    public int PageSize => 1 << _pageShift;

    /// <summary>Number of orders: blocks of 2^0 .. 2^(MaxOrder-1) pages.</summary>
    public int MaxOrder { get; }

    /// <summary>Number of zones (and of zonelists).</summary>
    public int ZoneCount => _zones.Length;

    /// <summary>Why the calling thread's last allocation returned null (<see cref="FastBuddyStatus.Ok"/> after a success).</summary>
    public static FastBuddyStatus LastError
    {
        get => ThreadState.Current.LastError;
        internal set => ThreadState.Current.LastError = value;
    }

    internal ArenaOptions Options { get; }
    internal ILogger? Logger => _logger;
    internal PageCache Cache { get; }
    internal AllocationPath Policy { get; }
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;
    internal ReadOnlySpan<Zone> Zones => _zones;
    internal int PageShift => _pageShift;

    // ---------------------------------------------------------------- pages

    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from the default (highest) zonelist.</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    public void* AllocPages(int order, AllocFlags flags = AllocFlags.Kernel)
        => AllocPages(order, flags, _zones.Length - 1);

    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from zonelist <paramref name="zonelist"/> (zones zonelist .. 0).</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    public void* AllocPages(int order, AllocFlags flags, int zonelist)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        if ((uint)zonelist >= (uint)_zones.Length)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"Zonelist {zonelist} does not exist; there are {_zones.Length}.", nameof(zonelist));
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Unknown allocation flags 0x{(uint)flags:x}.", nameof(flags));
        void* block = Policy.Allocate(order, flags, _zonelists[zonelist]);
        if (block != null && (flags & AllocFlags.Zero) != 0)
            Platform.ArenaMemory.Zero(block, (nuint)1 << (_pageShift + order));
        return block;
    }

    /// <summary>Returns a block to the buddy system.</summary>
    /// <exception cref="FastBuddyException">
    /// NotOwned, NotABlock, DoubleFree, OrderMismatch or Busy (a cached page); the arena is unchanged.
    /// </exception>
    public void FreePages(void* block, int order)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        Zone zone = Locate(block, out int page);
        ref PageDescriptor d = ref zone.Desc[page];
        // A plain allocated head of the right order, small enough for the per-CPU lists: park it, lock-free
        // (unless an allocation is waiting for a free: then it goes straight to the zone).
        if (d.Flags == PageFlags.AllocatedHead && d.Order == order && TryPark(zone, page, order))
            return;
        FreeLocked(zone, page, order, (nint)block);
    }

    /// <summary>
    /// The lock-free free: a block of a listed order goes to the thread's per-CPU list, unless an allocation is
    /// waiting for a free (then it goes straight to the zone) or a racing free claimed it first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPark(Zone zone, int page, int order)
        => order < zone.PerCpuOrders && !_frees.HasWaiters && Policy.TryFreeParked(zone, page, order);

    /// <summary>The checked free under the zone lock; throws when the block is not a live block of that order.</summary>
    private void FreeLocked(Zone zone, int page, int order, nint block)
    {
        FastBuddyStatus status;
        lock (zone.Lock)
        {
            status = zone.CheckFree(page, order);
            // Claim the head atomically: a racing lock-free (per-CPU) free of the same block may have won.
            if (status == FastBuddyStatus.Ok && !zone.TryClaim(page, PageFlags.Freed))
                status = zone.CheckFree(page, order);
            if (status == FastBuddyStatus.Ok)
                zone.FreeBlock(page, order);
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, block, order);
        Policy.OnFree();
    }

    /// <summary>
    /// Allocates <c>pages.Length</c> order-0 pages at once into <paramref name="pages"/>, with one zone-lock round
    /// trip per zone for what the fast path can serve. Returns how many were allocated: fewer than asked only when
    /// the policy refuses the rest (see <see cref="LastError"/>); the entries past the count are left untouched.
    /// </summary>
    public int AllocPagesBulk(Span<nint> pages, AllocFlags flags = AllocFlags.Kernel)
    {
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Unknown allocation flags 0x{(uint)flags:x}.", nameof(flags));
        int n = Policy.AllocateBulk(pages, flags, _zonelists[^1]);
        if ((flags & AllocFlags.Zero) != 0)
        {
            foreach (nint p in pages[..n])
                Platform.ArenaMemory.Zero((void*)p, (nuint)PageSize);
        }
        return n;
    }

    /// <summary>
    /// Frees order-0 pages at once, one lock round trip per zone. All or nothing: if any entry is not a live
    /// order-0 page (or appears twice), nothing is freed and the first bad entry's status is thrown.
    /// </summary>
    public void FreePagesBulk(ReadOnlySpan<nint> pages)
    {
        ThrowIfDisposed();
        if (pages.IsEmpty)
            return;
        Span<int> index = pages.Length <= 256 ? stackalloc int[pages.Length] : new int[pages.Length];
        Span<byte> zoneOf = pages.Length <= 256 ? stackalloc byte[pages.Length] : new byte[pages.Length];
        if (_zones.Length > byte.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, "Bulk frees support up to 255 zones.", nameof(pages));
        for (int i = 0; i < pages.Length; i++)
        {
            zoneOf[i] = (byte)Locate((void*)pages[i], out index[i]).Index;
        }
        foreach (Zone zone in _zones)
            zone.Lock.Enter();
        FastBuddyStatus status = FastBuddyStatus.Ok;
        int bad = 0;
        try
        {
            // Check everything first (marking each page so that a duplicate shows), then free everything.
            for (; bad < pages.Length; bad++)
            {
                Zone zone = _zones[zoneOf[bad]];
                ref PageDescriptor d = ref zone.Desc[index[bad]];
                status = (d.Flags & PageFlags.BulkMark) != 0 ? FastBuddyStatus.DoubleFree : zone.CheckFree(index[bad], 0);
                if (status == FastBuddyStatus.Ok && !zone.TryClaim(index[bad], PageFlags.AllocatedHead | PageFlags.BulkMark))
                    status = zone.CheckFree(index[bad], 0);
                if (status != FastBuddyStatus.Ok)
                    break;
            }
            for (int i = 0; i < bad; i++)
            {
                Zone zone = _zones[zoneOf[i]];
                if (status == FastBuddyStatus.Ok)
                    zone.FreeBlock(index[i], 0);
                else
                    zone.Desc[index[i]].Flags = PageFlags.AllocatedHead; // undo the claim
            }
        }
        finally
        {
            foreach (Zone zone in _zones)
                zone.Lock.Exit();
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, pages[bad], 0);
        Policy.OnFree();
    }

    /// <summary>True when <paramref name="p"/> points anywhere inside one of the arena's zones.</summary>
    public bool Owns(void* p)
    {
        ThrowIfDisposed();
        return FindZone((nint)p) is not null;
    }

    // ---------------------------------------------------------------- bytes

    /// <summary>Allocates at least <paramref name="bytes"/> bytes as a power-of-two block of pages.</summary>
    /// <returns>The block, or null when the policy refuses (see <see cref="LastError"/>).</returns>
    /// <exception cref="FastBuddyException">Zero bytes, or more than the largest block.</exception>
    public void* Alloc(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
        => AllocPages(OrderForBytes(bytes), flags);

    /// <summary>
    /// Resizes a block from <see cref="Alloc"/>: null allocates, 0 frees and returns null, a smaller size shrinks in
    /// place, a larger one grows in place when the buddies are free and otherwise moves (copying the contents).
    /// </summary>
    /// <returns>The block (possibly moved), or null on failure, when the old block is left untouched.</returns>
    public void* Realloc(void* p, nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        ThrowIfDisposed();
        if (p == null)
            return bytes == 0 ? null : Alloc(bytes, flags);
        if (bytes == 0)
        {
            Free(p);
            return null;
        }
        int newOrder = OrderForBytes(bytes);
        Zone zone = Locate(p, out int page);
        int order;
        bool done;
        lock (zone.Lock)
        {
            order = CheckedBlockOrder(zone, page, (nint)p);
            done = newOrder <= order || zone.TryGrowInPlace(page, order, newOrder, AllocationPath.ReserveFloor(zone, EffectiveFlags(flags)));
            if (newOrder < order)
                zone.ShrinkInPlace(page, order, newOrder);
        }
        if (done)
        {
            LastError = FastBuddyStatus.Ok;
            if (newOrder < order)
                Policy.OnFree();
            if (newOrder > order && (flags & AllocFlags.Zero) != 0)
                Platform.ArenaMemory.Zero((byte*)p + ((nint)1 << (_pageShift + order)),
                    ((nuint)1 << (_pageShift + newOrder)) - ((nuint)1 << (_pageShift + order)));
            return p;
        }
        void* moved = AllocPages(newOrder, flags);
        if (moved == null)
            return null;
        Buffer.MemoryCopy(p, moved, (long)1 << (_pageShift + newOrder), (long)1 << (_pageShift + order));
        FreePages(p, order);
        return moved;
    }

    /// <summary>Frees a block of any order; <c>Free(null)</c> does nothing.</summary>
    /// <exception cref="FastBuddyException">Not a live block of this arena, or a cached page.</exception>
    public void Free(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return;
        Zone zone = Locate(p, out int page);
        ref PageDescriptor d = ref zone.Desc[page];
        int order = d.Order;
        if (d.Flags == PageFlags.AllocatedHead && TryPark(zone, page, order))
            return;
        FreeLocked(zone, page, order, (nint)p);
    }

    /// <summary>Bytes usable at <paramref name="p"/>: the block's full size. 0 for null.</summary>
    /// <exception cref="FastBuddyException">Not a live block of this arena.</exception>
    public nuint UsableSize(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return 0;
        Zone zone = Locate(p, out int page);
        int order;
        lock (zone.Lock)
            order = CheckedBlockOrder(zone, page, (nint)p);
        return (nuint)1 << (_pageShift + order);
    }

    /// <summary>
    /// Rents a block of at least <paramref name="bytes"/> (at most <see cref="int.MaxValue"/>) as
    /// <see cref="IMemoryOwner{T}"/>; disposing the owner frees the block.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The policy refused the allocation.</exception>
    public IMemoryOwner<byte> Rent(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        if (bytes > int.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Rent is limited to {int.MaxValue} bytes; got {bytes}.", nameof(bytes));
        void* p = Alloc(bytes, flags);
        if (p == null)
            throw new InsufficientMemoryException($"The arena could not provide {bytes} bytes ({LastError}).");
        return new NativeBlockOwner(this, p, (int)bytes);
    }

    // ---------------------------------------------------------------- page cache

    /// <summary>Puts an allocated order-0 page into the page cache (on its zone's active list) under <paramref name="owner"/>.</summary>
    /// <exception cref="FastBuddyException">The page is not an allocated order-0 head of this arena, or is already cached.</exception>
    public void CacheAdd(void* page, IPageOwner owner, bool dirty = false)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(owner);
        Cache.Add(page, owner, dirty);
    }

    /// <summary>Marks a cached page referenced: it ages up and may return to the active list.</summary>
    public void CacheTouch(void* page)
    {
        ThrowIfDisposed();
        Cache.Touch(page);
    }

    /// <summary>Marks a cached page dirty: it needs Writeback before it can be reclaimed.</summary>
    public void CacheMarkDirty(void* page)
    {
        ThrowIfDisposed();
        Cache.MarkDirty(page);
    }

    /// <summary>
    /// Takes a page out of the cache and gives it back to the host, still allocated. False when the arena has
    /// already chosen it for reclaim (its owner's Evict runs or ran): the page is then no longer the host's.
    /// </summary>
    public bool CacheRemove(void* page)
    {
        ThrowIfDisposed();
        return Cache.Remove(page);
    }

    // ---------------------------------------------------------------- diagnostics

    /// <summary>A consistent snapshot per zone (zones are read one after another).</summary>
    public ArenaStats GetStats()
    {
        ThrowIfDisposed();
        return StatsCollector.Collect(this);
    }

    /// <summary>Walks every list, bitmap and counter.</summary>
    /// <exception cref="FastBuddyException">Status <see cref="FastBuddyStatus.Corrupt"/>, with the broken invariant.</exception>
    public void Validate()
    {
        ThrowIfDisposed();
        ArenaValidator.Validate(this);
    }

    /// <summary>Runs one kswapd pass synchronously (for arenas without background threads; harmless with them).</summary>
    public void Balance()
    {
        ThrowIfDisposed();
        Policy.Balance();
    }

    /// <summary>
    /// Frees everything: wakes waiting allocations (they fail), stops kswapd and kreclaimd, calls no owner
    /// callbacks and releases all memory. Every pointer into the arena is invalid afterwards.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Policy.Shutdown();
        ArenaMetrics.Unregister(this);
        foreach (Zone zone in _zones)
        {
            lock (zone.Lock)
                zone.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    // ---------------------------------------------------------------- helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed()
    {
        if (_disposed != 0)
            ThrowHelper.ThrowDisposed();
    }

    /// <summary>The order of the smallest block holding <paramref name="bytes"/>.</summary>
    internal int OrderForBytes(nuint bytes)
    {
        nuint largest = (nuint)1 << (_pageShift + MaxOrder - 1);
        if (bytes - 1 >= largest)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"Size {bytes} is out of range: it must be from 1 to {largest} bytes.", nameof(bytes));
        nuint pages = (bytes + (nuint)PageSize - 1) >> _pageShift;
        return BitOperations.Log2(BitOperations.RoundUpToPowerOf2(pages));
    }

    internal Zone? FindZone(nint p)
    {
        foreach (Zone zone in _zones)
        {
            if (zone.Contains(p))
                return zone;
        }
        return null;
    }

    /// <summary>Pointer → (zone, page); throws NotOwned or NotABlock (misaligned).</summary>
    internal Zone Locate(void* p, out int page)
    {
        Zone? zone = FindZone((nint)p);
        if (zone is null)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotOwned, (nint)p, 0);
        nint offset = (nint)p - zone.Base;
        if ((offset & (PageSize - 1)) != 0)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotABlock, (nint)p, 0);
        page = (int)(offset >> _pageShift);
        return zone;
    }

    /// <summary>The order of the live block headed by <paramref name="page"/>; throws when it is not one. Zone lock held.</summary>
    private static int CheckedBlockOrder(Zone zone, int page, nint p)
    {
        ref PageDescriptor d = ref zone.Desc[page];
        FastBuddyStatus status = zone.CheckFree(page, d.Order);
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, p, d.Order);
        return d.Order;
    }

    /// <summary>Flags as the policy sees them: MemAlloc inside owner callbacks and on the reclaimer thread.</summary>
    private static AllocFlags EffectiveFlags(AllocFlags flags)
        => ThreadState.Current.ReclaimDepth != 0 ? flags | AllocFlags.MemAlloc : flags;

    internal void LogAllocationFailed(int order, AllocFlags flags)
    {
        if (_logger is not null && _logger.IsEnabled(LogLevel.Warning))
            Log.AllocationFailed(_logger, order, flags, null);
    }

    private static class Log
    {
        public static readonly Action<ILogger, int, AllocFlags, Exception?> AllocationFailed =
            LoggerMessage.Define<int, AllocFlags>(LogLevel.Warning, new EventId(1, "AllocationFailed"),
                "{Order}-order allocation failed (flags {Flags}).");
    }
}
