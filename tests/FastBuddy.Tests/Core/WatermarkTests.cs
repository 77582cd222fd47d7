using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// The 2.4 watermark rule: m = pages / ratio, clamped to [BalanceMin, BalanceMax] and capped at pages / 16;
/// min = m, low = 2m, high = 3m; the lowest of several zones uses LowestZoneBalanceRatio. Explicit values override it.
/// </summary>
public sealed class WatermarkTests
{
    private static (long Min, long Low, long High) Marks(ZoneStats z) => (z.PagesMin, z.PagesLow, z.PagesHigh);

    [Fact]
    public void SingleZone_UsesBalanceRatio_ClampedDownToBalanceMax()
    {
        using BuddyArena arena = ComputedWatermarks(65536); // 65536 / 128 = 512 -> 255

        Assert.Equal((255L, 510L, 765L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void SingleZone_UsesBalanceRatio_WithinTheClamps()
    {
        using BuddyArena arena = ComputedWatermarks(128 * 50); // 6400 / 128 = 50

        Assert.Equal((50L, 100L, 150L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void SmallZone_IsClampedUpToBalanceMin()
    {
        using BuddyArena arena = ComputedWatermarks(1024); // 1024 / 128 = 8 -> 10 (and 1024 / 16 = 64 does not cap)

        Assert.Equal((10L, 20L, 30L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void TinyZone_IsCappedAtASixteenthOfItsPages()
    {
        using BuddyArena arena = ComputedWatermarks(100); // 0 -> 10, capped at 100 / 16 = 6

        Assert.Equal((6L, 12L, 18L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void LowestOfSeveralZones_UsesLowestZoneBalanceRatio_TheOthersBalanceRatio()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.Zones.Add(new ZoneOptions("DMA", 4096 * 64));
        options.Zones.Add(new ZoneOptions("Normal", 4096 * 64));
        options.Zones.Add(new ZoneOptions("HighMem", 12800 * 64));
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();

        Assert.Equal((128L, 256L, 384L), Marks(stats.Zones[0]));   // 4096 / 32
        Assert.Equal((32L, 64L, 96L), Marks(stats.Zones[1]));      // 4096 / 128
        Assert.Equal((100L, 200L, 300L), Marks(stats.Zones[2]));   // 12800 / 128
        arena.Validate();
    }

    [Fact]
    public void OnlyZone_IgnoresLowestZoneBalanceRatio()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.ArenaBytes = 4096 * 64;
        options.LowestZoneBalanceRatio = 2;
        using var arena = new BuddyArena(options);

        Assert.Equal((32L, 64L, 96L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void CustomRatioAndClamps_AreHonoured()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.BalanceRatio = 64;
        options.BalanceMin = 1;
        options.BalanceMax = 40;
        options.Zones.Add(new ZoneOptions("Normal", 3200 * 64));  // 50 -> 40
        using var arena = new BuddyArena(options);

        Assert.Equal((40L, 80L, 120L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void CustomBalanceMin_LiftsSmallZones()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.BalanceMin = 20;
        options.ArenaBytes = 1024 * 64; // 8 -> 20 (cap 64)
        using var arena = new BuddyArena(options);

        Assert.Equal((20L, 40L, 60L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void ExplicitPagesMinAlone_GivesLowTwiceAndHighThriceIt()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.Zones.Add(new ZoneOptions("Normal", 1000 * 64) { PagesMin = 7 });
        using var arena = new BuddyArena(options);

        Assert.Equal((7L, 14L, 21L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void ExplicitWatermarks_AreUsedAsGiven_AndOtherZonesStillComputed()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.Zones.Add(new ZoneOptions("DMA", 4096 * 64));
        options.Zones.Add(new ZoneOptions("Normal", 4096 * 64) { PagesMin = 5, PagesLow = 9, PagesHigh = 40 });
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();

        Assert.Equal((128L, 256L, 384L), Marks(stats.Zones[0]));
        Assert.Equal((5L, 9L, 40L), Marks(stats.Zones[1]));
        arena.Validate();
    }

    [Fact]
    public void ExplicitWatermarksMayAllBeEqual_AndMayReachTheZonesSize()
    {
        ArenaOptions options = Options(pageSize: 64);
        options.Zones.Add(new ZoneOptions("Normal", 50 * 64) { PagesMin = 50, PagesLow = 50, PagesHigh = 50 });
        using var arena = new BuddyArena(options);

        Assert.Equal((50L, 50L, 50L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }
}
