using FastBuddy.Diagnostics;

namespace FastBuddy;

// Statistics, validation and an on-demand kswapd pass.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- diagnostics

    /// <summary>A consistent snapshot per zone (zones are read one after another).</summary>
    public ArenaStats GetStats()
    {
        ThrowIfDisposed();
        return StatsCollector.Collect(this);
    }

    /// <summary>Walks every list, bitmap and counter.</summary>
    /// <exception cref="FastBuddyException">Status <see cref="FastBuddyStatus.Corrupt"/>, with the broken invariant.</exception>
    public void Validate()
    {
        ThrowIfDisposed();
        ArenaValidator.Validate(this);
    }

    /// <summary>
    /// Runs one kswapd pass synchronously (for arenas without background threads; harmless with them). Among other
    /// things it gives back the blocks and the empty slabs of threads that have exited.
    /// </summary>
    public void Balance()
    {
        ThrowIfDisposed();
        Policy.Balance();
    }

    /// <summary>
    /// Gives everything idle back to the buddy system, as malloc_trim does: every thread's parked blocks and slabs
    /// (a thread's next allocation takes a slab again), and every empty slab of every size class (the spares the
    /// caches keep for hysteresis). Afterwards FreePages + PerCpuPages + SlabPages + pages in use as blocks or
    /// cache pages is TotalPages, and SlabPages holds only slabs with objects in use. Returns the pages given back.
    /// </summary>
    public long Trim()
    {
        ThrowIfDisposed();
        using InFlight call = Enter();
        return Policy.Trim();
    }
}
