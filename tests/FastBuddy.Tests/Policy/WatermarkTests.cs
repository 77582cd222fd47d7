using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Watermarks by the 2.4 rule: m = pages / ratio clamped to [BalanceMin, BalanceMax] and capped at pages / 16;
/// min = m, low = 2m, high = 3m; ratio 32 for the lowest of several zones, else 128. Explicit values override.
/// Page size 64 B keeps even a 65536-page zone at 4 MiB.
/// </summary>
public sealed unsafe class WatermarkTests
{
    private static BuddyArena Arena(Action<ArenaOptions> configure)
    {
        var options = new ArenaOptions { PageSize = 64, BackgroundReclaim = false };
        configure(options);
        return new BuddyArena(options);
    }

    private static (long Min, long Low, long High) Marks(ZoneStats z) => (z.PagesMin, z.PagesLow, z.PagesHigh);

    [Theory]
    [InlineData(4096, 32)]     // 4096 / 128
    [InlineData(1000, 10)]     // 7 -> clamped up to BalanceMin
    [InlineData(100, 6)]       // 0 -> BalanceMin 10 -> capped at 100 / 16
    [InlineData(65536, 255)]   // 512 -> clamped down to BalanceMax
    [InlineData(16000, 125)]
    public void SingleZone_UsesRatio128_ClampedAndCapped(int pages, long m)
    {
        using BuddyArena arena = Arena(o => o.ArenaBytes = (nuint)pages * 64);

        ArenaStats s = arena.GetStats();
        Assert.Equal((m, 2 * m, 3 * m), Marks(s.Zones[0]));
        Assert.Equal((m, 2 * m, 3 * m), (s.FreePagesMin, s.FreePagesLow, s.FreePagesHigh));
        arena.Validate();
    }

    [Fact]
    public void SeveralZones_TheLowestUsesRatio32_TheOthers128_AndFreepagesAreTheSums()
    {
        using BuddyArena arena = Arena(o =>
        {
            o.Zones.Add(new ZoneOptions("DMA", 2048 * 64));
            o.Zones.Add(new ZoneOptions("Normal", 8192 * 64));
            o.Zones.Add(new ZoneOptions("HighMem", 8192 * 64));
        });

        ArenaStats s = arena.GetStats();
        Assert.Equal((64L, 128L, 192L), Marks(s.Zones[0])); // 2048 / 32
        Assert.Equal((64L, 128L, 192L), Marks(s.Zones[1])); // 8192 / 128
        Assert.Equal((64L, 128L, 192L), Marks(s.Zones[2]));
        Assert.Equal((192L, 384L, 576L), (s.FreePagesMin, s.FreePagesLow, s.FreePagesHigh));
        arena.Validate();
    }

    [Fact]
    public void BalanceOptions_AreHonoured()
    {
        using BuddyArena arena = Arena(o =>
        {
            o.ArenaBytes = 8192 * 64;
            o.BalanceRatio = 64;   // 128
            o.BalanceMax = 100;    // -> 100
            o.BalanceMin = 20;
        });
        Assert.Equal((100L, 200L, 300L), Marks(arena.GetStats().Zones[0]));

        using BuddyArena small = Arena(o => { o.ArenaBytes = 1024 * 64; o.BalanceMin = 40; }); // 8 -> 40, cap 64
        Assert.Equal((40L, 80L, 120L), Marks(small.GetStats().Zones[0]));
        arena.Validate();
        small.Validate();
    }

    [Fact]
    public void LowestZoneBalanceRatio_AppliesOnlyWithSeveralZones()
    {
        using BuddyArena one = Arena(o => { o.Zones.Add(new ZoneOptions("Only", 4096 * 64)); o.LowestZoneBalanceRatio = 8; });
        using BuddyArena two = Arena(o =>
        {
            o.Zones.Add(new ZoneOptions("Low", 4096 * 64));
            o.Zones.Add(new ZoneOptions("High", 4096 * 64));
            o.LowestZoneBalanceRatio = 64;
        });

        Assert.Equal(32, one.GetStats().Zones[0].PagesMin);   // 4096 / 128
        Assert.Equal(64, two.GetStats().Zones[0].PagesMin);   // 4096 / 64
        Assert.Equal(32, two.GetStats().Zones[1].PagesMin);   // 4096 / 128
        one.Validate();
        two.Validate();
    }

    [Fact]
    public void ExplicitPagesMinAlone_GivesLowTwiceAndHighThrice()
    {
        using BuddyArena arena = Arena(o => o.Zones.Add(new ZoneOptions("Z", 4096 * 64) { PagesMin = 7 }));
        Assert.Equal((7L, 14L, 21L), Marks(arena.GetStats().Zones[0]));
        arena.Validate();
    }

    [Fact]
    public void ExplicitWatermarks_OverrideTheRulePerZone()
    {
        using BuddyArena arena = Arena(o =>
        {
            o.Zones.Add(new ZoneOptions("A", 4096 * 64) { PagesMin = 5, PagesLow = 6, PagesHigh = 100 });
            o.Zones.Add(new ZoneOptions("B", 4096 * 64)); // computed: 4096 / 128
        });

        ArenaStats s = arena.GetStats();
        Assert.Equal((5L, 6L, 100L), Marks(s.Zones[0]));
        Assert.Equal((32L, 64L, 96L), Marks(s.Zones[1]));
        Assert.Equal((37L, 70L, 196L), (s.FreePagesMin, s.FreePagesLow, s.FreePagesHigh));
        arena.Validate();
    }

    [Theory]
    [InlineData(0L, null, null)]      // min < 1
    [InlineData(10L, 5L, null)]       // min > low
    [InlineData(10L, 20L, 15L)]       // low > high
    [InlineData(10L, 20L, 5000L)]     // high > zone pages
    [InlineData(null, 20L, 30L)]      // low/high without min
    public void InconsistentExplicitWatermarks_AreRejected(long? min, long? low, long? high)
    {
        var options = new ArenaOptions { PageSize = 64 };
        options.Zones.Add(new ZoneOptions("Z", 4096 * 64) { PagesMin = min, PagesLow = low, PagesHigh = high });

        var e = Assert.Throws<FastBuddyException>(() => new BuddyArena(options));
        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
    }

    [Fact]
    public void TheAllocationPathUsesTheZonesWatermarks()
    {
        using BuddyArena arena = PolicyArena.Create(min: 40, low: 50, high: 60);
        // Waiting callers without cache stop at pages_min (40), atomic ones at pages_min / 4 (10).
        while (arena.AllocPages(0, AllocFlags.NoFs) != null) { }
        Assert.Equal(40, ArenaState.Free(arena));
        while (arena.AllocPages(0, AllocFlags.Atomic) != null) { }
        Assert.Equal(10, ArenaState.Free(arena));
        arena.Validate();
    }
}
