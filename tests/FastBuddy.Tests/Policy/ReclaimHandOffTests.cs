using FastBuddy.Diagnostics;
using FastBuddy.Tests.PolicySupport;
using FastBuddy.Tests.Systematic;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// A page the reclaimer evicts stays claimed until the reclaimer frees it or hands it to the allocating caller:
/// a host's wrong free in between is refused, never absorbed.
/// </summary>
public sealed unsafe class ReclaimHandOffTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void AHostsFree_AfterEvictReturned_AndBeforeTheReclaimersFree_IsRefused(int perCpuPages)
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        nint page = ArenaState.MakeCleanInactive(arena, owner, 1)[0];
        ArenaState.DrainTo(arena, Min); // below pages_low: kreclaimd's refill evicts and frees the page
        FastBuddyStatus status = FastBuddyStatus.Ok;
        long freeBefore = ArenaState.Free(arena);

        using (PointHooks.Once(SchedulePoints.ReclaimHandedOff, () =>
        {
            try
            {
                arena.FreePages((void*)page, 0);
            }
            catch (FastBuddyException e)
            {
                status = e.Status;
            }
        }))
        {
            arena.Balance();
        }

        Assert.Equal(1, owner.EvictCount);
        Assert.Equal(FastBuddyStatus.Busy, status);
        Assert.Equal(freeBefore + 1, ArenaState.Free(arena));
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void AHostsFree_AfterTheReclaimerFreedThePage_IsADoubleFree(int perCpuPages)
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(perCpuPages: perCpuPages);
        nint page = ArenaState.MakeCleanInactive(arena, owner, 1)[0];
        ArenaState.DrainTo(arena, Min);

        arena.Balance();

        Assert.Equal(1, owner.EvictCount);
        var e = Assert.Throws<FastBuddyException>(() => arena.FreePages((void*)page, 0));
        Assert.Equal(FastBuddyStatus.DoubleFree, e.Status);
        arena.Validate();
    }
}
