namespace FastBuddy;

/// <summary>A snapshot of an arena: totals, policy counters and one <see cref="ZoneStats"/> per zone.</summary>
public sealed class ArenaStats
{
    /// <summary>Pages in all zones.</summary>
    public long TotalPages { get; init; }
    /// <summary>Pages in the free areas (not counting per-CPU lists).</summary>
    public long FreePages { get; init; }
    /// <summary>Pages parked in per-CPU lists (neither free nor in use).</summary>
    public long PerCpuPages { get; init; }
    /// <summary>Cached pages on the active lists.</summary>
    public long ActivePages { get; init; }
    /// <summary>Cached pages on the inactive_dirty lists.</summary>
    public long InactiveDirtyPages { get; init; }
    /// <summary>Cached pages on the inactive_clean lists.</summary>
    public long InactiveCleanPages { get; init; }
    /// <summary>2.4's memory_pressure: up on allocation and reclaim, down on free, decaying once a second.</summary>
    public long MemoryPressure { get; init; }
    /// <summary>min(memory_pressure &gt;&gt; 6, total pages / 4).</summary>
    public long InactiveTarget { get; init; }
    /// <summary>
    /// Successful allocations of blocks (the sum of <see cref="Steps"/> but <c>Failed</c>). A slab's block counts
    /// once, when the slab is made; the objects in it are counted in <see cref="SlabObjects"/> and <see cref="SlabClasses"/>.
    /// </summary>
    public long Allocations { get; init; }
    /// <summary>
    /// Blocks given back by callers. A cache page that the arena reclaims is counted in <see cref="Reclaimed"/>
    /// instead, so after everything is returned Allocations - Frees equals the direct reclaims.
    /// </summary>
    public long Frees { get; init; }
    /// <summary>Allocations that returned null.</summary>
    public long Failures { get; init; }
    /// <summary>Cache pages reclaimed (evicted).</summary>
    public long Reclaimed { get; init; }
    /// <summary>Dirty cache pages written back clean.</summary>
    public long Laundered { get; init; }
    /// <summary>Failed allocations per order (index = order); they sum to <see cref="Failures"/>.</summary>
    public IReadOnlyList<long> FailuresByOrder { get; init; } = [];
    /// <summary>Wake-ups asked of the background reclaimer (kswapd or kreclaimd); 0 without background reclaim.</summary>
    public long KswapdWakeups { get; init; }
    /// <summary>kswapd passes run (on the background thread, in waiting callers, or by <see cref="BuddyArena.Balance"/>).</summary>
    public long KswapdPasses { get; init; }
    /// <summary>Sum of pages_min over zones (2.4's freepages.min).</summary>
    public long FreePagesMin { get; init; }
    /// <summary>Sum of pages_low over zones (freepages.low).</summary>
    public long FreePagesLow { get; init; }
    /// <summary>Sum of pages_high over zones (freepages.high).</summary>
    public long FreePagesHigh { get; init; }
    /// <summary>
    /// Bytes of the zones that may be resident: handed out, or free but touched since the arena was created or last
    /// decommitted them. A fresh arena on Linux starts at 0 (its mapping is untouched); the portable fallback
    /// counts everything as committed. <see cref="CommittedBytes"/> + <see cref="DecommittedBytes"/> is the
    /// arena's size in bytes.
    /// </summary>
    public long CommittedBytes { get; init; }
    /// <summary>Bytes of free blocks given back to the operating system (or never touched); see <see cref="ArenaOptions.DecommitAfter"/>.</summary>
    public long DecommittedBytes { get; init; }
    /// <summary>Free blocks the decommit step has given back so far.</summary>
    public long Decommits { get; init; }
    /// <summary>Which step of the allocation path served each allocation.</summary>
    public AllocationStepCounts Steps { get; init; } = new();
    /// <summary>Per zone, low to high.</summary>
    public IReadOnlyList<ZoneStats> Zones { get; init; } = [];
    /// <summary>Pages held by slabs (part of the allocated pages: TotalPages - FreePages - PerCpuPages).</summary>
    public long SlabPages { get; init; }
    /// <summary>Objects handed out from the slab caches and not freed (the sum over <see cref="SlabClasses"/>).</summary>
    public long SlabObjects { get; init; }
    /// <summary>Bytes of those objects at their class sizes (what the slab pages hold for callers).</summary>
    public long SlabObjectBytes { get; init; }
    /// <summary>Per size class of the slab caches, smallest first (empty when the arena serves no size from slabs).</summary>
    public IReadOnlyList<SlabClassStats> SlabClasses { get; init; } = [];
}

/// <summary>Counts of the step of the seed's allocation path that served (or failed) each allocation.</summary>
public sealed class AllocationStepCounts
{
    /// <summary>Step 1: free_pages ≥ pages_low.</summary>
    public long FastPath { get; init; }
    /// <summary>Step 2: free + inactive_clean above pages_high.</summary>
    public long High { get; init; }
    /// <summary>Step 3: above pages_low.</summary>
    public long Low { get; init; }
    /// <summary>Step 4: above pages_min, after waking kswapd.</summary>
    public long Min { get; init; }
    /// <summary>A clean cache page reclaimed and handed straight to the caller (steps 2-4, 6).</summary>
    public long DirectReclaim { get; init; }
    /// <summary>Step 5: a higher-order block assembled by laundering and reclaiming clean pages.</summary>
    public long HigherOrderReclaim { get; init; }
    /// <summary>Step 6: the final phase (atomic, higher-order fall-through and MemAlloc callers).</summary>
    public long FinalPhase { get; init; }
    /// <summary>Step 7: the allocation failed.</summary>
    public long Failed { get; init; }
}
