namespace FastBuddy.Policy;

/// <summary>
/// Marks the current thread as part of reclaim (2.4's PF_MEMALLOC): owner callbacks and the reclaimer thread.
/// Allocations made while it is active are <see cref="AllocFlags.MemAlloc"/> automatically.
/// </summary>
internal static class ReclaimContext
{
    public static bool Active => ThreadState.Current.ReclaimDepth != 0;

    public static Scope Enter()
    {
        ThreadState.Current.ReclaimDepth++;
        return default;
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => ThreadState.Current.ReclaimDepth--;
    }
}
