using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// Arena creation is all or nothing: a refused reservation or a managed allocation that fails while the zones'
/// descriptors, bitmaps and lists are built throws <see cref="OutOfMemoryException"/> and leaves no reservation
/// behind; the same options then create a valid arena.
/// </summary>
public class CreationFaultTests
{
    private static ArenaOptions ThreeZones()
    {
        var options = new ArenaOptions { BackgroundReclaim = false };
        options.Zones.Add(new ZoneOptions("DMA", 1 << 20));
        options.Zones.Add(new ZoneOptions("Normal", 2 << 20));
        options.Zones.Add(new ZoneOptions("HighMem", 1 << 20));
        return options;
    }

    [Fact]
    public void A_failed_descriptor_allocation_releases_the_zone_reservation()
    {
        var options = new ArenaOptions { ArenaBytes = 4 << 20, BackgroundReclaim = false };
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.CreationAllocation, 1);

        Assert.Throws<OutOfMemoryException>(() => new BuddyArena(options));

        Assert.True(plan.Fired);
        Assert.Equal(0, plan.LiveReservations);
    }

    [Fact]
    public void A_failed_bitmap_allocation_of_a_later_zone_releases_every_reservation()
    {
        // Zone 0 is built completely; zone 1's bitmap (its second metadata allocation) fails.
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.CreationAllocation, 5);

        Assert.Throws<OutOfMemoryException>(() => new BuddyArena(ThreeZones()));

        Assert.True(plan.Fired);
        Assert.Equal(0, plan.LiveReservations);
    }

    [Fact]
    public void Every_managed_allocation_failure_during_creation_leaves_no_reservation()
    {
        int failures = FaultLoop.Walk(FaultPoint.CreationAllocation, () => CreateValidateDispose(ThreeZones()), Check);

        // Three zones of three metadata allocations each, plus the arena's own tables.
        Assert.True(failures >= 10, $"only {failures} creation allocations were reached");
    }

    [Fact]
    public void Every_reservation_failure_leaves_no_reservation()
    {
        int failures = FaultLoop.Walk(FaultPoint.Reservation, () => CreateValidateDispose(ThreeZones()), Check);

        Assert.Equal(3, failures);
    }

    [Fact]
    public void A_refused_reservation_says_which_request_failed()
    {
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.Reservation, 1);

        OutOfMemoryException e = Assert.Throws<OutOfMemoryException>(() => BuddyArena.Create(1 << 20));

        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.Equal(0, plan.LiveReservations);
    }

    [Fact]
    public void A_reservation_the_operating_system_refuses_throws_out_of_memory_and_keeps_nothing()
    {
        // 2^30 pages of 1 MiB: a petabyte, more than any process's address space.
        var options = new ArenaOptions { PageSize = 1 << 20, BackgroundReclaim = false };
        options.Zones.Add(new ZoneOptions("Small", 4 << 20));
        options.Zones.Add(new ZoneOptions("Huge", (nuint)1 << 50));
        using FaultInjection.Plan plan = FaultInjection.Arm(FaultPoint.Reservation, 0);

        Assert.Throws<OutOfMemoryException>(() => new BuddyArena(options));

        // Both zones asked; the small zone's reservation, the only one granted, was given back.
        Assert.Equal(2, plan.Reservations);
        Assert.Equal(1, plan.Releases);
    }

    private static void CreateValidateDispose(ArenaOptions options)
    {
        using var arena = new BuddyArena(options);
        arena.Validate();
        ArenaStats stats = arena.GetStats();
        Assert.Equal(stats.TotalPages, stats.FreePages);
    }

    private static void Check(FaultLoop.Run run)
    {
        if (run.Plan.Fired)
            Assert.IsType<OutOfMemoryException>(run.Error);
        else
            Assert.Null(run.Error);
        Assert.True(run.Plan.LiveReservations == 0, $"N = {run.N}: {run.Plan.LiveReservations} reservations left");
    }
}
