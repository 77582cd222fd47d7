using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Step 5 for a large block: a caller that may wait and is not MemAlloc launders the dirty inactive pages, then
/// reclaims clean pages one by one into the buddy system, retrying rmqueue for its order after each.
/// </summary>
public sealed unsafe class HigherOrderReclaimTests
{
    [Fact]
    public void Step5_OrderOneRequest_SucceedsByReclaimingAndCoalescingCleanPages()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        ArenaStats before = arena.GetStats();

        void* p = arena.AllocPages(1, AllocFlags.Kernel);

        Assert.True(p != null);
        ArenaStats after = arena.GetStats();
        Assert.Equal(StepCounts.Of(higherOrderReclaim: 1), StepCounts.From(after.Steps) - StepCounts.From(before.Steps));
        Assert.Equal(0, (nint)p % (2 * PageSize));
        // Both pages of the block were cache pages whose owner was told to drop them.
        Assert.Contains((nint)p, owner.Evicted);
        Assert.Contains((nint)p + PageSize, owner.Evicted);
        // Reclaim stops as soon as an order-1 block can be taken without going below the floor (pages_min / 4):
        // 6 pages freed, 2 taken, 4 left.
        Assert.Equal(6, owner.EvictCount);
        Assert.Equal(before.Reclaimed + 6, after.Reclaimed);
        Assert.Equal(Floor, after.FreePages);
        Assert.Equal(64 - 6, after.InactiveCleanPages);
        Assert.All(owner.Evicted, e => Assert.Contains(e, cached));
        arena.Validate();
    }

    [Fact]
    public void Step5_OrderThreeRequest_SucceedsByReclaimingAndCoalescingCleanPages()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(3, AllocFlags.NoIo);

        Assert.True(p != null);
        Assert.Equal(StepCounts.Of(higherOrderReclaim: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, (nint)p % (8 * PageSize));
        for (int i = 0; i < 8; i++)
            Assert.Contains((nint)p + i * PageSize, owner.Evicted);
        Assert.True(ArenaState.Free(arena) >= Floor);
        arena.Validate();
    }

    [Fact]
    public void Step5_LaundersDirtyInactivePagesFirstWhenTheCallerMayDoIo()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeDirtyInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        ArenaStats before = arena.GetStats();
        Assert.Equal(0, before.InactiveCleanPages);

        void* p = arena.AllocPages(1, AllocFlags.Kernel);

        Assert.True(p != null);
        ArenaStats after = arena.GetStats();
        Assert.Equal(StepCounts.Of(higherOrderReclaim: 1), StepCounts.From(after.Steps) - StepCounts.From(before.Steps));
        Assert.True(owner.WritebackCount > 0);
        Assert.Equal(owner.WritebackCount, after.Laundered - before.Laundered);
        // Every evicted page was written back before its eviction.
        IReadOnlyList<CallbackEvent> events = owner.Events;
        foreach (CallbackEvent evict in events.Where(e => e.Kind == CallbackKind.Evict))
            Assert.Contains(events, e => e.Kind == CallbackKind.Writeback && e.Page == evict.Page && e.Sequence < evict.Sequence);
        arena.Validate();
    }

    [Fact]
    public void Step5_NoIoCaller_DoesNotWriteBackAndFailsWithOnlyDirtyPages()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeDirtyInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(1, AllocFlags.NoIo);

        Assert.True(p == null);
        Assert.Equal(StepCounts.Of(failed: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, owner.WritebackCount);
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(64, ArenaState.Stats(arena).InactiveDirtyPages);
        arena.Validate();
    }

    [Fact]
    public void Step5_NotForAtomicCallers()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(1, AllocFlags.Atomic) == null);

        Assert.Equal(StepCounts.Of(failed: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(64, ArenaState.Stats(arena).InactiveCleanPages);
        arena.Validate();
    }

    [Fact]
    public void Step5_NotForMemAllocCallers()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 64);
        ArenaState.DrainTo(arena, 0);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(1, AllocFlags.Kernel | AllocFlags.MemAlloc) == null);

        Assert.Equal(StepCounts.Of(failed: 1), StepCounts.Read(arena) - before);
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }
}
