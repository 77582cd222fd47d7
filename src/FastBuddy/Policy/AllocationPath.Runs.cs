using FastBuddy.Buddy;

namespace FastBuddy.Policy;

// Runs: requests above the largest block, served as contiguous max-order blocks of one zone.
internal sealed unsafe partial class AllocationPath
{
    /// <summary>
    /// Allocates a run of <paramref name="blocks"/> contiguous max-order blocks in one zone of
    /// <paramref name="zonelist"/>, or returns null (<see cref="FastBuddyStatus.NoMemory"/>).
    /// </summary>
    /// <remarks>
    /// A run is a request like any other, only larger: it walks the same steps as a block of the top order, each
    /// watermark test counting the run's total pages, each take leaving the same reserve floor (pages_min / 4,
    /// nothing for MemAlloc callers). A caller that may wait drains the magazines, launders and reclaims clean
    /// cache pages into the buddy system and has kswapd run a pass (step 5); the final phase and the out-of-memory
    /// handler follow; the failure counts as one of the top order. No magazine keeps runs: every run is taken and
    /// freed under the zone lock.
    /// </remarks>
    public void* AllocateRun(int blocks, AllocFlags flags, Zone[] zonelist)
    {
        flags = Normalize(flags);
        int top = _arena.MaxOrder - 1;
        void* run = StepOne(top, flags, zonelist, blocks);
        if (run != null)
        {
            ThreadState.LastError = FastBuddyStatus.Ok;
            return run;
        }
        var call = new Call(top, flags, zonelist, blocks);
        return SlowPath(ref call);
    }

    /// <summary>
    /// Frees the run headed by <paramref name="page"/>; throws (and changes nothing) when it is not a live run (of
    /// <paramref name="length"/> blocks, unless 0).
    /// </summary>
    public void FreeRun(Zone zone, int page, nint run, int length = 0)
    {
        FastBuddyStatus status;
        lock (zone.Lock)
        {
            status = zone.CheckRun(page, length);
            if (status == FastBuddyStatus.Ok)
            {
                zone.FreeRun(page);
                Account(zone).CountFree();
            }
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, run, zone.MaxOrder - 1);
        Frees.Signal();
    }

    /// <summary>
    /// Resizes the live run headed by <paramref name="page"/> in place to <paramref name="blocks"/> (at least 2):
    /// a shorter run gives its tail back; a longer one takes the free blocks right after it if the growth leaves the
    /// reserve floor of <paramref name="flags"/>. False: it cannot grow in place (nothing changed). Throws (and
    /// changes nothing) when <paramref name="page"/> is not a live run.
    /// </summary>
    public bool ResizeRun(Zone zone, int page, nint run, int blocks, AllocFlags flags)
    {
        FastBuddyStatus status;
        bool done = false;
        int old = 0;
        lock (zone.Lock)
        {
            status = zone.CheckRun(page);
            if (status == FastBuddyStatus.Ok)
            {
                old = zone.RunBlocks(page);
                if (blocks < old)
                    zone.ShrinkRun(page, blocks);
                done = blocks <= old || zone.TryGrowRun(page, blocks, ReserveFloor(zone, Normalize(flags)));
            }
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, run, zone.MaxOrder - 1);
        if (blocks < old)
            Frees.Signal();
        return done;
    }
}
