namespace FastBuddy;

// The page map: every page's state, for fragmentation pictures.
public sealed partial class BuddyArena
{
    /// <summary>
    /// A page-by-page snapshot of every zone (free blocks by order, allocated, the three LRU lists, per-CPU
    /// parked). Each zone is read under its lock, one after another; the per-CPU lists are not drained.
    /// </summary>
    /// <remarks>Diagnostics only: it allocates two bytes per page and walks every block.</remarks>
    public PageMap GetPageMap()
    {
        ThrowIfDisposed();
        var zones = new ZonePageMap[_zones.Length];
        for (int i = 0; i < zones.Length; i++)
        {
            lock (_zones[i].Lock)
                zones[i] = ZonePageMap.Read(_zones[i]);
        }
        return new PageMap(PageSize, MaxOrder, zones);
    }
}
