using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// 2.4.0's page_launder pass 1 calls writepage on every dirty inactive page it scans: before an allocation that
/// may do I/O fails, every dirty inactive page has been offered to its owner at least once.
/// </summary>
public sealed unsafe class FullLaunderPassTests
{
    [Theory]
    [InlineData(0, AllocFlags.NoFs)]
    [InlineData(64, AllocFlags.NoFs)]
    [InlineData(0, AllocFlags.Kernel)]
    public void AFailingIoAllocation_HasOfferedEveryDirtyInactivePage(int perCpuPages, AllocFlags flags)
    {
        const int dirtyPages = 2000;
        var offered = new HashSet<nint>();
        var owner = new RecordingOwner
        {
            OnWriteback = p =>
            {
                lock (offered)
                    offered.Add(p);
                return false; // still dirty
            },
        };
        using BuddyArena arena = PolicyArena.Create(pages: 4096, perCpuPages: perCpuPages, allocWait: TimeSpan.FromMilliseconds(10));
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, dirtyPages);
        ArenaState.DrainTo(arena, PolicyArena.Min);

        Assert.True(arena.AllocPages(0, flags) == null);

        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        int missed = dirty.Count(p => !offered.Contains(p));
        Assert.True(missed == 0, $"{missed} of {dirtyPages} dirty pages were never offered to Writeback ({owner.WritebackCount} calls)");
        arena.Validate();
    }

    [Fact]
    public void OnePass_OffersEachDirtyPageOnce_InListOrderFromTheTail()
    {
        var owner = new RecordingOwner { OnWriteback = _ => false };
        using BuddyArena arena = PolicyArena.Create(pages: 1024);
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 100);
        ArenaState.DrainTo(arena, PolicyArena.Min);

        using (FastBuddy.Policy.ReclaimContext.Enter())
            arena.Policy.Reclaimer.Launder(mayIo: true);

        Assert.Equal(100, owner.WritebackCount);
        Assert.Equal(100, owner.WrittenBack.Distinct().Count());
        arena.Validate();
    }
}
