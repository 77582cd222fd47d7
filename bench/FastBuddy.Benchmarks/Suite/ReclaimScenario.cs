using FastBuddy.Buddy;
using FastBuddy.Policy;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// An arena held just below pages_min + 8 free pages with a large pool of clean inactive cache pages, so that an
/// order-0 allocation by a caller that may wait is served by direct reclaim (step 2 of the allocation path: the
/// owner's Evict runs and the page goes straight to the caller).
/// </summary>
/// <remarks>
/// <para>
/// 256 MiB, one zone, 4 KiB pages, BackgroundReclaim off, default watermarks (pages_min 255, low 510, high 765), and
/// no per-CPU lists so that the setup can put the zone at an exact free count (direct reclaim never involves those
/// lists: step 1 already failed). <see cref="CachedPages"/> pages are cached by a trivial owner and aged to
/// inactive_clean; the rest is held, leaving pages_min + 4 free.
/// </para>
/// <para>
/// The benchmark allocates a page (direct reclaim), then puts it back into the cache (CacheAdd: the active list);
/// <see cref="Restore"/>, run as IterationSetup, ages those pages back to inactive_clean, so every iteration starts
/// from the same state. Aging uses the library's internal aging scan and page_launder pass 0 (the same calls the
/// policy tests use): the public <see cref="BuddyArena.Balance"/> would also refill the free area up to pages_low.
/// </para>
/// </remarks>
internal sealed unsafe class ReclaimScenario : IDisposable
{
    /// <summary>Clean cache pages at the start of every iteration: the iteration's allocations plus a margin above pages_high.</summary>
    public const int CachedPages = AllocatorSuite.ReclaimPairs + 4096;

    private readonly List<nint> _held = [];
    private readonly List<nint> _cached = [];

    public ReclaimScenario()
    {
        Arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = 256u << 20,
            PageSize = 4096,
            BackgroundReclaim = false,
            PerCpuPages = 0,
        });
        ZoneStats z = Arena.GetStats().Zones[0];
        PagesMin = z.PagesMin;
        PagesHigh = z.PagesHigh;
        for (int i = 0; i < CachedPages; i++)
        {
            void* p = Arena.AllocPages(0, AllocFlags.Atomic);
            if (p == null)
                throw new InvalidOperationException("ReclaimScenario: could not allocate the cache pages.");
            Arena.CacheAdd(p, Owner);
            _cached.Add((nint)p);
        }
        Restore();
        TargetFree = PagesMin + 4;
        while (Arena.GetStats().Zones[0].FreePages > TargetFree)
        {
            void* p = Arena.AllocPages(0, AllocFlags.MemAlloc);
            if (p == null)
                throw new InvalidOperationException("ReclaimScenario: could not drain the free area.");
            _held.Add((nint)p);
        }
        Check();
    }

    public BuddyArena Arena { get; }

    public CountingOwner Owner { get; } = new();

    public long PagesMin { get; }

    public long PagesHigh { get; }

    public long TargetFree { get; }

    /// <summary>Ages every active cache page to inactive_clean (untimed).</summary>
    public void Restore()
    {
        Zone zone = Arena.Zones[0];
        for (int i = 0; i < 8 && zone.Active.Count > 0; i++)
            Reclaim.AgeScan(zone, priority: 0, wanted: long.MaxValue);
        Arena.Policy.Reclaimer.Launder(mayIo: false);
    }

    /// <summary>Throws unless the zone is in the state the benchmark needs.</summary>
    public void Check(long minClean = CachedPages)
    {
        ArenaStats s = Arena.GetStats();
        ZoneStats z = s.Zones[0];
        if (z.FreePages >= PagesMin + 8 || z.InactiveCleanPages < minClean || z.FreePages + z.InactiveCleanPages <= PagesHigh)
        {
            throw new InvalidOperationException(
                $"ReclaimScenario: free {z.FreePages} (needs < {PagesMin + 8}), inactive_clean {z.InactiveCleanPages} " +
                $"(needs >= {minClean}), active {z.ActivePages}, inactive_dirty {z.InactiveDirtyPages}.");
        }
    }

    public void Dispose()
    {
        // Nothing to give back page by page: disposing the arena frees everything and calls no owner callbacks.
        Arena.Validate();
        Arena.Dispose();
    }

    /// <summary>A page owner with nothing to write back and nothing to drop: counts its evictions.</summary>
    public sealed class CountingOwner : IPageOwner
    {
        public long Evictions;

        public bool Writeback(void* page) => true;

        public void Evict(void* page) => Evictions++;
    }
}
