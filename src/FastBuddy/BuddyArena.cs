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
public sealed unsafe partial class BuddyArena : IDisposable
{
    /// <summary>The largest accepted <see cref="ArenaOptions.MaxOrder"/>.</summary>
    public const int MaxOrderLimit = 31;

    private readonly Zone[] _zones;
    private readonly Zone[][] _zonelists;
    private readonly int _pageShift;
    private readonly ILogger? _logger;
    private ulong _key;
    private int _disposed;
    private int _inFlight;

    [ThreadStatic] private static BuddyArena? t_inFlightArena;
    [ThreadStatic] private static int t_inFlightDepth;

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
                _zones[i] = new Zone(i, z.Name, z.Pages, _pageShift, MaxOrder, layout.Memory)
                {
                    PagesMin = z.Watermarks.Min,
                    PagesLow = z.Watermarks.Low,
                    PagesHigh = z.Watermarks.High,
                };
            }
            _zonelists = BuildZonelists(_zones);
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            Cache = new PageCache(this);
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            Policy = new AllocationPath(this, _zones, Cache);
            _key = Policy.Magazines.Key;
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            ArenaMetrics.Register(this);
        }
        catch
        {
            // All or nothing: a zone whose metadata could not be built (a GC heap limit, a refused reservation)
            // must not strand the reservations of the zones built before it, nor a started kswapd.
            Policy?.Shutdown();
            foreach (Zone? z in _zones)
                z?.Dispose();
            throw;
        }
    }

    /// <summary>Zonelist i: zone i, then the zones below it, highest first (2.4's fallback order).</summary>
    private static Zone[][] BuildZonelists(Zone[] zones)
    {
        FaultInjection.Hit(FaultPoint.CreationAllocation);
        var zonelists = new Zone[zones.Length][];
        for (int i = 0; i < zones.Length; i++)
        {
            zonelists[i] = new Zone[i + 1];
            for (int j = 0; j <= i; j++)
                zonelists[i][j] = zones[i - j];
        }
        return zonelists;
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
        get => ThreadState.LastError;
        internal set => ThreadState.LastError = value;
    }

    internal ArenaOptions Options { get; }
    internal ILogger? Logger => _logger;
    internal PageCache Cache { get; }
    internal AllocationPath Policy { get; }
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;
    internal ReadOnlySpan<Zone> Zones => _zones;
    internal Zone[] DefaultZonelist => _zonelists[^1];
    internal int PageShift => _pageShift;

    /// <summary>
    /// Makes the arena's magazines carry <paramref name="key"/> (the C handle), so that the C header's inline path
    /// recognises them. Only before the first allocation.
    /// </summary>
    internal void UseKey(ulong key)
    {
        Policy.Magazines.UseKey(key);
        _key = key;
    }

    /// <summary>
    /// A handle for the calling thread's hot loops: the byte and page fast paths without the thread-static read
    /// of each call (see <see cref="ThreadHandle"/>). Binds the thread's magazine now if it has none yet.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The arena is disposed.</exception>
    public ThreadHandle GetThreadHandle()
    {
        ThrowIfDisposed();
        return new ThreadHandle(this, ThreadMagazine());
    }

    /// <summary>The calling thread's magazine of this arena (bound now if need be); null when the layer is off or the arena is gone.</summary>
    internal PerThread.Magazine* ThreadMagazine()
    {
        if (IsDisposed || !Policy.Magazines.Enabled)
            return null;
        PerThread.Magazine* m = Policy.Magazines.For();
        return m->ArenaKey == _key ? m : null;
    }

    /// <summary>
    /// Frees everything: wakes waiting allocations (they fail), stops kswapd and kreclaimd, calls no owner
    /// callbacks and releases all memory. Every pointer into the arena is invalid afterwards.
    /// </summary>
    /// <remarks>
    /// A call racing <see cref="Dispose"/> either completes before the memory is released or fails cleanly: the
    /// threads' magazines are shut out first (no fast path reaches the arena afterwards), and the memory is
    /// released only once every checked call in flight (which may zero, copy or call back) has returned. Calls made
    /// afterwards throw <see cref="ObjectDisposedException"/>. A pointer a racing call returned is, like every
    /// pointer into the arena, invalid once Dispose returns.
    /// </remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Policy.Shutdown();
        ArenaMetrics.Unregister(this);
        int mine = t_inFlightArena == this ? t_inFlightDepth : 0;
        SpinWait spin = default;
        while (Volatile.Read(ref _inFlight) > mine)
        {
            SchedulePoints.Spin(SchedulePoints.DisposeWaitingCalls);
            spin.SpinOnce(sleep1Threshold: 20);
        }
        SchedulePoints.Reach(SchedulePoints.DisposeReleasing);
        foreach (Zone zone in _zones)
        {
            lock (zone.Lock)
                zone.Dispose();
        }
        Policy.Slabs?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A checked call in flight: <see cref="Dispose"/> releases the memory only once none is.</summary>
    internal readonly ref struct InFlight
    {
        private readonly BuddyArena _arena;

        public InFlight(BuddyArena arena)
        {
            _arena = arena;
            Interlocked.Increment(ref arena._inFlight);
            if (t_inFlightArena is null || t_inFlightArena == arena)
            {
                t_inFlightArena = arena;
                t_inFlightDepth++;
            }
            // After the (fencing) increment: either Dispose sees this call in flight and waits, or we see it started.
            if (Volatile.Read(ref arena._disposed) != 0)
            {
                Dispose();
                ThrowHelper.ThrowDisposed();
            }
        }

        public void Dispose()
        {
            if (t_inFlightArena == _arena && --t_inFlightDepth == 0)
                t_inFlightArena = null;
            Interlocked.Decrement(ref _arena._inFlight);
        }
    }

    internal InFlight Enter() => new(this);

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
        Zone zone = LocateAny(p, out page);
        if ((((nint)p - zone.Base) & (PageSize - 1)) != 0)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotABlock, (nint)p, 0);
        return zone;
    }

    /// <summary>Pointer → (zone, page it lies in); throws NotOwned.</summary>
    internal Zone LocateAny(void* p, out int page)
    {
        Zone? zone = FindZone((nint)p);
        if (zone is null)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotOwned, (nint)p, 0);
        page = (int)(((nint)p - zone.Base) >> _pageShift);
        return zone;
    }

    /// <summary>True when <paramref name="page"/> of <paramref name="zone"/> belongs to a slab.</summary>
    internal static bool IsSlabPage(Zone zone, int page)
        => (Volatile.Read(ref PageDescriptor.TagOf(ref zone.Desc[page])) & PageDescriptor.SlabBit) != 0;

    /// <summary>The order of the live block headed by <paramref name="page"/>; throws when it is not one. Zone lock held.</summary>
    internal static int CheckedBlockOrder(Zone zone, int page, nint p)
    {
        ref PageDescriptor d = ref zone.Desc[page];
        FastBuddyStatus status = zone.CheckFree(page, d.Order);
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, p, d.Order);
        return d.Order;
    }

    /// <summary>Flags as the policy sees them: MemAlloc inside owner callbacks and on the reclaimer thread.</summary>
    internal static AllocFlags EffectiveFlags(AllocFlags flags)
        => ThreadState.Current.ReclaimDepth != 0 ? flags | AllocFlags.MemAlloc : flags;

    /// <summary>Step 7's message; the event is off the fast path (the allocation has already failed).</summary>
    internal void LogAllocationFailed(int order, AllocFlags flags)
    {
        if (_logger is not null)
            ArenaLog.AllocationFailed(_logger, order, flags);
    }

    /// <summary>Step 7 asks the out-of-memory handler once, and logs its answer.</summary>
    internal bool AskOutOfMemoryHandler(OutOfMemoryHandler handler, int order, AllocFlags flags)
    {
        bool retry = handler(this, order, flags);
        if (_logger is not null)
            ArenaLog.OutOfMemoryHandlerCalled(_logger, order, flags, retry);
        return retry;
    }
}
