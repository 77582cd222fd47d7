using FastBuddy.Buddy;

namespace FastBuddy.Policy;

/// <summary>
/// The policy's counters for one zone: allocations per serving step, memory_pressure's share, frees, reclaimed
/// and laundered pages. Written under the zone's lock (the per-thread layer keeps its own counts, folded in when
/// a thread's magazine retires), summed over the zones on read, so no allocation writes a shared counter.
/// </summary>
internal sealed class ZoneAccount
{
    public ZoneAccount(Zone zone) => Zone = zone;

    public Zone Zone { get; }

    /// <summary>Allocations served by this zone, per <see cref="AllocationStep"/> (index = step).</summary>
    public readonly long[] Steps = new long[AllocationStepInfo.Count];

    public long Pressure;
    public long Frees;
    public long Reclaimed;
    public long Laundered;

    /// <summary>Counts an allocation served by <paramref name="step"/>: memory_pressure goes up by one. Lock held.</summary>
    public void CountServed(AllocationStep step)
    {
        Steps[(int)step]++;
        Pressure++;
    }

    /// <summary>Counts a free: memory_pressure goes down by one (raw: MemoryPressure floors the sum at 0). Lock held.</summary>
    public void CountFree()
    {
        Frees++;
        Pressure--;
    }
}
