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
    /// Frees the run headed by <paramref name="page"/> (<paramref name="keep"/> = 0), or shortens it in place to
    /// <paramref name="keep"/> blocks (at least 2), its tail back to the free areas; throws (and changes nothing)
    /// when it is not a live run (of <paramref name="length"/> blocks, unless 0).
    /// </summary>
    public void ReleaseRun(Zone zone, int page, nint run, int keep = 0, int length = 0)
    {
        FastBuddyStatus status;
        lock (zone.Lock)
        {
            status = zone.CheckRun(page, length);
            if (status == FastBuddyStatus.Ok && keep == 0)
            {
                zone.FreeRun(page);
                Account(zone).CountFree();
            }
            else if (status == FastBuddyStatus.Ok)
                zone.ShrinkRun(page, keep);
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, run, zone.MaxOrder - 1);
        Frees.Signal();
    }
}
