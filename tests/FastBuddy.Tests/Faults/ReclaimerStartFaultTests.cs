using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// kswapd's thread starts with the arena. A thread that cannot start fails the creation as a whole: the exception
/// says why and no reservation is kept; a creation that fails after the thread started stops it again.
/// </summary>
public class ReclaimerStartFaultTests
{
    private static ArenaOptions TwoZones(bool background)
    {
        var options = new ArenaOptions { BackgroundReclaim = background };
        options.Zones.Add(new ZoneOptions("DMA", 1 << 20));
        options.Zones.Add(new ZoneOptions("Normal", 2 << 20));
        return options;
    }

    [Fact]
    public void A_reclaimer_that_cannot_start_fails_the_creation_and_keeps_no_reservation()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.ReclaimerStart, 1);

        OutOfMemoryException e = Assert.Throws<OutOfMemoryException>(() => new BuddyArena(TwoZones(background: true)));

        Assert.True(plan.Fired);
        Assert.Contains("reclaimer", e.Message);
        Assert.Equal(2, plan.Reservations);
        Assert.Equal(0, plan.LiveReservations);
    }

    [Fact]
    public void Without_background_reclaim_no_thread_is_started()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.ReclaimerStart, 1);
        using var arena = new BuddyArena(TwoZones(background: false));

        Assert.False(plan.Fired);
        Assert.Equal(0, plan.Calls);
    }

    [Fact]
    public void Every_creation_fault_with_background_reclaim_leaves_no_reservation()
    {
        // The faults after kswapd's start (the arena's last tables) must stop the thread as well.
        int failures = FaultLoop.Walk(FaultPoint.CreationAllocation, () =>
        {
            using var arena = new BuddyArena(TwoZones(background: true));
            arena.Validate();
        }, run =>
        {
            if (run.Plan.Fired)
                Assert.IsType<OutOfMemoryException>(run.Error);
            else
                Assert.Null(run.Error);
            Assert.Equal(0, run.Plan.LiveReservations);
        });

        Assert.True(failures >= 8);
    }
}
