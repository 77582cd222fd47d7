using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.Policy;

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

    /// <summary>Marks a cached page dirty: it needs Writeback before it can be reclaimed.</summary>
    public void CacheMarkDirty(void* page)
    {
        ThrowIfDisposed();
        Cache.MarkDirty(page);
    }

    /// <summary>
    /// Takes a page out of the cache and gives it back to the host, still allocated. False when the arena has
    /// already chosen it for reclaim (its owner's Evict runs or ran): the page is then no longer the host's.
    /// </summary>
    public bool CacheRemove(void* page)
    {
        ThrowIfDisposed();
        return Cache.Remove(page);
    }
}
