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

    /// <summary>Runs one kswapd pass synchronously (for arenas without background threads; harmless with them).</summary>
    public void Balance()
    {
        ThrowIfDisposed();
        Policy.Balance();
    }
}
