using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;

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
    private readonly long _waitTicks;
    private long _failures;

    public AllocationPath(BuddyArena arena, Zone[] zones, PageCache cache)
    {
        _arena = arena;
        _zones = zones;
        Pressure = new MemoryPressure(zones);
        Frees = new WaitQueue();
        _reclaim = new Reclaim(arena, zones, cache, Pressure, Frees);
        Daemon = new Kswapd(arena, zones, _reclaim, Pressure, arena.Options.BackgroundReclaim);
        TimeSpan wait = arena.Options.AllocWaitTimeout;
        _waitTicks = wait == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(wait.TotalSeconds * Stopwatch.Frequency);
    }

    public MemoryPressure Pressure { get; }
    public WaitQueue Frees { get; }
    public Kswapd Daemon { get; }
    public Reclaim Reclaimer => _reclaim;
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>Allocates a block of <paramref name="order"/> along <paramref name="zonelist"/>, or returns null.</summary>
    public void* Allocate(int order, AllocFlags flags, Zone[] zonelist)
    {
        // Owner callbacks and the reclaimer thread are memory management (PF_MEMALLOC) whatever they ask for;
        // Io and Fs mean nothing without Wait.
        if (ReclaimContext.Active)
            flags |= AllocFlags.MemAlloc;
        if ((flags & AllocFlags.Wait) == 0)
            flags &= ~(AllocFlags.Io | AllocFlags.Fs);

        // On entry: wake kswapd when the inactive lists or the free pages run short (2.4 also woke bdflush here;
        // kswapd launders for us).
        if (Daemon.Background)
            EntryWakeups();

        void* block = FastPath(order, flags, zonelist);
        if (block != null)
        {
            BuddyArena.LastError = FastBuddyStatus.Ok;
            return block;
        }
        return SlowPath(order, flags, zonelist);
    }

    /// <summary>Step 1: any zone with free_pages ≥ pages_low serves from its free area; wake kreclaimd below pages_min.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* FastPath(int order, AllocFlags flags, Zone[] zonelist)
    {
        long extra = (1L << order) - 1;
        foreach (Zone zone in zonelist)
        {
            long free = Volatile.Read(ref zone.FreePages);
            if (free - extra >= zone.PagesLow)
            {
                void* block = Take(zone, order, flags, AllocationStep.FastPath);
                if (block != null)
                    return block;
            }
            else if (free < zone.PagesMin)
                Daemon.WakeKreclaimd();
        }
        return null;
    }

    private void* SlowPath(int order, AllocFlags flags, Zone[] zonelist)
    {
        bool memAlloc = (flags & AllocFlags.MemAlloc) != 0;
        bool mayWait = (flags & AllocFlags.Wait) != 0;
        // direct_reclaim: a single page, for a caller that may wait and is not memory management.
        bool directReclaim = order == 0 && mayWait && !memAlloc;
        long deadline = 0;
        int restarts = 0;
        bool outOfMemoryAsked = false;
        void* block;

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
                if ((flags & AllocFlags.Fs) != 0 && Frees.Wait(Frees.Sequence, deadline))
                    goto TryAgain;
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
        // Step 7: nothing worked. The out-of-memory handler may free memory and ask for one more try.
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
        BuddyArena.LastError = FastBuddyStatus.NoMemory;
        _arena.LogAllocationFailed(order, flags);
        return null;

    Done:
        BuddyArena.LastError = FastBuddyStatus.Ok;
        return block;
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
                        zone.Steps[(int)AllocationStep.HigherOrderReclaim]++;
                }
                Frees.Signal();
                if (head >= 0)
                    return zone.Address(head);
            }
        }
        return null;
    }

    /// <summary>rmqueue under the zone lock, respecting the reserve floor; counts the step that served.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void* Take(Zone zone, int order, AllocFlags flags, AllocationStep step)
    {
        int page;
        lock (zone.Lock)
        {
            page = _arena.IsDisposed ? -1 : zone.RmQueue(order, ReserveFloor(zone, flags));
            if (page < 0)
                return null;
            zone.Steps[(int)step]++;
        }
        return zone.Address(page);
    }

    /// <summary>The free pages an rmqueue must leave: pages_min / 4, or nothing for MemAlloc callers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ReserveFloor(Zone zone, AllocFlags flags) => (flags & AllocFlags.MemAlloc) != 0 ? 0 : zone.PagesMin >> 2;

    private void EntryWakeups()
    {
        MemoryPressure p = Pressure;
        long freeShortage = p.FreeShortage();
        if (freeShortage <= 0)
            return;
        if (p.InactiveShortage() > p.InactiveTarget / 2)
            Daemon.WakeKswapd();
        else if (p.DirtyVersusFreeable().Dirty > freeShortage)
            Daemon.WakeKswapd();
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
    }
}
