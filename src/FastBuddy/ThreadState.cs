using System.Runtime.CompilerServices;
using FastBuddy.Buddy;

namespace FastBuddy;

/// <summary>
/// Everything the arena keeps per thread, behind one thread-static load: the last allocation's status, the depth
/// of reclaim context (PF_MEMALLOC), and the thread's per-CPU page lists of the arena it used last.
/// </summary>
internal sealed class ThreadState
{
    [ThreadStatic] private static ThreadState? t_current;

    public FastBuddyStatus LastError;
    public int ReclaimDepth;

    [ThreadStatic] private static ThreadPageCache? t_lastCache;

    /// <summary>
    /// The calling thread's lists of the arena it used last (the common case: one arena), in a thread-static of
    /// its own so that the per-CPU fast path costs one thread-static read.
    /// </summary>
    public static ThreadPageCache? LastCache
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_lastCache;
        set => t_lastCache = value;
    }

    /// <summary>The lists of other arenas this thread uses, by arena id.</summary>
    public Dictionary<int, ThreadPageCache>? OtherCaches;

    public static ThreadState Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? Create();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ThreadState Create() => t_current = new ThreadState();
}
