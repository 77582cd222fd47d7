namespace FastBuddy;

/// <summary>
/// The host side of a cached page: the arena calls it, never under an arena lock, to launder and reclaim pages.
/// </summary>
/// <remarks>
/// Code running inside these callbacks allocates as <see cref="AllocFlags.MemAlloc"/> automatically.
/// An owner whose <see cref="Evict"/> takes a lock must not allocate with <see cref="AllocFlags.Wait"/> while
/// holding that lock (use <see cref="AllocFlags.Atomic"/> there).
/// </remarks>
public unsafe interface IPageOwner
{
    /// <summary>
    /// Write a dirty page to its backing store. Return true if the page is clean now, false to be retried later.
    /// A throw sends the page back to the active list. May run while the owner itself uses the page.
    /// </summary>
    /// <remarks>
    /// At most one Writeback of a page runs at a time, and the arena does not evict the page while it runs. "Clean"
    /// counts only if no <see cref="BuddyArena.CacheMarkDirty"/> of the page came after this call began (otherwise
    /// the page is written again later). Once <see cref="BuddyArena.CacheRemove"/> returned true for the page, no
    /// Writeback of it starts; one already running is not waited for.
    /// </remarks>
    bool Writeback(void* page);

    /// <summary>
    /// Drop every reference to the page: the arena has taken it back. Final: if it throws, the exception is logged
    /// and the page is reclaimed all the same. After it returns the page is free or belongs to another caller.
    /// </summary>
    void Evict(void* page);
}
