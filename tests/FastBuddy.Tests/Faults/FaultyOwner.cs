using System.Collections.Concurrent;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// A page owner whose Nth callback (Writeback and Evict counted together, from 1) throws; every other Writeback
/// reports the page clean. It records the pages it was told to evict, before throwing, since Evict is final.
/// </summary>
internal sealed unsafe class FaultyOwner(int failAt) : IPageOwner
{
    private int _calls;

    public ConcurrentDictionary<nint, int> Evicted { get; } = new();
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The page whose callback threw (0 until then).</summary>
    public nint FailedPage { get; private set; }
    public bool Fired => failAt > 0 && Calls >= failAt;

    public bool Writeback(void* page)
    {
        Count("Writeback", page);
        return true;
    }

    public void Evict(void* page)
    {
        Evicted.AddOrUpdate((nint)page, 1, (_, n) => n + 1);
        Count("Evict", page);
    }

    private void Count(string callback, void* page)
    {
        if (Interlocked.Increment(ref _calls) != failAt)
            return;
        FailedPage = (nint)page;
        throw new InvalidOperationException($"Injected fault: the owner's {callback} failed.");
    }
}
