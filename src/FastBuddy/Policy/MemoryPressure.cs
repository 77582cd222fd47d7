using System.Diagnostics;
using FastBuddy.Buddy;
using FastBuddy.PerThread;

namespace FastBuddy.Policy;

/// <summary>
/// 2.4's global memory-state arithmetic: memory_pressure with its once-a-second decay, inactive_target,
/// free_shortage() and inactive_shortage(), summed over the zones on read.
/// </summary>
/// <remarks>
/// memory_pressure lives in the zones' accounts (one counter each, written under the zone lock by rmqueue, free and
/// reclaim_page) and in the magazines (blocks served minus blocks freed, kept by their threads), so that no
/// allocation writes a shared counter; the floor at 0 and the decay (<c>p -= p &gt;&gt; 6</c> per second, applied by
/// kswapd once a second or lazily on read) are one adjustment on top of their sum. The sums read the
/// zones' counters without their locks: they steer heuristics, as in the kernel, and are never used for accounting.
/// </remarks>
internal sealed class MemoryPressure
{
    private readonly Zone[] _zones;
    private readonly ZoneAccount[] _accounts;
    private readonly ThreadMagazines _magazines;
    private readonly long _totalPages;
    private readonly Lock _adjustLock = new();
    private long _lastDecay = Stopwatch.GetTimestamp();
    private long _adjustment;

    public MemoryPressure(ZoneAccount[] accounts, ThreadMagazines magazines)
    {
        _accounts = accounts;
        _zones = Array.ConvertAll(accounts, a => a.Zone);
        _magazines = magazines;
        foreach (Zone z in _zones)
        {
            _totalPages += z.Pages;
            FreePagesMin += z.PagesMin;
            FreePagesLow += z.PagesLow;
            FreePagesHigh += z.PagesHigh;
        }
    }

    /// <summary>freepages.min / .low / .high: the sums of the zones' watermarks.</summary>
    public long FreePagesMin { get; }
    public long FreePagesLow { get; }
    public long FreePagesHigh { get; }

    /// <summary>Applies one decay step per whole second elapsed since the last one.</summary>
    public void Decay()
    {
        long last = Volatile.Read(ref _lastDecay);
        long seconds = (Stopwatch.GetTimestamp() - last) / Stopwatch.Frequency;
        if (seconds <= 0 || Interlocked.CompareExchange(ref _lastDecay, last + seconds * Stopwatch.Frequency, last) != last)
            return;
        lock (_adjustLock)
        {
            long p = Floored(RawSum());
            for (long s = 0; s < seconds && p > 0; s++)
            {
                long step = p >> 6;
                if (step == 0)
                    break;
                _adjustment -= step;
                p -= step;
            }
        }
    }

    /// <summary>
    /// memory_pressure, never below 0. The raw counters (zones' and per-CPU lists') only ever add and subtract;
    /// the floor at 0 and the decay live in one adjustment, applied when the value is read: a reader that finds
    /// the sum negative moves the adjustment so that the pressure is 0 and later allocations count in full.
    /// </summary>
    public long Pressure
    {
        get
        {
            lock (_adjustLock)
                return Floored(RawSum());
        }
    }

    private long Floored(long raw)
    {
        if (raw + _adjustment < 0)
            _adjustment = -raw;
        return raw + _adjustment;
    }

    private long RawSum()
    {
        long sum = 0;
        for (int z = 0; z < _zones.Length; z++)
            sum += _magazines.ServedBlocks(z) - _magazines.FreedBlocks(z) + Volatile.Read(ref _accounts[z].Pressure);
        return sum;
    }

    /// <summary>inactive_target = min(memory_pressure &gt;&gt; 6, total pages / 4).</summary>
    public long InactiveTarget => Math.Min(Pressure >> 6, _totalPages / 4);

    /// <summary>
    /// free_shortage(): how many pages short of freepages.high + inactive_target / 3 the free and clean pages
    /// are; failing that, how far the zones are below pages_min + 1.
    /// </summary>
    public long FreeShortage()
    {
        long freeable = 0;
        foreach (Zone z in _zones)
            freeable += Volatile.Read(ref z.FreePages) + z.InactiveClean.Count;
        long target = FreePagesHigh + InactiveTarget / 3;
        if (freeable < target)
            return target - freeable;
        long sum = 0;
        foreach (Zone z in _zones)
        {
            long deficit = z.PagesMin + 1 - Volatile.Read(ref z.FreePages) - z.InactiveClean.Count;
            if (deficit > 0)
                sum += deficit;
        }
        return sum;
    }

    /// <summary>inactive_shortage() = freepages.high + inactive_target - free - clean - dirty, at least 0.</summary>
    public long InactiveShortage()
    {
        long have = 0;
        foreach (Zone z in _zones)
            have += Volatile.Read(ref z.FreePages) + z.InactiveClean.Count + z.InactiveDirty.Count;
        return Math.Max(FreePagesHigh + InactiveTarget - have, 0);
    }

    /// <summary>Pages on the inactive_dirty lists, and free + inactive_clean pages, over all zones.</summary>
    public (long Dirty, long FreeAndClean) DirtyVersusFreeable()
    {
        long dirty = 0, freeable = 0;
        foreach (Zone z in _zones)
        {
            dirty += z.InactiveDirty.Count;
            freeable += Volatile.Read(ref z.FreePages) + z.InactiveClean.Count;
        }
        return (dirty, freeable);
    }
}
