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

    public nint[] Snapshot()
    {
        lock (_lock)
            return [.. _pages];
    }

    // Runs action only while the page is still this owner's (Evict waits for the lock, so it cannot finish meanwhile).
    public bool WhileCached(void* page, Action<nint> action)
    {
        lock (_lock)
        {
            if (!_pages.Contains((nint)page))
                return false;
            action((nint)page);
            return true;
        }
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
