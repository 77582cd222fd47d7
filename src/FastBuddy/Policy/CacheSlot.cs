namespace FastBuddy.Policy;

/// <summary>
/// The page cache's out-of-band state of one page, beside its descriptor: which residency in the cache it is in,
/// how often it was dirtied, whether a writeback of it is chosen or running, and whether the arena reclaimed it.
/// </summary>
/// <remarks>
/// One array per zone, made at the zone's first CacheAdd, owned by <see cref="PageCache"/>; every field is read
/// and written under the zone lock, except <see cref="Writeback"/>'s one hand-over from Chosen to Running, which
/// the launderer makes with a compare-exchange after it let go of the lock (CacheRemove may cancel it first).
/// </remarks>
internal struct CacheSlot
{
    /// <summary>Counts the page's CacheAdds: a result computed for one residency never applies to the next.</summary>
    public uint Residency;

    /// <summary>Counts the CacheMarkDirty calls: a writeback cleans the page only if none came after it began.</summary>
    public uint Dirtied;

    /// <summary>0, or the token of the page's writeback: <see cref="Chosen"/> or <see cref="Running"/> for a residency.</summary>
    /// <remarks>It outlives a CacheRemove of the page, so that no reclaim frees the page while that writeback runs.</remarks>
    public long Writeback;

    /// <summary>The arena evicted the page since it was last cached (CacheRemove then answers false).</summary>
    public bool Reclaimed;

    /// <summary>A launderer chose the page for this residency and has not called Writeback yet.</summary>
    public static long Chosen(uint residency) => ((long)residency << 2) | 1;

    /// <summary>Writeback for this residency has started and not returned.</summary>
    public static long Running(uint residency) => ((long)residency << 2) | 2;
}
