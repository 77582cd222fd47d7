namespace FastBuddy;

// The page cache: host pages the arena may reclaim through their owner.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- page cache

    /// <summary>Puts an allocated order-0 page into the page cache (on its zone's active list) under <paramref name="owner"/>.</summary>
    /// <exception cref="FastBuddyException">The page is not an allocated order-0 head of this arena, or is already cached.</exception>
    public void CacheAdd(void* page, IPageOwner owner, bool dirty = false)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(owner);
        Cache.Add(page, owner, dirty);
    }

    /// <summary>Marks a cached page referenced: it ages up and may return to the active list.</summary>
    public void CacheTouch(void* page)
    {
        ThrowIfDisposed();
        Cache.Touch(page);
    }

    /// <summary>
    /// Marks a cached page dirty: it needs Writeback before it can be reclaimed, and a Writeback already running
    /// when this is called no longer makes it clean.
    /// </summary>
    public void CacheMarkDirty(void* page)
    {
        ThrowIfDisposed();
        Cache.MarkDirty(page);
    }

    /// <summary>
    /// Takes a page out of the cache and gives it back to the host, still allocated: once this returned true, no
    /// callback of the page starts (a Writeback that had already started runs on; the owner's own code). False when
    /// the arena chose the page for reclaim since it was last cached (its owner's Evict runs or ran): the page is
    /// then no longer the host's.
    /// </summary>
    /// <exception cref="FastBuddyException">
    /// InvalidArgument: the page is a live order-0 block that is not in the cache (never cached, or already taken
    /// back); NotOwned, NotABlock, DoubleFree or OrderMismatch: it is not a live order-0 page of this arena.
    /// </exception>
    public bool CacheRemove(void* page)
    {
        ThrowIfDisposed();
        return Cache.Remove(page);
    }
}
