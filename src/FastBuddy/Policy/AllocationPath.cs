using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.PerThread;
using FastBuddy.Slab;

namespace FastBuddy.Policy;

/// <summary>
/// The allocation policy of 2.4.0's <c>__alloc_pages</c>, step by step, on top of the buddy mechanism and the
/// per-thread magazines.
/// </summary>
/// <remarks>
/// <para>
/// A request walks its zonelist up to seven times, each pass more willing than the last. Step 1 takes from any
/// zone comfortably above pages_low (first from the thread's magazine; the arena's inline fast path is this step
/// for the first zone). Steps 2-4 accept a zone whose free plus inactive_clean pages exceed HIGH, then LOW, then
/// (after waking kswapd and yielding) MIN, and a caller allowed to reclaim takes a clean cache page directly when
/// the zone is nearly at pages_min. Step 5 is for callers that may wait: a higher-order request launders and
/// reclaims clean pages into the buddy system until a block of its order forms; a tight single-page request has
/// kswapd run a pass (waiting for it when it may do I/O, doing it itself otherwise) and starts again while that
/// makes progress. Step 6 is the final phase, where only MemAlloc callers may take the last quarter of pages_min.
/// Step 7 fails with the seed's message.
/// </para>
/// <para>
/// Two rules hold in every step: a zone qualifies for an order-k request at watermark W when
/// <c>free + inactive_clean - (2^k - 1) &gt; W</c>, and no rmqueue by a non-MemAlloc caller may leave a zone with
/// fewer than pages_min / 4 free pages. Waiting is bounded (user space has no OOM killer): restarts need progress
/// and are capped, and every wait of a call counts against one <see cref="ArenaOptions.AllocWaitTimeout"/>.
/// Parked blocks go back to the buddy system before any host page is evicted for a call, and again before it fails.
/// </para>
/// </remarks>
internal sealed unsafe partial class AllocationPath
{
    /// <summary>Direct reclaim happens only when a zone has fewer than pages_min + this many free pages.</summary>
    public const int DirectReclaimSlack = 8;

    /// <summary>How many times one call may start again from step 1 after a pass that made progress.</summary>
    public const int MaxRestarts = 16;

    private readonly BuddyArena _arena;
    private readonly Zone[] _zones;
    private readonly ZoneAccount[] _accounts;
    private readonly Reclaim _reclaim;
    private readonly ThreadMagazines _magazines;
    private readonly long _waitTicks;
    private long _failures;
    private readonly long[] _failuresByOrder = new long[BuddyArena.MaxOrderLimit];

    public AllocationPath(BuddyArena arena, Zone[] zones, PageCache cache)
    {
        _arena = arena;
        _zones = zones;
        _accounts = Array.ConvertAll(zones, z => new ZoneAccount(z));
        ArenaOptions options = arena.Options;
        _magazines = new ThreadMagazines(zones, arena.MaxOrder, options.PerCpuPages, options.PerCpuBatch, options.PerCpuOrders, FoldRetired);
        Pressure = new MemoryPressure(_accounts, _magazines);
        Frees = new WaitQueue(RefreshGates);
        _reclaim = new Reclaim(arena, zones, cache, Pressure, Frees);
        Daemon = new Kswapd(arena, zones, _reclaim, Pressure, _magazines, options.BackgroundReclaim);
        FreePath = new FreePath(zones, _accounts, _magazines, Frees);
        var pages = new SlabPages(this, arena);
        var slabs = new SlabCaches(zones, arena.PageShift, arena.MaxOrder, pages);
        if (slabs.SmallMax > 0)
        {
            Slabs = slabs;
            var owned = new OwnedSlabs(slabs);
            _magazines.Slabs = owned;
            Objects = new SlabAllocationPath(slabs, _magazines, owned, pages);
            ObjectFrees = new SlabFreePath(slabs, _magazines, owned);
        }
        else
            slabs.Dispose();
        TimeSpan wait = arena.Options.AllocWaitTimeout;
        _waitTicks = wait == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(wait.TotalSeconds * Stopwatch.Frequency);
    }

    public MemoryPressure Pressure { get; }
    public WaitQueue Frees { get; }
    public Kswapd Daemon { get; }
    public Reclaim Reclaimer => _reclaim;
    public ThreadMagazines Magazines => _magazines;
    public FreePath FreePath { get; }

    /// <summary>The slab layer (null when no size class fits this arena's pages and orders).</summary>
    public SlabCaches? Slabs { get; }

    public SlabAllocationPath? Objects { get; }
    public SlabFreePath? ObjectFrees { get; }
    public long Failures => Volatile.Read(ref _failures);
    public long FailuresOf(int order) => Volatile.Read(ref _failuresByOrder[order]);

    /// <summary>The policy's counters of <paramref name="zone"/>.</summary>
    public ZoneAccount Account(Zone zone) => _accounts[zone.Index];

    public ReadOnlySpan<ZoneAccount> Accounts => _accounts;

    /// <summary>
    /// Allocates a block of <paramref name="order"/> along <paramref name="zonelist"/>, or returns null. The arena's
    /// inline fast path has already tried step 1 for the first zone's magazine.
    /// </summary>
    public void* Allocate(int order, AllocFlags flags, Zone[] zonelist)
    {
        flags = Normalize(flags);
        void* block = StepOne(order, flags, zonelist);
        if (block != null)
        {
            ThreadState.LastError = FastBuddyStatus.Ok;
            return block;
        }
        return SlowPath(order, flags, zonelist);
    }

    /// <summary>
    /// Owner callbacks and the reclaimer thread are memory management (PF_MEMALLOC) whatever they ask for; Io and
    /// Fs mean nothing without Wait.
    /// </summary>
    private static AllocFlags Normalize(AllocFlags flags)
    {
        if (ThreadState.Current.ReclaimDepth != 0)
            flags |= AllocFlags.MemAlloc;
        if ((flags & AllocFlags.Wait) == 0)
            flags &= ~(AllocFlags.Io | AllocFlags.Fs);
        return flags;
    }

    /// <summary>
    /// Step 1: any zone with free_pages - (2^order - 1) ≥ pages_low serves, first from the thread's magazine (refilled
    /// in a batch when empty), else from its free area; a zone below pages_min wakes kreclaimd.
    /// </summary>
    /// <remarks>
    /// 2.4 ran the entry wake-ups before this step on every call; they only feed asynchronous wake-ups, so here they
    /// run whenever a request reaches a zone lock (a refill, an rmqueue, the slow path), and a block served from
    /// the thread's own magazine skips them.
    /// </remarks>
    private void* StepOne(int order, AllocFlags flags, Zone[] zonelist, int run = 0)
    {
        long extra = ExtraPages(order, run);
        foreach (Zone zone in zonelist)
        {
            long free = Volatile.Read(ref zone.FreePages);
            if (free - extra >= zone.PagesLow)
            {
                void* block = run == 0 && order < zone.GateLimit ? TakeParked(zone, order, flags) : null;
                if (block == null)
                {
                    EntryWakeups();
                    block = Take(zone, order, run, flags, AllocationStep.FastPath);
                }
                if (block != null)
                    return block;
            }
            else if (free < zone.PagesMin)
                Daemon.WakeKreclaimd();
        }
        return null;
    }

    /// <summary>A block from the thread's magazine, refilled in a batch when empty; null when the zone refuses.</summary>
    private void* TakeParked(Zone zone, int order, AllocFlags flags)
    {
        Magazine* m = _magazines.For();
        if (!_magazines.Enter(m))
            return null;
        int page = _magazines.Pop(m, _magazines.SlotOf(zone), order);
        bool refilled = page < 0;
        if (refilled)
            page = _magazines.Refill(m, zone, order, ReserveFloor(zone, flags));
        ThreadMagazines.Exit(m);
        if (refilled)
            EntryWakeups();
        return page >= 0 ? zone.Address(page) : null;
    }

    /// <summary>
    /// The pages a request needs beyond its first, which the watermark tests subtract: 2^order - 1 for a block,
    /// the run's pages - 1 for a run of <paramref name="run"/> blocks of <paramref name="order"/>.
    /// </summary>
    private static long ExtraPages(int order, int run) => (Math.Max(run, 1) * (1L << order)) - 1;

    /// <summary>rmqueue under the zone lock, respecting the reserve floor; counts the step that served.</summary>
    private void* Take(Zone zone, int order, int run, AllocFlags flags, AllocationStep step)
    {
        int page;
        lock (zone.Lock)
        {
            page = RmQueueLocked(zone, order, run, flags);
            if (page < 0)
                return null;
            Account(zone).CountServed(step);
        }
        return zone.Address(page);
    }

    /// <summary>
    /// rmqueue of a block of <paramref name="order"/>, or of a run of <paramref name="run"/> max-order blocks
    /// (run &gt; 0), leaving the reserve floor; -1 when the zone refuses or the arena is gone. Zone lock held.
    /// </summary>
    private int RmQueueLocked(Zone zone, int order, int run, AllocFlags flags)
    {
        if (_arena.IsDisposed)
            return -1;
        long floor = ReserveFloor(zone, flags);
        return run == 0 ? zone.RmQueue(order, floor, OwnerSlot()) : zone.TakeRun(run, floor);
    }

    /// <summary>The calling thread's slot in this arena (0 when it has no magazine here): blocks it takes are tagged with it.</summary>
    internal int OwnerSlot()
    {
        Magazine* m = CurrentMagazine.Value;
        return m != null && m->ArenaKey == _magazines.Key ? PageDescriptor.OwnerOf(m->HeadTag) : 0;
    }

    private enum Watermark { Min, Low, High }

    /// <summary>
    /// __alloc_pages_limit: for each zone whose free + inactive_clean pages (less the order's extra pages) exceed
    /// the watermark, reclaim a clean page straight for the caller when allowed and the zone is nearly at
    /// pages_min (parked blocks go back first: no host page is evicted while they sit idle), else (or if that
    /// found nothing) rmqueue.
    /// </summary>
    private void* AllocLimit(ref Call call, Watermark mark, AllocationStep step)
    {
        long extra = ExtraPages(call.Order, call.Run);
        foreach (Zone zone in call.Zonelist)
        {
            long free = Volatile.Read(ref zone.FreePages);
            long watermark = mark switch { Watermark.High => zone.PagesHigh, Watermark.Low => zone.PagesLow, _ => zone.PagesMin };
            if (free + zone.InactiveClean.Count - extra <= watermark)
                continue;
            if (call.DirectReclaim && free < zone.PagesMin + DirectReclaimSlack)
            {
                void* parked = DrainOnce(ref call) ? Take(zone, call.Order, call.Run, call.Flags, step) : null;
                if (parked != null)
                    return parked;
                int page = _reclaim.ReclaimPage(zone, forCaller: true);
                if (page >= 0)
                    return zone.Address(page);
            }
            void* block = Take(zone, call.Order, call.Run, call.Flags, step);
            if (block != null)
                return block;
        }
        return null;
    }

    /// <summary>Steps 2 to 4: HIGH, LOW, then (kswapd woken, the processor yielded) MIN.</summary>
    private void* StepsTwoToFour(ref Call call)
    {
        // Step 2: free + inactive_clean above pages_high.
        void* block = AllocLimit(ref call, Watermark.High, AllocationStep.High);
        if (block != null)
            return block;

        // Step 3: the same above pages_low.
        block = AllocLimit(ref call, Watermark.Low, AllocationStep.Low);
        if (block != null)
            return block;

        // Step 4: wake kswapd, let it run if we may wait, then the same above pages_min.
        Daemon.WakeKswapd();
        if (call.MayWait)
            Thread.Yield();
        return AllocLimit(ref call, Watermark.Min, AllocationStep.Min);
    }

    /// <summary>Steps 1 and 4 once more, without waking or waiting (a waiting caller's last looks).</summary>
    private void* RetryAtMin(ref Call call)
    {
        void* block = StepOne(call.Order, call.Flags, call.Zonelist, call.Run);
        return block != null ? block : AllocLimit(ref call, Watermark.Min, AllocationStep.Min);
    }

    /// <summary>The free pages an rmqueue (or a growth in place) must leave: pages_min / 4, or nothing for MemAlloc callers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long ReserveFloor(Zone zone, AllocFlags flags) => (flags & AllocFlags.MemAlloc) != 0 ? 0 : zone.PagesMin >> 2;

    /// <summary>
    /// On entry: wake kswapd when the inactive lists and the free pages run short, or when there is a free shortage
    /// and more dirty pages than it (2.4 woke bdflush for that; kswapd launders here).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EntryWakeups()
    {
        if (!Daemon.Background)
            return;
        MemoryPressure p = Pressure;
        long freeShortage = p.FreeShortage();
        if (freeShortage <= 0)
            return;
        if (p.InactiveShortage() > p.InactiveTarget / 2)
            Daemon.WakeKswapd();
        else
        {
            long dirty = p.DirtyVersusFreeable().Dirty;
            if (dirty > freeShortage && dirty > p.FreePagesHigh)
                Daemon.WakeKswapd();
        }
    }

    private long Deadline()
    {
        long now = Stopwatch.GetTimestamp();
        return _waitTicks == long.MaxValue || now > long.MaxValue - _waitTicks ? long.MaxValue : now + _waitTicks;
    }

    private static long RunInCaller(Func<long> work)
    {
        using (ReclaimContext.Enter())
            return work();
    }

    private void CountPressure(Zone zone)
    {
        lock (zone.Lock)
            Account(zone).Pressure++;
    }

    /// <summary>An exited thread's magazine retired: its counts join its zones'.</summary>
    private void FoldRetired(int zone, long served, long freed)
    {
        Zone z = _zones[zone];
        lock (z.Lock)
        {
            ZoneAccount account = Account(z);
            account.Steps[(int)AllocationStep.FastPath] += served;
            account.Frees += freed;
            account.Pressure += served - freed;
        }
    }

    /// <summary>
    /// Waiters came or went: while any waits, every zone's gate stays shut, so frees reach the zones and wake them.
    /// Each refresh reads the waiter count afresh under the zone lock, so the last one leaves the right state.
    /// </summary>
    private void RefreshGates()
    {
        foreach (Zone zone in _zones)
        {
            lock (zone.Lock)
                zone.HoldGate(Frees.HasWaiters);
        }
    }

    // ------------------------------------------------------------ hooks for the arena

    /// <summary>BuddyArena.Trim: every magazine drained, every empty slab back; the pages given back.</summary>
    public long Trim()
    {
        long pages = _magazines.Enabled ? _magazines.DrainAll() : 0;
        return pages + (Slabs?.ReapSpares() ?? 0);
    }

    /// <summary>One synchronous kswapd pass (BuddyArena.Balance).</summary>
    public void Balance() => Daemon.RunPass();

    /// <summary>Dispose: wake every waiter (they fail), stop the reclaimer thread, shut every magazine out.</summary>
    public void Shutdown()
    {
        foreach (Zone zone in _zones)
        {
            lock (zone.Lock)
                zone.CloseGate();
        }
        SchedulePoints.Reach(SchedulePoints.DisposeGatesClosed);
        Frees.Close();
        Daemon.Stop();
        _magazines.Quiesce();
    }
}
