using System.Collections.Concurrent;

namespace FastBuddy.Soak;

/// <summary>
/// The soak's page-cache owner, shared by one arena's workers: Writeback reports most pages clean (one in eight
/// "still dirty"), Evict tells the worker that cached the page that it is gone. It keeps which worker cached each
/// page, so an Evict of a page the host took back, or a second Evict, is counted as an error.
/// </summary>
/// <remarks>
/// As a real host would, Evict takes the worker's lock, and the worker holds it around its CacheTouch,
/// CacheMarkDirty and CacheRemove calls (which never allocate): so a page the arena evicted, freed and handed to
/// another thread is never touched or removed by its former holder.
/// </remarks>
internal sealed unsafe class SoakOwner(Counters counters) : IPageOwner
{
    private readonly ConcurrentDictionary<nint, Worker> _pages = new();
    private long _writebacks, _evictions, _errors, _lateWritebacks;

    public long Writebacks => Interlocked.Read(ref _writebacks);
    public long Evictions => Interlocked.Read(ref _evictions);
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Writebacks that found the page no longer cached (the host had removed it meanwhile).</summary>
    public long LateWritebacks => Interlocked.Read(ref _lateWritebacks);

    /// <summary>Pages the owner still believes cached.</summary>
    public int CachedCount => _pages.Count;

    /// <summary>The worker is about to cache <paramref name="page"/>.</summary>
    public void Adding(nint page, Worker worker)
    {
        if (!_pages.TryAdd(page, worker))
            Error($"the arena handed out 0x{page:x}, which is still cached");
    }

    /// <summary>Whether <paramref name="page"/> is still cached by <paramref name="worker"/> (its lock held).</summary>
    public bool Holds(nint page, Worker worker) => _pages.TryGetValue(page, out Worker? w) && w == worker;

    /// <summary>The worker's CacheRemove of <paramref name="page"/> succeeded (its lock held).</summary>
    public void Removed(nint page)
    {
        if (!_pages.TryRemove(page, out _))
            Error($"CacheRemove of 0x{page:x} succeeded although its Evict had run");
    }

    public bool Writeback(void* page)
    {
        // A writeback the arena had started may still be running when CacheRemove returns true, and from here
        // (inside the callback) its start cannot be told from a later one: counted, not an error. The rules that
        // can be checked from the host's side are Evict's, below.
        if (!_pages.ContainsKey((nint)page))
            Interlocked.Increment(ref _lateWritebacks);
        long n = Interlocked.Increment(ref _writebacks);
        return (n & 7) != 0;
    }

    public void Evict(void* page)
    {
        Interlocked.Increment(ref _evictions);
        if (!_pages.TryGetValue((nint)page, out Worker? worker))
        {
            Error($"Evict of 0x{(nint)page:x}, which the host no longer caches (twice, or after CacheRemove)");
            return;
        }
        lock (worker.Gate)
        {
            _pages.TryRemove((nint)page, out _);
            worker.Forget((nint)page);
        }
    }

    private void Error(string what)
    {
        Interlocked.Increment(ref _errors);
        counters.Error(what);
    }
}
