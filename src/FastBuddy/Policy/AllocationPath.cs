using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;

namespace FastBuddy.Policy;

/// <summary>
/// The allocation policy of 2.4.0's <c>__alloc_pages</c>, step by step, on top of the buddy mechanism.
/// </summary>
/// <remarks>
/// <para>
/// A request walks its zonelist up to seven times, each pass more willing than the last. Step 1 takes from any
/// zone comfortably above pages_low. Steps 2-4 accept a zone whose free plus inactive_clean pages exceed HIGH, then
/// LOW, then (after waking kswapd and yielding) MIN, and a caller allowed to reclaim takes a clean cache page
/// directly when the zone is nearly at pages_min. Step 5 is for callers that may wait: a higher-order request
/// launders and reclaims clean pages into the buddy system until a block of its order forms; a tight single-page
/// request has kswapd run a pass (waiting for it when it may do I/O, doing it itself otherwise) and starts again
/// while that makes progress. Step 6 is the final phase, where only MemAlloc callers may take the last quarter of
/// pages_min. Step 7 fails with the seed's message.
/// </para>
/// <para>
/// Two rules hold in every step: a zone qualifies for an order-k request at watermark W when
/// <c>free + inactive_clean - (2^k - 1) &gt; W</c>, and no rmqueue by a non-MemAlloc caller may leave a zone with
/// fewer than pages_min / 4 free pages. Waiting is bounded (user space has no OOM killer): restarts need progress
/// and are capped, and every wait of a call counts against one <see cref="ArenaOptions.AllocWaitTimeout"/>.
/// </para>
/// </remarks>
internal sealed unsafe class AllocationPath
{
    /// <summary>Direct reclaim happens only when a zone has fewer than pages_min + this many free pages.</summary>
    public const int DirectReclaimSlack = 8;

    /// <summary>How many times one call may start again from step 1 after a pass that made progress.</summary>
    public const int MaxRestarts = 16;

    private readonly BuddyArena _arena;
    private readonly Zone[] _zones;
    private readonly Reclaim _reclaim;
    private readonly PerCpuLists _perCpu;
    private readonly long _waitTicks;
    private long _failures;

    public AllocationPath(BuddyArena arena, Zone[] zones, PageCache cache)
    {
        _arena = arena;
        _zones = zones;
        ArenaOptions options = arena.Options;
        _perCpu = new PerCpuLists(zones, arena.MaxOrder, options.PerCpuPages, options.PerCpuBatch, options.PerCpuOrders);
        Pressure = new MemoryPressure(zones, _perCpu);
        Frees = new WaitQueue();
        _reclaim = new Reclaim(arena, zones, cache, Pressure, Frees);
        if (options.BackgroundReclaim)
            FaultInjection.Hit(FaultPoint.ReclaimerStart); // kswapd's thread starts in its constructor
        Daemon = new Kswapd(arena, zones, _reclaim, Pressure, _perCpu, options.BackgroundReclaim);
        TimeSpan wait = arena.Options.AllocWaitTimeout;
        _waitTicks = wait == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(wait.TotalSeconds * Stopwatch.Frequency);
    }

    public MemoryPressure Pressure { get; }
    public WaitQueue Frees { get; }
    public Kswapd Daemon { get; }
    public Reclaim Reclaimer => _reclaim;
    public PerCpuLists PerCpu => _perCpu;
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Allocates a block of <paramref name="order"/> along <paramref name="zonelist"/>, or returns null.</summary>
    /// <remarks>
    /// First, step 1 for the zonelist's first zone through the thread's per-CPU list: when the zone is at
    /// pages_low and the list holds a block, that is the whole allocation (no lock, no atomic). Anything else takes
    /// the narrated path below, which starts again at step 1.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Allocate(int order, AllocFlags flags, Zone[] zonelist)
    {
        Zone zone = zonelist[0];
        if (order < zone.PerCpuOrders && Volatile.Read(ref zone.FreePages) - ((1L << order) - 1) >= zone.PagesLow)
        {
            int page = _perCpu.TryPop(zone, order);
            if (page >= 0)
                return zone.Address(page);
        }
        return AllocateSlow(order, flags, zonelist);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* AllocateSlow(int order, AllocFlags flags, Zone[] zonelist)
    {
        ThreadState state = ThreadState.Current;
        // Owner callbacks and the reclaimer thread are memory management (PF_MEMALLOC) whatever they ask for;
        // Io and Fs mean nothing without Wait.
        if (state.ReclaimDepth != 0)
            flags |= AllocFlags.MemAlloc;
        if ((flags & AllocFlags.Wait) == 0)
            flags &= ~(AllocFlags.Io | AllocFlags.Fs);

        void* block = FastPath(order, flags, zonelist);
        if (block != null)
        {
            state.LastError = FastBuddyStatus.Ok;
            return block;
        }
        return SlowPath(order, flags, zonelist, state);
    }

    /// <summary>
    /// Step 1: any zone with free_pages ≥ pages_low serves, first from the thread's per-CPU list, else from its
    /// free area; a zone below pages_min wakes kreclaimd.
    /// </summary>
    /// <remarks>
    /// 2.4 ran the entry wake-ups before this step on every call; they only feed asynchronous wake-ups, so here they
    /// run whenever a request reaches a zone lock (a list refill, an rmqueue, the slow path), and a block served
    /// from the thread's own list skips them.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* FastPath(int order, AllocFlags flags, Zone[] zonelist)
    {
        long extra = (1L << order) - 1;
        foreach (Zone zone in zonelist)
        {
            long free = Volatile.Read(ref zone.FreePages);
            if (free - extra >= zone.PagesLow)
            {
                void* block = order < zone.PerCpuOrders
                    ? TakeParked(zone, order, flags)
                    : TakeWithWakeups(zone, order, flags);
                if (block != null)
                    return block;
            }
            else if (free < zone.PagesMin)
                Daemon.WakeKreclaimd();
        }
        return null;
    }

    /// <summary>A block from the thread's per-CPU list, refilled in a batch when empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* TakeParked(Zone zone, int order, AllocFlags flags)
    {
        ThreadPageCache cache = _perCpu.For();
        cache.Enter();
        int page = cache.Pop(zone.Index, order);
        if (page < 0)
            return RefillAndTake(cache, zone, order, flags);
        zone.Desc[page].Flags = PageFlags.AllocatedHead;
        cache.CountServed(zone.Index);
        cache.Exit();
        return zone.Address(page);
    }

    /// <summary>The thread's list is empty: refill it in a batch (inside the list operation), then the wake-ups.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* RefillAndTake(ThreadPageCache cache, Zone zone, int order, AllocFlags flags)
    {
        int page = _arena.IsDisposed ? -1 : _perCpu.Refill(cache, zone, order, ReserveFloor(zone, flags));
        if (page >= 0)
        {
            zone.Desc[page].Flags = PageFlags.AllocatedHead;
            cache.CountServed(zone.Index);
        }
        cache.Exit();
        EntryWakeups();
        return page >= 0 ? zone.Address(page) : null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* TakeWithWakeups(Zone zone, int order, AllocFlags flags)
    {
        EntryWakeups();
        return Take(zone, order, flags, AllocationStep.FastPath);
    }

    /// <summary>
    /// Allocates up to <c>into.Length</c> order-0 pages: first the thread's parked pages, then one lock round trip
    /// per zone that passes step 1 (taking pages while the zone stays at pages_low), then the rest one by one
    /// through the whole policy. Returns how many were allocated (fewer only when the policy refuses).
    /// </summary>
    public int AllocateBulk(Span<nint> into, AllocFlags flags, Zone[] zonelist)
    {
        ThreadState state = ThreadState.Current;
        int n = 0;
        foreach (Zone zone in zonelist)
        {
            if (n == into.Length || Volatile.Read(ref zone.FreePages) < zone.PagesLow)
                continue;
            if (zone.PerCpuOrders > 0)
            {
                ThreadPageCache cache = _perCpu.For();
                cache.Enter();
                int page;
                while (n < into.Length && (page = cache.Pop(zone.Index, 0)) >= 0)
                {
                    zone.Desc[page].Flags = PageFlags.AllocatedHead;
                    cache.CountServed(zone.Index);
                    into[n++] = (nint)zone.Address(page);
                }
                cache.Exit();
            }
            lock (zone.Lock)
            {
                int page;
                while (n < into.Length && !_arena.IsDisposed && (page = zone.RmQueue(0, zone.PagesLow - 1)) >= 0)
                {
                    zone.CountServed(AllocationStep.FastPath);
                    into[n++] = (nint)zone.Address(page);
                }
            }
        }
        while (n < into.Length)
        {
            void* block = Allocate(0, flags, zonelist);
            if (block == null)
                break;
            into[n++] = (nint)block;
        }
        if (n == into.Length)
            state.LastError = FastBuddyStatus.Ok;
        return n;
    }

    /// <summary>Parks a freed block in the thread's per-CPU list (spilling a batch when full).</summary>
    /// <returns>False when another thread claimed the block first (a racing free): nothing was changed.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFreeParked(Zone zone, int page, int order)
    {
        if (!zone.TryClaim(page, PageFlags.AllocatedHead | PageFlags.PerCpu))
            return false;
        ThreadPageCache cache = _perCpu.For();
        cache.Enter();
        if (!cache.Push(zone.Index, order, page))
        {
            _perCpu.Spill(cache, zone, order);
            cache.Push(zone.Index, order, page);
        }
        cache.CountFreed(zone.Index);
        cache.Exit();
        // No wake-up: a parked block helps no waiter, and while one waits frees do not come this way.
        return true;
    }

    private void* SlowPath(int order, AllocFlags flags, Zone[] zonelist, ThreadState state)
    {
        EntryWakeups();
        bool memAlloc = (flags & AllocFlags.MemAlloc) != 0;
        bool mayWait = (flags & AllocFlags.Wait) != 0;
        // direct_reclaim: a single page, for a caller that may wait and is not memory management.
        bool directReclaim = order == 0 && mayWait && !memAlloc;
        long deadline = 0;
        int restarts = 0;
        bool outOfMemoryAsked = false, drained = false, waiting = false;
        void* block;
        try
        {
        goto Steps2To4;

    TryAgain:
        block = FastPath(order, flags, zonelist);
        if (block != null)
            goto Done;

    Steps2To4:
        // Step 2: free + inactive_clean above pages_high.
        block = AllocLimit(zonelist, order, flags, Watermark.High, directReclaim, AllocationStep.High);
        if (block != null)
            goto Done;

        // Step 3: the same above pages_low.
        block = AllocLimit(zonelist, order, flags, Watermark.Low, directReclaim, AllocationStep.Low);
        if (block != null)
            goto Done;

        // Step 4: wake kswapd, let it run if we may wait, then the same above pages_min.
        Daemon.WakeKswapd();
        if (mayWait)
            Thread.Yield();
        block = AllocLimit(zonelist, order, flags, Watermark.Min, directReclaim, AllocationStep.Min);
        if (block != null)
            goto Done;

        // Step 5: still nothing. Memory management callers go straight to the final phase.
        if (!memAlloc && mayWait)
        {
            // A large block: launder, then free clean pages into the buddy system until one of our order forms.
            if (order > 0)
            {
                block = HigherOrderReclaim(zonelist, order, flags);
                if (block != null)
                    goto Done;
            }

            // Memory really is tight: have kswapd run a pass, waiting for it if we may do I/O (kswapd might need
            // locks a NoIo caller holds), else run try_to_free_pages ourselves.
            if (deadline == 0)
                deadline = Deadline();
            bool progress = (flags & AllocFlags.Io) != 0
                ? Daemon.RunPassAndWait(deadline)
                : RunInCaller(() => _reclaim.TryToFreePages(mayIo: false)) > 0;
            CountPressure(zonelist[0]);

            if (order == 0)
            {
                // A single page starts again while passes make progress; without progress an Fs caller waits for a
                // free until the deadline. It never reaches the final phase.
                if (progress && ++restarts <= MaxRestarts)
                    goto TryAgain;
                if (DrainOnce(ref drained))
                    goto TryAgain;
                if ((flags & AllocFlags.Fs) == 0)
                    goto Failed;

                // Register as a waiter first (from now on every free goes straight to a zone and wakes us), then
                // look once more, so that a free that landed during our pass is not missed.
                if (!waiting)
                {
                    Frees.Register();
                    waiting = true;
                }
                long seen = Frees.Sequence;
                block = RetryAtMin(order, flags, zonelist, directReclaim);
                if (block != null)
                    goto Done;
                if (Frees.Wait(seen, deadline))
                {
                    drained = false; // a page freed into a per-CPU list just before we registered: drain again
                    goto TryAgain;
                }
                // The deadline: one last look before failing.
                block = Frees.IsClosed ? null : RetryAtMin(order, flags, zonelist, directReclaim);
                if (block != null)
                    goto Done;
                goto Failed;
            }
        }

        // Step 6: the final phase. Only MemAlloc callers may take the last quarter of pages_min.
        foreach (Zone zone in zonelist)
        {
            if (!memAlloc && Volatile.Read(ref zone.FreePages) < zone.PagesMin / 4)
                continue;
            block = Take(zone, order, flags, AllocationStep.FinalPhase);
            if (block != null)
                goto Done;
        }

    Failed:
        // Step 7: nothing worked. Pages parked in per-CPU lists go back first; then the out-of-memory handler may
        // free memory and ask for one more try.
        if (DrainOnce(ref drained))
            goto TryAgain;
        if (!outOfMemoryAsked && _arena.Options.OutOfMemory is { } handler && !_arena.IsDisposed)
        {
            outOfMemoryAsked = true;
            if (handler(_arena, order, flags))
            {
                restarts = 0;
                goto TryAgain;
            }
        }
        Interlocked.Increment(ref _failures);
        state.LastError = FastBuddyStatus.NoMemory;
        _arena.LogAllocationFailed(order, flags);
        return null;

    Done:
        state.LastError = FastBuddyStatus.Ok;
        return block;
        }
        finally
        {
            if (waiting)
                Frees.Unregister();
        }
    }

    /// <summary>Steps 1 and 4 once more, without waking or waiting (a waiting caller's last looks).</summary>
    private void* RetryAtMin(int order, AllocFlags flags, Zone[] zonelist, bool directReclaim)
    {
        void* block = FastPath(order, flags, zonelist);
        return block != null ? block : AllocLimit(zonelist, order, flags, Watermark.Min, directReclaim, AllocationStep.Min);
    }

    /// <summary>Drains every thread's per-CPU lists once per call; true when that freed anything.</summary>
    private bool DrainOnce(ref bool drained)
    {
        if (drained || !_perCpu.Enabled)
            return false;
        drained = true;
        return _perCpu.DrainAll() > 0;
    }

    private enum Watermark { Min, Low, High }

    /// <summary>
    /// __alloc_pages_limit: for each zone whose free + inactive_clean pages (less the order's extra pages) exceed
    /// the watermark, reclaim a clean page straight for the caller when allowed and the zone is nearly at
    /// pages_min, else (or if that found nothing) rmqueue.
    /// </summary>
    private void* AllocLimit(Zone[] zonelist, int order, AllocFlags flags, Watermark mark, bool directReclaim, AllocationStep step)
    {
        long extra = (1L << order) - 1;
        foreach (Zone zone in zonelist)
        {
            long free = Volatile.Read(ref zone.FreePages);
            long watermark = mark switch { Watermark.High => zone.PagesHigh, Watermark.Low => zone.PagesLow, _ => zone.PagesMin };
            if (free + zone.InactiveClean.Count - extra <= watermark)
                continue;
            if (directReclaim && free < zone.PagesMin + DirectReclaimSlack)
            {
                int page = _reclaim.ReclaimPage(zone, forCaller: true);
                if (page >= 0)
                    return zone.Address(page);
            }
            void* block = Take(zone, order, flags, step);
            if (block != null)
                return block;
        }
        return null;
    }

    /// <summary>Step 5 for order &gt; 0: page_launder as MemAlloc, then reclaim-free-retry per zone.</summary>
    private void* HigherOrderReclaim(Zone[] zonelist, int order, AllocFlags flags)
    {
        bool mayIo = (flags & AllocFlags.Io) != 0;
        RunInCaller(() => _reclaim.Launder(mayIo));
        foreach (Zone zone in zonelist)
        {
            while (zone.InactiveClean.Count > 0)
            {
                int page = _reclaim.ReclaimPage(zone, forCaller: false);
                if (page < 0)
                    break;
                int head;
                lock (zone.Lock)
                {
                    zone.FreeBlock(page, 0);
                    head = _arena.IsDisposed ? -1 : zone.RmQueue(order, ReserveFloor(zone, flags));
                    if (head >= 0)
                        zone.CountServed(AllocationStep.HigherOrderReclaim);
                }
                Frees.Signal();
                if (head >= 0)
                    return zone.Address(head);
            }
        }
        return null;
    }

    /// <summary>rmqueue under the zone lock, respecting the reserve floor; counts the step that served.</summary>
    private void* Take(Zone zone, int order, AllocFlags flags, AllocationStep step)
    {
        int page;
        lock (zone.Lock)
        {
            page = _arena.IsDisposed ? -1 : zone.RmQueue(order, ReserveFloor(zone, flags));
            if (page < 0)
                return null;
            zone.CountServed(step);
        }
        return zone.Address(page);
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

    private static void CountPressure(Zone zone)
    {
        lock (zone.Lock)
            zone.Pressure++;
    }

    // ------------------------------------------------------------ hooks for the arena

    /// <summary>Every free wakes the allocations waiting for one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnFree() => Frees.Signal();

    /// <summary>One synchronous kswapd pass (BuddyArena.Balance).</summary>
    public void Balance() => Daemon.RunPass();

    /// <summary>Dispose: wake every waiter (they fail) and stop the reclaimer thread.</summary>
    public void Shutdown()
    {
        Frees.Close();
        Daemon.Stop();
        _perCpu.Kill();
    }
}
