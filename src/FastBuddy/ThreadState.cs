using System.Runtime.CompilerServices;
using FastBuddy.PerThread;

namespace FastBuddy;

/// <summary>
/// What the arena keeps per thread besides its magazines' memory: the depth of reclaim context (PF_MEMALLOC),
/// the magazines the thread owns (one per arena it used, plus detached ones it may reuse), and its last error
/// until it has a magazine to keep it in.
/// </summary>
internal sealed class ThreadState
{
    [ThreadStatic] private static ThreadState? t_current;

    private FastBuddyStatus _lastError;
    public int ReclaimDepth;

    /// <summary>The magazines this thread owns.</summary>
    public readonly List<MagazineHandle> Magazines = [];

    public static ThreadState Current
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_current ?? Create();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ThreadState Create() => t_current = new ThreadState();

    /// <summary>Why the calling thread's last allocation returned null: kept in its current magazine, if any.</summary>
    public static unsafe FastBuddyStatus LastError
    {
        get
        {
            Magazine* m = CurrentMagazine.Value;
            return m != null ? (FastBuddyStatus)m->LastError : Current._lastError;
        }
        set
        {
            Magazine* m = CurrentMagazine.Value;
            if (m != null)
                m->LastError = (byte)value;
            else
                Current._lastError = value;
        }
    }

    /// <summary>The error kept before the thread had a magazine.</summary>
    public FastBuddyStatus LastErrorWithoutMagazine => _lastError;
}
