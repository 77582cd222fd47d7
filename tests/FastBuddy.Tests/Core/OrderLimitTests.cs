using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>The ends of the MaxOrder range: one order only (no merging at all), and the largest accepted MaxOrder.</summary>
public sealed unsafe class OrderLimitTests
{
    [Fact]
    public void MaxOrderOne_HandsOutSinglePagesOnly_AndNeverMerges()
    {
        using BuddyArena arena = SingleZone(8, maxOrder: 1);
        Assert.Equal([8L], ZoneProbe.StatsFreeBlocks(arena));
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(1, Mechanism));
        var model = new LiveBlockModel(arena);

        void* p;
        while ((p = arena.AllocPages(0, Mechanism)) != null)
            model.Add(p, 0, (ulong)model.Count);
        Assert.Equal(8, model.Count);
        foreach (LiveBlock b in model.Blocks.ToList())
        {
            model.Remove((void*)b.Address);
            arena.FreePages((void*)b.Address, 0);
        }

        Assert.Equal([8L], ZoneProbe.StatsFreeBlocks(arena));
        model.AssertArenaMatches();
    }

    [Fact]
    public void MaxOrderAtTheLimit_IsAccepted_AndServesTheOrdersThatFit()
    {
        using BuddyArena arena = SingleZone(64 + 1, pageSize: 64, maxOrder: BuddyArena.MaxOrderLimit);
        Assert.Equal(BuddyArena.MaxOrderLimit, arena.MaxOrder);
        Assert.Equal(ZoneProbe.Counts(BuddyArena.MaxOrderLimit, (6, 1), (0, 1)), ZoneProbe.StatsFreeBlocks(arena));

        Assert.True(arena.AllocPages(BuddyArena.MaxOrderLimit - 1, Mechanism) == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        void* p = arena.AllocPages(6, Mechanism);
        Assert.True(p != null);
        Assert.Equal((nuint)0, (nuint)p % (64u << 6));
        arena.FreePages(p, 6);

        BuddyModel.AssertZoneState(arena.Zones[0], []);
        arena.Validate();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(8)]
    public void SmallMaxOrder_WithEveryOtherOptionAtItsDefault_IsAccepted(int maxOrder)
    {
        var options = new ArenaOptions { MaxOrder = maxOrder, ArenaBytes = 1 << 20, BackgroundReclaim = false };

        using var arena = new BuddyArena(options);

        Assert.Equal(maxOrder, arena.MaxOrder);
        Assert.Equal(256, arena.GetStats().TotalPages);
        arena.Validate();
    }
}
