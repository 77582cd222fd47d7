using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// A zone whose size is not a multiple of the largest block starts with its tail as smaller blocks, and a buddy that
/// would lie beyond the zone's end is never free, so nothing ever merges past the end.
/// </summary>
public sealed unsafe class TailTests
{
    [Fact]
    public void ZoneNotAMultipleOfTheLargestBlock_SeedsItsTailAsSmallerBlocks()
    {
        using BuddyArena arena = SingleZone(2 * 1024 + 512 + 64 + 3);

        Assert.Equal(ZoneProbe.Counts(11, (10, 2), (9, 1), (6, 1), (1, 1), (0, 1)), ZoneProbe.StatsFreeBlocks(arena));
        Assert.Equal(2 * 1024 + 512 + 64 + 3, arena.GetStats().FreePages);
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    [Fact]
    public void LastPageOfAnOddZone_WhenFreed_DoesNotMergeWithTheMissingBuddyBeyondTheEnd()
    {
        using BuddyArena arena = SingleZone(1024 + 3);
        void* last = arena.AllocPages(0, Mechanism); // the only order-0 block is the last page, 1026
        Assert.Equal(1026, ZoneProbe.PageOf(arena, last));

        arena.FreePages(last, 0);

        Assert.Equal(ZoneProbe.Counts(11, (10, 1), (1, 1), (0, 1)), ZoneProbe.StatsFreeBlocks(arena));
        Assert.True(arena.Zones[0].BitmapBit(1026, 0), "page 1026 is free and its buddy 1027 (beyond the end) is not");
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    [Fact]
    public void TailBlockOfOrderK_NeverMergesIntoABlockThatWouldReachPastTheEnd()
    {
        // 1024 + 512 pages: the order-9 tail block at 1024 has its order-9 buddy (1536..2047) beyond the end.
        using BuddyArena arena = SingleZone(1024 + 512);
        void* tail = arena.AllocPages(9, Mechanism);
        Assert.Equal(1024, ZoneProbe.PageOf(arena, tail));
        Assert.Equal(ZoneProbe.Counts(11, (10, 1)), ZoneProbe.StatsFreeBlocks(arena));

        arena.FreePages(tail, 9);

        Assert.Equal(ZoneProbe.Counts(11, (10, 1), (9, 1)), ZoneProbe.StatsFreeBlocks(arena));
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    [Fact]
    public void FullFillAndFreeOfAnOddZone_RestoresItsSeedShape()
    {
        using BuddyArena arena = SingleZone(256 + 128 + 7, maxOrder: 9);
        long[] seeded = ZoneProbe.StatsFreeBlocks(arena);
        var model = new LiveBlockModel(arena);
        void* p;
        while ((p = arena.AllocPages(0, Mechanism)) != null)
            model.Add(p, 0, (ulong)model.Count);
        Assert.Equal(256 + 128 + 7, model.Count);
        model.AssertArenaMatches();

        var random = new Random(99);
        while (model.Count > 0)
        {
            LiveBlock b = model[random.Next(model.Count)];
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, 0);
        }

        Assert.Equal(seeded, ZoneProbe.StatsFreeBlocks(arena));
        model.AssertArenaMatches();
    }

    [Fact]
    public void ZoneSmallerThanTheLargestBlock_ServesOnlyOrdersThatFit()
    {
        using BuddyArena arena = SingleZone(6); // an order-2 block and an order-1 block
        Assert.Equal(ZoneProbe.Counts(11, (2, 1), (1, 1)), ZoneProbe.StatsFreeBlocks(arena));

        void* tooBig = arena.AllocPages(3, Mechanism);
        Assert.True(tooBig == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);

        void* fits = arena.AllocPages(2, Mechanism);
        Assert.True(fits != null);
        Assert.Equal(0, ZoneProbe.PageOf(arena, fits));
        arena.FreePages(fits, 2);
        Assert.Equal(ZoneProbe.Counts(11, (2, 1), (1, 1)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void OnePageZone_HandsOutItsOnlyPage_AndTakesItBack()
    {
        using BuddyArena arena = SingleZone(1);

        void* p = arena.AllocPages(0, Mechanism);
        Assert.True(p != null);
        Assert.True(arena.AllocPages(0, Mechanism) == null);
        arena.FreePages(p, 0);

        Assert.Equal(ZoneProbe.Counts(11, (0, 1)), ZoneProbe.StatsFreeBlocks(arena));
        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }
}
