using FastBuddy.Buddy;

namespace FastBuddy.Policy;

// Steps 2 to 7 of __alloc_pages: the slow path, one method per step.
internal sealed unsafe partial class AllocationPath
{
    /// <summary>One call's state through the slow path.</summary>
    private ref struct Call
    {
        public Call(int order, AllocFlags flags, Zone[] zonelist, int run = 0)
        {
            Order = order;
            Run = run;
            Flags = flags;
            Zonelist = zonelist;
            MemAlloc = (flags & AllocFlags.MemAlloc) != 0;
            MayWait = (flags & AllocFlags.Wait) != 0;
            SinglePage = order == 0 && run == 0;
            // direct_reclaim: a single page, for a caller that may wait and is not memory management.
            DirectReclaim = SinglePage && MayWait && !MemAlloc;
        }

        public readonly int Order;
        /// <summary>0 for one block of <see cref="Order"/>; else a run of this many blocks of it (the top order).</summary>
        public readonly int Run;
        public readonly bool SinglePage;
        public readonly AllocFlags Flags;
        public readonly Zone[] Zonelist;
        public readonly bool MemAlloc, MayWait, DirectReclaim;
        public long Deadline;
        public int Restarts;
        public bool OutOfMemoryAsked, Drained, Waiting;
    }

    /// <summary>What step 5 leaves for the caller to do.</summary>
    private enum Next { Retry, FinalPhase, Fail }

    private void* SlowPath(int order, AllocFlags flags, Zone[] zonelist)
    {
        var call = new Call(order, flags, zonelist);
        return SlowPath(ref call);
    }

    private void* SlowPath(ref Call call)
    {
        EntryWakeups();
        try
        {
            void* block = StepsTwoToFour(ref call);
            while (block == null)
            {
                Next next = StepFive(ref call, out block);
                if (block != null)
                    break;
                if (next == Next.FinalPhase)
                {
                    block = StepSix(ref call);
                    if (block != null)
                        break;
                    next = Next.Fail;
                }
                if (next == Next.Fail && !StepSeven(ref call))
                    return Failed(ref call);
                // Start again from step 1.
                block = StepOne(call.Order, call.Flags, call.Zonelist, call.Run);
                if (block == null)
                    block = StepsTwoToFour(ref call);
            }
            ThreadState.LastError = FastBuddyStatus.Ok;
            return block;
        }
        finally
        {
            if (call.Waiting)
                Frees.Unregister();
        }
    }

    /// <summary>
    /// Step 5, still nothing. Memory management callers and callers that may not wait go on to the final phase. A
    /// large block launders and reclaims clean pages into the buddy system; then memory really is tight: have
    /// kswapd run a pass, waiting for it if we may do I/O (kswapd might need locks a NoIo caller holds), else run
    /// try_to_free_pages ourselves. A single page then starts again or waits; a large block goes on to step 6.
    /// </summary>
    private Next StepFive(ref Call call, out void* block)
    {
        block = null;
        if (call.MemAlloc || !call.MayWait)
            return Next.FinalPhase;
        if (!call.SinglePage)
        {
            block = HigherOrderReclaim(ref call);
            if (block != null)
                return Next.Retry;
        }
        if (call.Deadline == 0)
            call.Deadline = Deadline();
        bool progress = (call.Flags & AllocFlags.Io) != 0
            ? Daemon.RunPassAndWait(call.Deadline)
            : RunInCaller(() => _reclaim.TryToFreePages(mayIo: false)) > 0;
        CountPressure(call.Zonelist[0]);
        return call.SinglePage ? WaitForSinglePage(ref call, progress, out block) : Next.FinalPhase;
    }

    /// <summary>
    /// Step 5 for a single page: start again while passes make progress; without progress an Fs caller waits for a
    /// free until the deadline, another looks once more and fails. It never reaches the final phase.
    /// </summary>
    private Next WaitForSinglePage(ref Call call, bool progress, out void* block)
    {
        block = null;
        if (progress && ++call.Restarts <= MaxRestarts)
            return Next.Retry;
        if (DrainOnce(ref call))
            return Next.Retry;
        if ((call.Flags & AllocFlags.Fs) == 0)
        {
            // No progress of this pass, but an earlier one (started by our own wake-ups) may have freed or cleaned
            // pages since our last look: one more before failing.
            block = RetryAtMin(ref call);
            return Next.Fail;
        }

        // Register as a waiter first (from now on every free goes straight to a zone and wakes us), then look once
        // more, so that a free that landed during our pass is not missed.
        if (!call.Waiting)
        {
            Frees.Register();
            call.Waiting = true;
        }
        long seen = Frees.Sequence;
        block = RetryAtMin(ref call);
        if (block != null)
            return Next.Retry;
        if (Frees.Wait(seen, call.Deadline))
        {
            call.Drained = false; // a block parked just before we registered: drain again
            return Next.Retry;
        }
        // The deadline: one last look before failing.
        block = Frees.IsClosed ? null : RetryAtMin(ref call);
        return Next.Fail;
    }

    /// <summary>Step 5 for order &gt; 0 (and runs): page_launder as MemAlloc, then reclaim-free-retry per zone.</summary>
    private void* HigherOrderReclaim(ref Call call)
    {
        bool mayIo = (call.Flags & AllocFlags.Io) != 0;
        RunInCaller(() => _reclaim.Launder(mayIo));
        foreach (Zone zone in call.Zonelist)
        {
            if (zone.InactiveClean.Count > 0)
                DrainOnce(ref call);
            while (zone.InactiveClean.Count > 0)
            {
                int page = _reclaim.ReclaimPage(zone, forCaller: false);
                if (page < 0)
                    break;
                int head;
                lock (zone.Lock)
                {
                    zone.FreeBlock(page, 0);
                    Account(zone).CountFree();
                    head = RmQueueLocked(zone, call.Order, call.Run, call.Flags);
                    if (head >= 0)
                        Account(zone).CountServed(AllocationStep.HigherOrderReclaim);
                }
                Frees.Signal();
                if (head >= 0)
                    return zone.Address(head);
            }
        }
        return null;
    }

    /// <summary>Step 6, the final phase: only MemAlloc callers may take the last quarter of pages_min.</summary>
    private void* StepSix(ref Call call)
    {
        foreach (Zone zone in call.Zonelist)
        {
            if (!call.MemAlloc && Volatile.Read(ref zone.FreePages) < zone.PagesMin / 4)
                continue;
            void* block = Take(zone, call.Order, call.Run, call.Flags, AllocationStep.FinalPhase);
            if (block != null)
                return block;
        }
        return null;
    }

    /// <summary>
    /// Step 7, nothing worked: parked blocks go back first; then the out-of-memory handler may free memory and ask
    /// for one more try (what it freed is drained too, so the retry sees all of it). True: start again.
    /// </summary>
    private bool StepSeven(ref Call call)
    {
        if (DrainOnce(ref call))
            return true;
        if (call.OutOfMemoryAsked || _arena.Options.OutOfMemory is not { } handler || _arena.IsDisposed)
            return false;
        call.OutOfMemoryAsked = true;
        if (!FailureCallbacks.AskOutOfMemory(handler, _arena, call.Order, call.Flags))
            return false;
        call.Restarts = 0;
        call.Drained = false;
        DrainOnce(ref call);
        return true;
    }

    private void* Failed(ref Call call)
    {
        Interlocked.Increment(ref _failures);
        Interlocked.Increment(ref _failuresByOrder[call.Order]);
        ThreadState.LastError = FastBuddyStatus.NoMemory;
        FailureCallbacks.LogAllocationFailed(_arena, call.Order, call.Flags);
        return null;
    }

    /// <summary>
    /// Drains every thread's magazines (parked blocks and owned slabs) and reaps the slab caches' empty slabs, once
    /// per call (2.4's <c>kmem_cache_reap</c> before any page is evicted); true when that freed anything.
    /// </summary>
    private bool DrainOnce(ref Call call)
    {
        if (call.Drained)
            return false;
        call.Drained = true;
        long pages = _magazines.Enabled ? _magazines.DrainAll() : 0;
        return pages + (Slabs?.ReapSpares() ?? 0) > 0;
    }
}
