namespace FastBuddy.Cli;

// A host's side of the page cache for the demo: remembers which pages it has cached and counts the arena's
// callbacks. Evict may run on the reclaimer thread, so everything here is thread-safe.
internal sealed unsafe class CountingPageOwner : IPageOwner
{
    private readonly Lock _lock = new();
    private readonly HashSet<nint> _pages = [];
    private long _evictions;
    private long _writebacks;

    public long Evictions => Interlocked.Read(ref _evictions);
    public long Writebacks => Interlocked.Read(ref _writebacks);

    public int CachedCount
    {
        get
        {
            lock (_lock)
                return _pages.Count;
        }
    }

    public void Track(void* page)
    {
        lock (_lock)
            _pages.Add((nint)page);
    }

    // In address order: the arena's behaviour must not depend on where the OS put its memory.
    public nint[] Snapshot()
    {
        nint[] pages;
        lock (_lock)
            pages = [.. _pages];
        Array.Sort(pages);
        return pages;
    }

    public void Forget(void* page)
    {
        lock (_lock)
            _pages.Remove((nint)page);
    }

    public bool Writeback(void* page)
    {
        Interlocked.Increment(ref _writebacks);
        return true; // "written to the backing store": clean now
    }

    public void Evict(void* page)
    {
        Interlocked.Increment(ref _evictions);
        bool known;
        lock (_lock)
            known = _pages.Remove((nint)page);
        if (!known)
            throw new InvalidOperationException($"Evict of page 0x{(nint)page:x}, which this owner never cached.");
    }
}
