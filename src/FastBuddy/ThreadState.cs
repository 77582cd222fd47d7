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

    /// <summary>The lists of the arena this thread used last (the common case: one arena).</summary>
    public ThreadPageCache? LastCache;

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
