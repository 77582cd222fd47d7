namespace FastBuddy;

/// <summary>
/// What an allocation may do to get memory: the user-space rendering of the 2.4 kernel's gfp mask.
/// </summary>
/// <remarks>
/// <see cref="Wait"/>, <see cref="Io"/> and <see cref="Fs"/> grade how far a caller may go (block and reclaim
/// clean pages; write dirty pages back; keep retrying an order-0 request until the deadline).
/// <see cref="MemAlloc"/> marks a caller that is itself part of reclaim: it may take the last reserve but never
/// reclaims, launders or waits. <see cref="Io"/> or <see cref="Fs"/> without <see cref="Wait"/> are ignored.
/// </remarks>
[Flags]
public enum AllocFlags : uint
{
    /// <summary>May not block, reclaim or do I/O (2.4's GFP_ATOMIC). Stops above the last quarter of pages_min.</summary>
    Atomic = 0,
    /// <summary>May block, yield, wait for kswapd and reclaim clean cache pages directly (owners' Evict may run on the caller's thread).</summary>
    Wait = 1u << 0,
    /// <summary>May call owners' Writeback on the caller's thread and waits synchronously for kswapd's pass.</summary>
    Io = 1u << 1,
    /// <summary>An order-0 request that makes no progress keeps retrying until <see cref="ArenaOptions.AllocWaitTimeout"/>.</summary>
    Fs = 1u << 2,
    /// <summary>The caller is part of reclaim (PF_MEMALLOC): may take the last reserve; never reclaims, launders or waits.</summary>
    MemAlloc = 1u << 3,
    /// <summary>Zero the block before it is returned.</summary>
    Zero = 1u << 4,
    /// <summary><c>Wait | Io | Fs</c>: the default for ordinary callers (GFP_KERNEL).</summary>
    Kernel = Wait | Io | Fs,
    /// <summary><c>Wait | Io</c> (GFP_NOFS).</summary>
    NoFs = Wait | Io,
    /// <summary><c>Wait</c> (GFP_NOIO).</summary>
    NoIo = Wait,
}
