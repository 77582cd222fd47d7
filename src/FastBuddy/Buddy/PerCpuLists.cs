using System.Runtime.CompilerServices;

namespace FastBuddy.Buddy;

/// <summary>
/// Per-CPU page lists (later kernels' pcp lists, kept per thread here): each thread parks recently freed blocks of
/// the low orders and reuses them without a lock; the lists are refilled and drained in batches under the zone lock.
/// </summary>
/// <remarks>
/// <para>
/// A parked block is allocated as far as the buddy system knows (its head carries <see cref="PageFlags.PerCpu"/>),
/// is counted in <see cref="ArenaStats.PerCpuPages"/> and never in free_pages, and is handed out only after the
/// allocation path's step-1 watermark check. A refill takes at most a batch and never takes a zone below
/// pages_low; a full list spills its coldest batch back. Order 0 keeps up to <see cref="ArenaOptions.PerCpuPages"/>
/// pages; order k keeps a quarter as many blocks per order step (at least one), and no list may hold more than
/// 1/64 of its zone.
/// </para>
/// <para>
/// Lists are drained (all threads at once, see <see cref="ThreadPageCache"/>) when an allocation is about to fail,
/// by <see cref="BuddyArena.Validate"/>, and for threads that have exited, by kswapd's periodic pass, by every
/// full drain and whenever a new thread registers; so no page is stranded by a thread's exit.
/// </para>
/// </remarks>
internal sealed unsafe class PerCpuLists
{
    private static int s_nextArenaId;

    private readonly Zone[] _zones;
    private readonly int[] _high;
    private readonly int[] _batch;
    private readonly Lock _registryLock = new();
    private readonly List<ThreadPageCache> _caches = [];
    private ThreadPageCache[] _snapshot = [];

    public PerCpuLists(Zone[] zones, int maxOrder, int orderZeroHigh, int orderZeroBatch, int orders)
    {
        _zones = zones;
        ArenaId = Interlocked.Increment(ref s_nextArenaId);
        Orders = orderZeroHigh > 0 ? Math.Clamp(orders, 1, maxOrder) : 0;
        Enabled = Orders > 0;
        _high = new int[zones.Length * Math.Max(Orders, 1)];
        _batch = new int[_high.Length];
        for (int z = 0; z < zones.Length; z++)
        {
            for (int order = 0; order < Orders; order++)
            {
                int high = order == 0 ? orderZeroHigh : Math.Max(1, orderZeroHigh >> (order + 2));
                if (((long)high << order) > zones[z].Pages / 64)
                    high = (int)Math.Min(high, (zones[z].Pages / 64) >> order);
                int batch = order == 0 ? Math.Clamp(orderZeroBatch, 1, Math.Max(high, 1)) : Math.Max(1, high / 4);
                _high[z * Orders + order] = high;
                _batch[z * Orders + order] = batch;
                if (high > 0 && zones[z].PerCpuOrders == order)
                    zones[z].PerCpuOrders = order + 1;
            }
        }
    }

    public int ArenaId { get; }
    public bool Enabled { get; }
    public int Orders { get; }

    public int High(int zone, int order) => _high[zone * Orders + order];

    public int Batch(int zone, int order) => _batch[zone * Orders + order];

    /// <summary>The calling thread's lists for this arena (created on first use).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ThreadPageCache For()
    {
        ThreadPageCache? cache = ThreadState.LastCache;
        if (cache is not null && cache.ArenaId == ArenaId)
            return cache;
        return Lookup();
    }

    /// <summary>
    /// Step 1's shortcut: a parked block of <paramref name="order"/> from the calling thread's list for
    /// <paramref name="zone"/>, or -1 (no list yet, or it is empty). The caller has done the watermark check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TryPop(Zone zone, int order)
    {
        ThreadPageCache? cache = ThreadState.LastCache;
        if (cache is null || cache.ArenaId != ArenaId)
            return -1;
        cache.Enter();
        int page = cache.Pop(zone.Index, order);
        if (page >= 0)
        {
            zone.Desc[page].Flags = PageFlags.AllocatedHead;
            cache.CountServed(zone.Index);
            cache.State.LastError = FastBuddyStatus.Ok;
        }
        cache.Exit();
        return page;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ThreadPageCache Lookup()
    {
        ThreadState state = ThreadState.Current;
        state.OtherCaches ??= [];
        if (ThreadState.LastCache is { Dead: false } last)
            state.OtherCaches[last.ArenaId] = last;
        if (!state.OtherCaches.TryGetValue(ArenaId, out ThreadPageCache? cache))
        {
            foreach (KeyValuePair<int, ThreadPageCache> entry in state.OtherCaches)
            {
                if (entry.Value.Dead)
                    state.OtherCaches.Remove(entry.Key);
            }
            cache = new ThreadPageCache(ArenaId, this, _zones.Length, state);
            Register(cache);
            state.OtherCaches[ArenaId] = cache;
        }
        ThreadState.LastCache = cache;
        return cache;
    }

    private void Register(ThreadPageCache cache)
    {
        DrainExited();
        lock (_registryLock)
        {
            _caches.Add(cache);
            _snapshot = [.. _caches];
        }
    }

    /// <summary>Every registered list, for counters and drains.</summary>
    public ThreadPageCache[] Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Pages parked in all threads' lists, per zone (racy while threads run).</summary>
    public long ParkedPages(int zone)
    {
        long pages = 0;
        foreach (ThreadPageCache cache in Snapshot)
        {
            for (int order = 0; order < Orders; order++)
                pages += (long)cache.Count(zone, order) << order;
        }
        return pages;
    }

    /// <summary>
    /// Refills a thread's (empty) list from the zone and returns one block for the caller, or -1. Takes the first
    /// block above the caller's reserve floor and the rest of the batch only while the zone stays at pages_low.
    /// The owner is inside an operation (<see cref="ThreadPageCache.Enter"/>).
    /// </summary>
    public int Refill(ThreadPageCache cache, Zone zone, int order, long floor)
    {
        int batch = Batch(zone.Index, order);
        lock (zone.Lock)
        {
            int page = zone.RmQueue(order, floor);
            if (page < 0)
                return -1;
            for (int i = 1; i < batch; i++)
            {
                int extra = zone.RmQueue(order, zone.PagesLow);
                if (extra < 0)
                    break;
                zone.Desc[extra].Flags = PageFlags.AllocatedHead | PageFlags.PerCpu;
                cache.Push(zone.Index, order, extra);
            }
            return page;
        }
    }

    /// <summary>A full list gives its coldest batch back to the zone. The owner is inside an operation.</summary>
    public void Spill(ThreadPageCache cache, Zone zone, int order)
    {
        Span<int> pages = stackalloc int[Batch(zone.Index, order)];
        int n = cache.TakeOldest(zone.Index, order, pages);
        lock (zone.Lock)
        {
            for (int i = 0; i < n; i++)
                zone.ReleaseBlock(pages[i], order);
        }
    }

    /// <summary>
    /// Returns every parked block of every thread to the buddy system (and forgets exited threads).
    /// Returns the pages drained. Must not be called from inside a list operation.
    /// </summary>
    public long DrainAll() => Drain(exitedOnly: false);

    /// <summary>Drains and forgets the lists of threads that have exited.</summary>
    public long DrainExited() => Drain(exitedOnly: true);

    private long Drain(bool exitedOnly)
    {
        ThreadPageCache[] caches = Snapshot;
        var targets = new List<ThreadPageCache>(caches.Length);
        foreach (ThreadPageCache cache in caches)
        {
            if (!exitedOnly || !cache.Owner.IsAlive)
                targets.Add(cache);
        }
        if (targets.Count == 0)
            return 0;

        long drained = 0;
        // Lock in registry order (every drainer does), raise the requests, then one barrier for all.
        foreach (ThreadPageCache cache in targets)
            cache.DrainLock.Enter();
        try
        {
            foreach (ThreadPageCache cache in targets)
                cache.DrainRequested = 1;
            Interlocked.MemoryBarrierProcessWide();
            foreach (ThreadPageCache cache in targets)
            {
                SpinWait spin = default;
                while (cache.InUse != 0)
                    spin.SpinOnce();
                drained += Empty(cache);
            }
        }
        finally
        {
            foreach (ThreadPageCache cache in targets)
                cache.DrainLock.Exit();
        }

        List<ThreadPageCache> exited = targets.FindAll(c => !c.Owner.IsAlive);
        if (exited.Count > 0)
            Retire(exited);
        return drained;
    }

    /// <summary>Forgets the lists of exited threads, folding their counters into their zones'.</summary>
    private void Retire(List<ThreadPageCache> exited)
    {
        lock (_registryLock)
        {
            foreach (ThreadPageCache cache in exited)
            {
                if (!_caches.Remove(cache))
                    continue; // another drainer retired it
                for (int z = 0; z < _zones.Length; z++)
                {
                    Zone zone = _zones[z];
                    lock (zone.Lock)
                    {
                        zone.Steps[(int)Policy.AllocationStep.FastPath] += cache.Served(z);
                        zone.Frees += cache.Freed(z);
                        zone.Pressure += cache.Served(z) - cache.Freed(z);
                    }
                }
            }
            _snapshot = [.. _caches];
        }
    }

    private long Empty(ThreadPageCache cache)
    {
        long pages = 0;
        Span<int> buffer = stackalloc int[64];
        for (int z = 0; z < _zones.Length; z++)
        {
            Zone zone = _zones[z];
            for (int order = 0; order < Orders; order++)
            {
                while (cache.Count(z, order) > 0)
                {
                    int n = cache.TakeOldest(z, order, buffer);
                    lock (zone.Lock)
                    {
                        for (int i = 0; i < n; i++)
                            zone.ReleaseBlock(buffer[i], order);
                    }
                    pages += (long)n << order;
                }
            }
        }
        return pages;
    }

    /// <summary>Dispose: the lists die with the arena (its memory is released as a whole).</summary>
    public void Kill()
    {
        foreach (ThreadPageCache cache in Snapshot)
            cache.Dead = true;
    }
}
