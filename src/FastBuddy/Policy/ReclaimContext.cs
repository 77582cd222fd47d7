namespace FastBuddy.Policy;

/// <summary>
/// Marks the current thread as part of reclaim (2.4's PF_MEMALLOC): owner callbacks and the reclaimer thread.
/// Allocations made while it is active are <see cref="AllocFlags.MemAlloc"/> automatically.
/// </summary>
internal static class ReclaimContext
{
    [ThreadStatic] private static int t_depth;

    public static bool Active => t_depth != 0;

    public static Scope Enter()
    {
        t_depth++;
        return default;
    }

    public readonly struct Scope : IDisposable
    {
        public void Dispose() => t_depth--;
    }
}
