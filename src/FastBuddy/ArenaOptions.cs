using Microsoft.Extensions.Logging;

namespace FastBuddy;

/// <summary>How a <see cref="BuddyArena"/> is laid out and how its allocation policy is tuned.</summary>
public sealed class ArenaOptions
{
    /// <summary>Page size in bytes: a power of two from 64 B to 1 MiB.</summary>
    public int PageSize { get; set; } = 4096;

    /// <summary>Number of orders: blocks of 2^0 .. 2^(MaxOrder-1) pages (1 .. <see cref="BuddyArena.MaxOrderLimit"/>).</summary>
    public int MaxOrder { get; set; } = 11;

    /// <summary>Zones, low to high. Empty: one zone "Normal" of <see cref="ArenaBytes"/>.</summary>
    public IList<ZoneOptions> Zones { get; } = new List<ZoneOptions>();

    /// <summary>Size of the single default zone; must be 0 when <see cref="Zones"/> is given.</summary>
    public nuint ArenaBytes { get; set; }

    /// <summary>Run kswapd and kreclaimd on a background thread (otherwise their work runs in callers and <see cref="BuddyArena.Balance"/>).</summary>
    public bool BackgroundReclaim { get; set; } = true;

    /// <summary>One deadline for every wait of one allocation call; <see cref="Timeout.InfiniteTimeSpan"/> allowed.</summary>
    public TimeSpan AllocWaitTimeout { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Asked before an allocation fails; may free memory and ask for one retry.</summary>
    public OutOfMemoryHandler? OutOfMemory { get; set; }

    /// <summary>2.4's zone_balance_ratio for every zone but the lowest (or the only one).</summary>
    public int BalanceRatio { get; set; } = 128;

    /// <summary>zone_balance_ratio of the lowest zone when there are several.</summary>
    public int LowestZoneBalanceRatio { get; set; } = 32;

    /// <summary>zone_balance_min: lower clamp of pages_min, in pages.</summary>
    public int BalanceMin { get; set; } = 10;

    /// <summary>zone_balance_max: upper clamp of pages_min, in pages.</summary>
    public int BalanceMax { get; set; } = 255;

    /// <summary>
    /// Per-thread magazine size for order 0, in pages (default 256): freed blocks parked for lock-free reuse. Order k
    /// keeps a quarter as many blocks per order step (at least one), and no list more than 1/64 of its zone. 0 turns
    /// the magazines off (every allocation then takes a zone lock).
    /// </summary>
    public int PerCpuPages { get; set; } = 256;

    /// <summary>
    /// Order-0 blocks moved per refill or spill of a magazine (default 32; one zone-lock round trip). A refill cuts one
    /// block of the batch's size (rounded down to a power of two) into pages, rather than taking them one by one.
    /// </summary>
    public int PerCpuBatch { get; set; } = 32;

    /// <summary>How many orders (0 .. PerCpuOrders-1) have per-CPU lists; capped at <see cref="MaxOrder"/>.</summary>
    public int PerCpuOrders { get; set; } = 9;

    /// <summary>
    /// Receives the arena's log events (ids 1-5: step 7's "N-order allocation failed" warning, the reclaimer thread's
    /// start and stop, out-of-memory handler calls, owner callbacks that threw; README, "Metrics and logging");
    /// null logs nothing.
    /// </summary>
    public ILogger? Logger { get; set; }

    // ---------------------------------------------------------------- memory and the operating system

    /// <summary>
    /// Put an inaccessible page (PROT_NONE) right before and after each zone, so that an overrun off either end
    /// faults. Costs two OS pages of address space per zone, no memory. Linux only; ignored by the portable
    /// fallback. Default off.
    /// </summary>
    public bool GuardPages { get; set; }

    /// <summary>
    /// Ask the kernel to back the zones with transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>): fewer TLB
    /// misses for large working sets, at the price of resident memory in huge-page steps. A hint: a kernel without
    /// them ignores it. Linux only. Default off.
    /// </summary>
    public bool TransparentHugePages { get; set; }

    /// <summary>
    /// Give free memory back to the operating system: kswapd's decommit step (each background pass, and every
    /// <see cref="BuddyArena.Balance"/>) decommits free blocks of at least <see cref="DecommitMinOrder"/> that have
    /// stayed free this long (<c>madvise(MADV_DONTNEED)</c>). The blocks stay allocatable: their pages are faulted
    /// in again, zeroed, when next touched. <see cref="TimeSpan.Zero"/> decommits at the next pass; null (the
    /// default) never decommits. Linux only.
    /// </summary>
    public TimeSpan? DecommitAfter { get; set; }

    /// <summary>
    /// The smallest order the decommit step gives back, from 0 to <see cref="MaxOrder"/> - 1; null (the default)
    /// means only blocks of the top order. Raised to a whole OS page when pages are smaller.
    /// </summary>
    public int? DecommitMinOrder { get; set; }
}
