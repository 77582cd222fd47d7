using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Zones are listed low to high; zonelist i is zones i, i-1, ..., 0; the default zonelist is the highest zone's.</summary>
public sealed unsafe class ZoneAndZonelistTests
{
    [Fact]
    public void Zones_AreListedLowToHigh_WithTheirNamesAndPages()
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("DMA", 16));
        options.Zones.Add(TinyWatermarkZone("Normal", 64));
        options.Zones.Add(TinyWatermarkZone("HighMem", 32));
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();
        Assert.Equal(3, arena.ZoneCount);
        Assert.Equal(["DMA", "Normal", "HighMem"], stats.Zones.Select(z => z.Name));
        Assert.Equal([16L, 64L, 32L], stats.Zones.Select(z => z.Pages));
        Assert.Equal(112, stats.TotalPages);
        arena.Validate();
    }

    [Fact]
    public void ZoneSize_IsRoundedDownToWholePages()
    {
        ArenaOptions options = Options();
        options.Zones.Add(new ZoneOptions("Normal", 10 * 4096 + 4095) { PagesMin = 1, PagesLow = 1, PagesHigh = 1 });
        using var arena = new BuddyArena(options);

        Assert.Equal(10, arena.GetStats().Zones[0].Pages);
        Assert.Equal(10, arena.GetStats().FreePages);
        Assert.Equal(ZoneProbe.Counts(11, (3, 1), (1, 1)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void DefaultZonelist_TakesFromTheHighestZone()
    {
        using BuddyArena arena = Zoned(4096, 6, 32, 32, 32);

        void* p = arena.AllocPages(0);

        Assert.Equal(2, ZoneProbe.ZoneIndexOf(arena, p));
        ArenaStats stats = arena.GetStats();
        Assert.Equal([32L, 32L, 31L], stats.Zones.Select(z => z.FreePages));
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void WhenTheHighestZoneIsFull_TheDefaultZonelistFallsBackToTheNextLowerZone()
    {
        using BuddyArena arena = Zoned(4096, 6, 32, 32);
        void* high = arena.AllocPages(5, Mechanism);
        Assert.Equal(1, ZoneProbe.ZoneIndexOf(arena, high));

        void* next = arena.AllocPages(0, Mechanism);

        Assert.True(next != null);
        Assert.Equal(0, ZoneProbe.ZoneIndexOf(arena, next));
        arena.FreePages(next, 0);
        arena.FreePages(high, 5);
        arena.Validate();
    }

    [Fact]
    public void ZonelistI_FallsBackThroughZonesIMinus1DownTo0_InThatOrder()
    {
        using BuddyArena arena = Zoned(4096, 4, 8, 8, 8);
        var zonesInOrder = new List<int>();
        var model = new LiveBlockModel(arena);

        void* p;
        while ((p = arena.AllocPages(0, Mechanism, 2)) != null)
        {
            zonesInOrder.Add(ZoneProbe.ZoneIndexOf(arena, p));
            model.Add(p, 0, 0);
        }

        Assert.Equal(Enumerable.Repeat(2, 8).Concat(Enumerable.Repeat(1, 8)).Concat(Enumerable.Repeat(0, 8)), zonesInOrder);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        model.AssertArenaMatches();
    }

    [Fact]
    public void ZonelistZero_NeverTakesFromAHigherZone()
    {
        using BuddyArena arena = Zoned(4096, 4, 8, 8);
        var model = new LiveBlockModel(arena);
        for (int i = 0; i < 8; i++)
        {
            void* p = arena.AllocPages(0, Mechanism, 0);
            Assert.Equal(0, ZoneProbe.ZoneIndexOf(arena, p));
            model.Add(p, 0, 0);
        }

        void* none = arena.AllocPages(0, Mechanism, 0);

        Assert.True(none == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(8, arena.GetStats().Zones[1].FreePages);
        model.AssertArenaMatches();
    }

    [Fact]
    public void ZonelistOne_NeverTakesFromZoneTwo()
    {
        using BuddyArena arena = Zoned(4096, 4, 8, 8, 8);
        var model = new LiveBlockModel(arena);
        void* p;
        while ((p = arena.AllocPages(1, Mechanism, 1)) != null)
        {
            Assert.InRange(ZoneProbe.ZoneIndexOf(arena, p), 0, 1);
            model.Add(p, 1, 0);
        }

        Assert.Equal(8, model.Count);
        Assert.Equal(8, arena.GetStats().Zones[2].FreePages);
        model.AssertArenaMatches();
    }

    [Fact]
    public void HigherOrderRequest_FallsBackWhenTheHigherZoneHasOnlySmallerFreeBlocks()
    {
        using BuddyArena arena = Zoned(4096, 4, 8, 8);
        var model = new LiveBlockModel(arena);
        // Take all of zone 1 page by page, then free every other page: 4 free pages, none with a free buddy.
        var pages = new List<nint>();
        for (int i = 0; i < 8; i++)
            pages.Add((nint)arena.AllocPages(0, Mechanism, 1));
        Assert.All(pages, p => Assert.Equal(1, ZoneProbe.ZoneIndexOf(arena, (void*)p)));
        foreach (nint p in pages)
        {
            if (ZoneProbe.PageOf(arena, (void*)p) % 2 == 0)
                arena.FreePages((void*)p, 0);
            else
                model.Add((void*)p, 0, 0);
        }
        Assert.Equal(4, arena.GetStats().Zones[1].FreePages);

        void* pair = arena.AllocPages(1, Mechanism, 1);

        Assert.True(pair != null);
        Assert.Equal(0, ZoneProbe.ZoneIndexOf(arena, pair));
        model.Add(pair, 1, 0);
        model.AssertArenaMatches();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(int.MaxValue)]
    public void ZonelistThatDoesNotExist_IsInvalidArgument_AndChangesNothing(int zonelist)
    {
        using BuddyArena arena = Zoned(4096, 4, 8, 8, 8);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(0, Mechanism, zonelist));
    }

    [Fact]
    public void Create_MakesOneZoneNamedNormal_OfThatManyBytes()
    {
        using BuddyArena arena = BuddyArena.Create(8u << 20);

        Assert.Equal(1, arena.ZoneCount);
        Assert.Equal(4096, arena.PageSize);
        Assert.Equal(11, arena.MaxOrder);
        ArenaStats stats = arena.GetStats();
        Assert.Equal("Normal", Assert.Single(stats.Zones).Name);
        Assert.Equal(2048, stats.TotalPages);
        Assert.Equal(2048, stats.FreePages);
        Assert.Equal(ZoneProbe.Counts(11, (10, 2)), stats.Zones[0].FreeBlocks);
        arena.Validate();
    }

    [Fact]
    public void ArenaBytes_WithoutZones_MakesOneZoneNamedNormal_RoundedDownToWholePages()
    {
        ArenaOptions options = Options(pageSize: 1024, maxOrder: 5);
        options.ArenaBytes = 100 * 1024 + 1000;
        using var arena = new BuddyArena(options);

        ArenaStats stats = arena.GetStats();
        Assert.Equal("Normal", Assert.Single(stats.Zones).Name);
        Assert.Equal(100, stats.Zones[0].Pages);
        Assert.Equal(ZoneProbe.Counts(5, (4, 6), (2, 1)), stats.Zones[0].FreeBlocks);
        arena.Validate();
    }
}
