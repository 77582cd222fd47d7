namespace FastBuddy;

/// <summary>A snapshot of one zone.</summary>
public sealed class ZoneStats
{
    /// <summary>The zone's name.</summary>
    public string Name { get; init; } = "";
    /// <summary>Pages in the zone.</summary>
    public long Pages { get; init; }
    /// <summary>Pages in the zone's free areas.</summary>
    public long FreePages { get; init; }
    /// <summary>Pages of this zone parked in per-CPU lists.</summary>
    public long PerCpuPages { get; init; }
    /// <summary>Watermark pages_min.</summary>
    public long PagesMin { get; init; }
    /// <summary>Watermark pages_low.</summary>
    public long PagesLow { get; init; }
    /// <summary>Watermark pages_high.</summary>
    public long PagesHigh { get; init; }
    /// <summary>Cached pages on the zone's active list.</summary>
    public long ActivePages { get; init; }
    /// <summary>Cached pages on the zone's inactive_dirty list.</summary>
    public long InactiveDirtyPages { get; init; }
    /// <summary>Cached pages on the zone's inactive_clean list.</summary>
    public long InactiveCleanPages { get; init; }
    /// <summary>Bytes of the zone that may be resident (see <see cref="ArenaStats.CommittedBytes"/>).</summary>
    public long CommittedBytes { get; init; }
    /// <summary>Bytes of the zone's free blocks given back to the operating system (or never touched).</summary>
    public long DecommittedBytes { get; init; }
    /// <summary>Free blocks of this zone the decommit step has given back so far.</summary>
    public long Decommits { get; init; }
    /// <summary>Free blocks per order (index = order), like /proc/buddyinfo.</summary>
    public IReadOnlyList<long> FreeBlocks { get; init; } = [];
}
