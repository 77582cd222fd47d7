using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// CacheRemove's answers: true for a cached page, false once the arena chose the page for reclaim, and
/// InvalidArgument for a page that is not in the page cache (never cached, or already taken back).
/// </summary>
public sealed unsafe class CacheRemoveStatusTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemove_OfAPageThatWasNeverCached_IsInvalidArgument(int perCpuPages)
    {
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        void* page = arena.AllocPages(0);

        var e = Assert.Throws<FastBuddyException>(() => arena.CacheRemove(page));

        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
        arena.FreePages(page, 0); // still the caller's, unchanged
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemove_ASecondTime_IsInvalidArgument(int perCpuPages)
    {
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        void* page = arena.AllocPages(0);
        arena.CacheAdd(page, new RecordingOwner());
        Assert.True(arena.CacheRemove(page));

        var e = Assert.Throws<FastBuddyException>(() => arena.CacheRemove(page));

        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
        arena.FreePages(page, 0);
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemove_AfterTheArenaReclaimedAndFreedThePage_ReturnsFalse(int perCpuPages)
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        nint page = ArenaState.MakeCleanInactive(arena, owner, 1)[0];
        ArenaState.DrainTo(arena, Min);
        arena.Balance(); // kreclaimd's refill: Evict, then the page goes back to the buddy system
        Assert.Equal(1, owner.EvictCount);

        Assert.False(arena.CacheRemove((void*)page));
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemove_OfAReclaimedPage_CachedAgainByItsNewHolder_ReturnsTrue(int perCpuPages)
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        nint page = ArenaState.MakeCleanInactive(arena, owner, 1)[0];
        ArenaState.DrainTo(arena, Min);
        void* p = arena.AllocPages(0, AllocFlags.NoIo); // direct reclaim: the page goes straight to this caller
        Assert.True(p == (void*)page);

        arena.CacheAdd(p, owner);

        Assert.True(arena.CacheRemove(p));
        arena.Validate();
    }
}
