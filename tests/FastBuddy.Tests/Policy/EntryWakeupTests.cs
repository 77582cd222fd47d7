using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// On entry (docs/design.md, "The seed's steps", entry): wake kswapd when inactive_shortage() &gt; inactive_target / 2 and free_shortage(); else when
/// there is a free shortage and the inactive_dirty pages exceed it and freepages.high, wake the launderer (kswapd).
/// Observed through the background thread's Writeback calls: the allocation itself is served by the fast path, above
/// pages_min (so kreclaimd is not woken either).
/// </summary>
public sealed unsafe class EntryWakeupTests
{
    private static bool WritebackWithin(RecordingOwner owner, int ms)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < ms)
        {
            if (owner.WritebackCount > 0)
                return true;
            Thread.Sleep(5);
        }
        return owner.WritebackCount > 0;
    }

    [Fact]
    public void FreeShortageWithDirtyPagesAboveItAndAboveFreepagesHigh_WakesKswapdToLaunder()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(background: true);
        ArenaState.MakeDirtyInactive(arena, owner, 60); // 60 >= freepages.high (48)
        for (int i = 0; i < 256 - 60 - 40; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null); // fast path down to 40 free

        Assert.True(WritebackWithin(owner, 2000), "kswapd was not woken to launder");
        Assert.All(owner.Events, e => Assert.NotEqual(Environment.CurrentManagedThreadId, e.ThreadId));
        arena.Validate();
    }

    /// <summary>
    /// 20 dirty pages exceed the free shortage (about 9) but not freepages.high (48): 2.4.0 does not wake the
    /// launderer, and the inactive shortage (0) is not above inactive_target / 2, so nothing wakes kswapd.
    /// </summary>
    [Fact]
    public void FreeShortageWithDirtyPagesBelowFreepagesHigh_DoesNotWakeKswapd()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(background: true);
        ArenaState.MakeDirtyInactive(arena, owner, 20);
        for (int i = 0; i < 256 - 20 - 40; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null); // fast path down to 40 free
        Assert.True(arena.Policy.Pressure.FreeShortage() > 0);
        Assert.True(arena.Policy.Pressure.FreeShortage() < 20);
        Assert.Equal(0, arena.Policy.Pressure.InactiveShortage());

        Assert.False(WritebackWithin(owner, 300), "kswapd was woken to launder 20 dirty pages, fewer than freepages.high");
        arena.Validate();
    }
}
