using System.Runtime.CompilerServices;

namespace FastBuddy.Diagnostics;

/// <summary>What a thread does at a schedule point, as the systematic tests' scheduler needs to know it.</summary>
internal enum PointKind : byte
{
    /// <summary>A race window: another thread's step may come here.</summary>
    Step,

    /// <summary>One turn of a wait loop: the thread cannot go on until another one moves.</summary>
    Spin,

    /// <summary>The thread is about to take a lock that another thread, paused at a point, may hold.</summary>
    Taking,
}

/// <summary>
/// Named places where another thread's step matters (a race window): in the reclaim paths, between choosing a page
/// and calling its owner back, and between the callback and taking the zone lock again; in the per-thread layer,
/// inside the handshake that shuts a magazine's owner out (drain, claim, quiesce) and inside the owner's slow
/// operations; in Dispose, between closing the gates and releasing the memory.
/// </summary>
/// <remarks>
/// In production <see cref="Hook"/> is null and a point costs one static read and a branch, on slow paths only: no
/// point lies on the fast paths (<c>Magazine.TryPop</c>, <c>Magazine.TryPark</c>) nor inside a zone lock. The
/// systematic concurrency tests install a hook that pauses the calling thread at each point and lets a
/// deterministic scheduler choose who runs next, so that every interleaving of a few logical threads can be tried
/// and a failing one replayed. A wait loop reports each turn (<see cref="Spin"/>) and every taking of a magazine's
/// drain lock is announced first (<see cref="Taking"/>), so that the scheduler never runs a thread into a wait
/// that only a paused thread can end.
/// </remarks>
internal static class SchedulePoints
{
    /// <summary>Called with the point's name, its kind and (for <see cref="PointKind.Taking"/>) the lock; null in production.</summary>
    internal static Action<string, PointKind, Lock?>? Hook;

    public const string LaunderChosen = "launder.chosen";
    public const string LaunderReturned = "launder.returned";
    public const string ReclaimChosen = "reclaim.chosen";
    public const string ReclaimEvicted = "reclaim.evicted";
    public const string ReclaimHandedOff = "reclaim.handed-off";

    /// <summary>CacheAdd claimed the page (its tag says cached) and has not linked it onto the active list.</summary>
    public const string CacheAddClaimed = "cache.add-claimed";

    /// <summary>The owner has raised its in-use word for a slow operation and not yet looked for a drain request.</summary>
    public const string OwnerEntering = "owner.entering";
    /// <summary>The owner found a drain request: it waits for the drainer's lock with its window closed.</summary>
    public const string OwnerSteppingAside = "owner.stepping-aside";
    /// <summary>The owner's checked free found its own tag on the block and is about to park it (plain stores).</summary>
    public const string OwnerParking = "owner.parking";
    /// <summary>The owner's refill took its batch from the zone; the batch is not in the list yet.</summary>
    public const string OwnerRefilled = "owner.refilled";
    /// <summary>Blocks of a list went back to the zone; the list does not know yet (a spill or a drain).</summary>
    public const string ListGivenBack = "list.given-back";
    /// <summary>A drain takes a magazine's drain lock.</summary>
    public const string DrainLocking = "drain.locking";
    /// <summary>A drain raised its requests and has not issued the barrier.</summary>
    public const string DrainRequested = "drain.requested";
    /// <summary>A drain waited the owner out and is about to walk its lists.</summary>
    public const string DrainEmptying = "drain.emptying";
    /// <summary>A claim (a free from another thread) takes the block owner's drain lock.</summary>
    public const string ClaimLocking = "claim.locking";
    /// <summary>A claim raised its request and has not issued the barrier.</summary>
    public const string ClaimRequested = "claim.requested";
    /// <summary>A claim waited the owner out and is about to swap the block's tag.</summary>
    public const string ClaimWaited = "claim.waited";
    /// <summary>A drain, claim or quiesce waits for the owner to leave its window (one turn).</summary>
    public const string HandshakeWaiting = "handshake.waiting";
    /// <summary>Dispose closed every zone's gate and has not shut the magazines out.</summary>
    public const string DisposeGatesClosed = "dispose.gates-closed";
    /// <summary>Dispose (quiesce) takes a magazine's drain lock.</summary>
    public const string QuiesceLocking = "quiesce.locking";
    /// <summary>Dispose cleared every magazine's key and raised its request, and has not issued the barrier.</summary>
    public const string QuiesceRequested = "quiesce.requested";
    /// <summary>Dispose waited one owner out and is about to detach its magazine.</summary>
    public const string QuiesceWaited = "quiesce.waited";
    /// <summary>Dispose waits for the checked calls in flight to return (one turn).</summary>
    public const string DisposeWaitingCalls = "dispose.waiting-calls";
    /// <summary>Dispose is about to release the zones' memory.</summary>
    public const string DisposeReleasing = "dispose.releasing";
    /// <summary>A checked allocation has its block (or null) and has not zeroed it or returned.</summary>
    public const string AllocationTaken = "allocation.taken";
    /// <summary>An allocation waits for frees (one slice).</summary>
    public const string AllocationWaiting = "allocation.waiting";

    /// <summary>A race window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Reach(string point)
    {
        Action<string, PointKind, Lock?>? hook = Hook;
        if (hook is not null)
            hook(point, PointKind.Step, null);
    }

    /// <summary>One turn of a wait loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Spin(string point)
    {
        Action<string, PointKind, Lock?>? hook = Hook;
        if (hook is not null)
            hook(point, PointKind.Spin, null);
    }

    /// <summary>Announces that the calling thread takes <paramref name="next"/> now; returns it (to be taken inline).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lock Taking(string point, Lock next)
    {
        Action<string, PointKind, Lock?>? hook = Hook;
        if (hook is not null)
            hook(point, PointKind.Taking, next);
        return next;
    }
}
