using System.Runtime.CompilerServices;

namespace FastBuddy.Diagnostics;

/// <summary>
/// Named places in the reclaim paths where another thread's step matters (a race window): between choosing a page
/// and calling its owner back, and between the callback and taking the zone lock again.
/// </summary>
/// <remarks>
/// In production <see cref="Hook"/> is null and a point costs one static read and a branch, on paths that call a
/// host callback anyway (never on the allocation fast path). The systematic concurrency tests install a hook that
/// pauses the calling thread at each point and lets a deterministic scheduler choose who runs next, so that every
/// interleaving of a few logical threads can be tried and a failing one replayed. No point lies inside a lock.
/// </remarks>
internal static class SchedulePoints
{
    /// <summary>Called with the point's name on the thread that reaches it; null in production.</summary>
    internal static Action<string>? Hook;

    public const string LaunderChosen = "launder.chosen";
    public const string LaunderReturned = "launder.returned";
    public const string ReclaimChosen = "reclaim.chosen";
    public const string ReclaimEvicted = "reclaim.evicted";
    public const string ReclaimHandedOff = "reclaim.handed-off";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Reach(string point)
    {
        Action<string>? hook = Hook;
        if (hook is not null)
            hook(point);
    }
}
