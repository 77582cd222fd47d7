using FastBuddy.Buddy;

namespace FastBuddy.Slab;

/// <summary>
/// Where slabs get their pages: the arena's allocation policy, handed in so that this layer knows nothing of it
/// (watermarks, reclaim and waiting apply to a slab's pages exactly as to any block).
/// </summary>
internal unsafe interface ISlabPages
{
    /// <summary>A block of 2^<paramref name="order"/> pages through the policy, or null (the thread's last error says why).</summary>
    byte* Take(int order, AllocFlags flags, out Zone zone, out int page);

    /// <summary>Gives a slab's block back to the buddy system (its descriptors are plain allocated pages again).</summary>
    void Give(Zone zone, int page, int order);
}
