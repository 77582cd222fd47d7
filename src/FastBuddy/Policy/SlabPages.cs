using FastBuddy.Buddy;
using FastBuddy.Slab;

namespace FastBuddy.Policy;

/// <summary>The slab layer's pages: blocks of the default zonelist through the whole allocation policy, and back through the free path.</summary>
internal sealed unsafe class SlabPages : ISlabPages
{
    private readonly AllocationPath _policy;
    private readonly BuddyArena _arena;

    public SlabPages(AllocationPath policy, BuddyArena arena)
    {
        _policy = policy;
        _arena = arena;
    }

    public byte* Take(int order, AllocFlags flags, out Zone zone, out int page)
    {
        byte* block = (byte*)_policy.Allocate(order, flags, _arena.DefaultZonelist);
        zone = null!;
        page = 0;
        if (block == null)
            return null;
        zone = _arena.FindZone((nint)block)!;
        page = (int)(((nint)block - zone.Base) >> zone.PageShift);
        return block;
    }

    public void Give(Zone zone, int page, int order) => _policy.FreePath.GiveBack(zone, page, order);
}
