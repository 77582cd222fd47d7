using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Bad options are refused with InvalidArgument before any memory is taken.</summary>
public sealed class BadOptionsTests
{
    private static ArenaOptions WithBytes(int pageSize, nuint bytes = 1 << 20)
    {
        ArenaOptions options = Options(pageSize);
        options.ArenaBytes = bytes;
        return options;
    }

    private static ArenaOptions WithZone(ZoneOptions zone)
    {
        ArenaOptions options = Options();
        options.Zones.Add(zone);
        return options;
    }

    [Theory]
    [InlineData(100)]
    [InlineData(3000)]
    [InlineData(4097)]
    [InlineData(4096 + 2048)]
    public void PageSizeThatIsNotAPowerOfTwo_IsInvalidArgument(int pageSize)
        => ArenaState.AssertOptionsRejected(WithBytes(pageSize));

    [Theory]
    [InlineData(32)]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-4096)]
    public void PageSizeBelow64Bytes_IsInvalidArgument(int pageSize)
        => ArenaState.AssertOptionsRejected(WithBytes(pageSize));

    [Theory]
    [InlineData(2 << 20)]
    [InlineData(1 << 30)]
    public void PageSizeAbove1MiB_IsInvalidArgument(int pageSize)
        => ArenaState.AssertOptionsRejected(WithBytes(pageSize, (nuint)pageSize * 4));

    [Theory]
    [InlineData(64)]
    [InlineData(1 << 20)]
    public void PageSizesAtTheEndsOfTheRange_AreAccepted(int pageSize)
    {
        ArenaOptions options = Options(pageSize, maxOrder: 3);
        options.ArenaBytes = (nuint)pageSize * 8;
        using var arena = new BuddyArena(options);

        Assert.Equal(pageSize, arena.PageSize);
        Assert.Equal(8, arena.GetStats().TotalPages);
        arena.Validate();
    }

    [Fact]
    public void ZonesAndArenaBytesBothGiven_IsInvalidArgument()
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("Normal", 64));
        options.ArenaBytes = 64 * 4096;

        ArenaState.AssertOptionsRejected(options);
    }

    [Fact]
    public void NeitherZonesNorArenaBytes_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(Options());

    [Fact]
    public void AZeroSizedZone_IsInvalidArgument()
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("DMA", 64));
        options.Zones.Add(new ZoneOptions("Normal", 0));

        ArenaState.AssertOptionsRejected(options);
    }

    [Fact]
    public void AZoneSmallerThanOnePage_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 4095)));

    [Fact]
    public void ArenaBytesSmallerThanOnePage_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithBytes(4096, 4095));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(BuddyArena.MaxOrderLimit + 1)]
    public void MaxOrderOutOfRange_IsInvalidArgument(int maxOrder)
    {
        ArenaOptions options = WithBytes(4096);
        options.MaxOrder = maxOrder;

        ArenaState.AssertOptionsRejected(options);
    }

    [Fact]
    public void WatermarkMinOfZero_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = 0 }));

    [Fact]
    public void NegativeWatermarkMin_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = -5 }));

    [Fact]
    public void WatermarkMinAboveLow_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = 10, PagesLow = 5, PagesHigh = 20 }));

    [Fact]
    public void WatermarkLowAboveHigh_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = 1, PagesLow = 10, PagesHigh = 5 }));

    [Fact]
    public void WatermarkHighAboveTheZonesPages_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = 1, PagesLow = 2, PagesHigh = 101 }));

    [Fact]
    public void ExplicitMinWhoseImpliedHighExceedsTheZone_IsInvalidArgument()
        => ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesMin = 40 }));

    [Fact]
    public void WatermarkLowOrHighWithoutMin_IsInvalidArgument()
    {
        ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesLow = 10 }));
        ArenaState.AssertOptionsRejected(WithZone(new ZoneOptions("Normal", 100 * 4096) { PagesHigh = 10 }));
    }
}
