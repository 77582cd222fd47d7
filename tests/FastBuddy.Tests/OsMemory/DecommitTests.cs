using FastBuddy.Buddy;
using FastBuddy.Tests.PolicySupport;
using FastBuddy.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.OsMemory;

/// <summary>
/// kswapd's decommit step: free blocks of the decommit orders that stayed free for DecommitAfter go back to the
/// operating system at the next pass (Balance here), stay allocatable, read as zero afterwards, and are counted
/// as decommitted until an allocation takes them.
/// </summary>
public sealed unsafe class DecommitTests
{
    private const long Top = 4 << 20; // a top-order block: 1024 pages of 4 KiB

    private static BuddyArena Decommitting(long pages, TimeSpan? after, int? minOrder = null, ILogger? logger = null)
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("Normal", pages));
        options.DecommitAfter = after;
        options.DecommitMinOrder = minOrder;
        options.Logger = logger;
        return new BuddyArena(options);
    }

    /// <summary>Allocates every top-order block and writes to each page, so all of the arena is committed.</summary>
    private static List<nint> TouchEveryTopBlock(BuddyArena arena)
    {
        var blocks = new List<nint>();
        void* p;
        while ((p = arena.AllocPages(10, Mechanism)) != null)
        {
            for (long offset = 0; offset < Top; offset += 4096)
                ((byte*)p)[offset] = 0xA5;
            blocks.Add((nint)p);
        }
        return blocks;
    }

    private static void FreeAll(BuddyArena arena, List<nint> blocks, int order)
    {
        foreach (nint b in blocks)
            arena.FreePages((void*)b, order);
    }

    [Fact]
    public void DecommitOff_Balance_GivesNothingBack()
    {
        using BuddyArena arena = Decommitting(4 << 10, after: null);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);

        arena.Balance();

        ArenaStats stats = arena.GetStats();
        Assert.Equal(4 * Top, stats.CommittedBytes);
        Assert.Equal(0, stats.DecommittedBytes);
        Assert.Equal(0, stats.Decommits);
        arena.Validate();
    }

    [Fact]
    public void DecommitAfterZero_Balance_DecommitsEveryFreeTopOrderBlock()
    {
        using BuddyArena arena = Decommitting(4 << 10, TimeSpan.Zero);
        List<nint> blocks = TouchEveryTopBlock(arena);
        Assert.Equal(4 * Top, arena.GetStats().CommittedBytes);
        arena.FreePages((void*)blocks[0], 10);
        arena.FreePages((void*)blocks[1], 10);

        arena.Balance();

        ArenaStats stats = arena.GetStats();
        Assert.Equal(2 * Top, stats.CommittedBytes);   // the two still allocated
        Assert.Equal(2 * Top, stats.DecommittedBytes);
        Assert.Equal(2, stats.Decommits);
        Assert.Equal(stats.Decommits, stats.Zones[0].Decommits);
        Assert.Equal(stats.DecommittedBytes, stats.Zones[0].DecommittedBytes);
        FreeAll(arena, blocks.Skip(2).ToList(), 10);
        arena.Validate();
    }

    [Fact]
    public void DecommittedBlock_IsAllocatedAgain_ReadsZero_AndIsCommittedAgain()
    {
        using BuddyArena arena = Decommitting(1 << 10, TimeSpan.Zero);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);
        arena.Balance();
        Assert.Equal(Top, arena.GetStats().DecommittedBytes);

        byte* p = (byte*)arena.AllocPages(10, Mechanism);

        Assert.True(p != null);
        Assert.Equal(0, arena.GetStats().DecommittedBytes);
        for (long offset = 0; offset < Top; offset += 4096)
            Assert.Equal(0, p[offset]); // was 0xA5: the pages were really given back and faulted in fresh
        Patterns.Fill(p, (nuint)Top, 7);
        Patterns.AssertIntact(p, (nuint)Top, 7);
        arena.FreePages(p, 10);
        arena.Validate();
    }

    [Fact]
    public void PartOfADecommittedBlock_CommitsOnlyTheUnitItCameFrom()
    {
        using BuddyArena arena = Decommitting(2 << 10, TimeSpan.Zero);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);
        arena.Balance();

        void* page = arena.AllocPages(0, Mechanism);

        ArenaStats stats = arena.GetStats();
        Assert.Equal(Top, stats.CommittedBytes);
        Assert.Equal(Top, stats.DecommittedBytes);
        arena.FreePages(page, 0);
        arena.Validate();
    }

    [Fact]
    public void BlockFreeForLessThanDecommitAfter_StaysCommitted()
    {
        using BuddyArena arena = Decommitting(2 << 10, TimeSpan.FromHours(1));
        FreeAll(arena, TouchEveryTopBlock(arena), 10);

        arena.Balance();
        arena.Balance();

        Assert.Equal(0, arena.GetStats().Decommits);
        Assert.Equal(2 * Top, arena.GetStats().CommittedBytes);
        arena.Validate();
    }

    [Fact]
    public void BlockFreeForDecommitAfter_IsDecommittedByAPassAfterThat()
    {
        TimeSpan after = TimeSpan.FromMilliseconds(50);
        using BuddyArena arena = Decommitting(1 << 10, after);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);
        arena.Balance(); // sees the block free: its age starts here
        Assert.Equal(0, arena.GetStats().Decommits);

        Thread.Sleep(after * 2);
        arena.Balance();

        Assert.Equal(1, arena.GetStats().Decommits);
        arena.Validate();
    }

    [Fact]
    public void AnAllocationInBetween_StartsTheFreeAgeAgain()
    {
        TimeSpan after = TimeSpan.FromMilliseconds(50);
        using BuddyArena arena = Decommitting(1 << 10, after);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);
        arena.Balance();
        Thread.Sleep(after * 2);
        void* p = arena.AllocPages(3, Mechanism); // taken and given back: free for no time at all
        arena.FreePages(p, 3);

        arena.Balance();

        Assert.Equal(0, arena.GetStats().Decommits);
        Assert.Equal(Top, arena.GetStats().CommittedBytes);
        arena.Validate();
    }

    [Fact]
    public void DecommitMinOrder_GivesBackSmallerFreeBlocksOfAFragmentedArena()
    {
        using BuddyArena top = Decommitting(1 << 10, TimeSpan.Zero);
        using BuddyArena low = Decommitting(1 << 10, TimeSpan.Zero, minOrder: 4);
        foreach (BuddyArena arena in new[] { top, low })
        {
            FreeAll(arena, TouchEveryTopBlock(arena), 10);
            void* pinned = arena.AllocPages(0, Mechanism); // splits the block: free blocks of orders 0..9 remain
            arena.Balance();
            Assert.True(pinned != null);
        }

        Assert.Equal(0, top.GetStats().Decommits);
        // Orders 4..9 decommitted: 1024 - 16 pages; the order-0..3 remainder of the pinned unit is committed.
        Assert.Equal(6, low.GetStats().Decommits);
        Assert.Equal((1024 - 16) * 4096L, low.GetStats().DecommittedBytes);
        Assert.Equal(16 * 4096L, low.GetStats().CommittedBytes);
        top.Validate();
        low.Validate();
    }

    [Fact]
    public void AllocatedBlocks_AreNeverDecommitted()
    {
        using BuddyArena arena = Decommitting(1 << 10, TimeSpan.Zero, minOrder: 0);
        var random = new Random(11);
        var live = new List<(nint P, int Order, ulong Seed)>();
        for (int step = 0; step < 600; step++)
        {
            if (live.Count > 0 && random.Next(3) == 0)
            {
                int i = random.Next(live.Count);
                (nint p, int order, ulong seed) = live[i];
                Patterns.AssertIntact((void*)p, arena.BlockBytes(order), seed);
                arena.FreePages((void*)p, order);
                live.RemoveAt(i);
            }
            else
            {
                int order = random.Next(6);
                void* p = arena.AllocPages(order, Mechanism);
                if (p != null)
                {
                    ulong seed = Patterns.Seed(0, step);
                    Patterns.Fill(p, arena.BlockBytes(order), seed);
                    live.Add(((nint)p, order, seed));
                }
            }
            if (step % 7 == 0)
                arena.Balance();
        }
        foreach ((nint p, int order, ulong seed) in live)
        {
            Patterns.AssertIntact((void*)p, arena.BlockBytes(order), seed);
            Assert.False(CommitOf(arena).IsDecommitted(PageOf(arena, p), order));
        }
        Assert.True(arena.GetStats().Decommits > 0);
        arena.Validate();
    }

    [Fact]
    public void Decommit_LogsOneEventPerZoneAndPass_WithTheBytesGivenBack()
    {
        var logger = new TestLogger();
        using BuddyArena arena = Decommitting(2 << 10, TimeSpan.Zero, logger: logger);
        FreeAll(arena, TouchEveryTopBlock(arena), 10);

        arena.Balance();
        arena.Balance(); // nothing new to give back: no second event

        LogEntry entry = Assert.Single(logger.Entries, e => e.EventId.Name == "Decommitted");
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains("2 free blocks", entry.Message);
        Assert.Contains($"{2 * Top} bytes", entry.Message);
        Assert.Contains("Normal", entry.Message);
        arena.Validate();
    }

    [Fact]
    public void BackgroundReclaim_DecommitsAnArenaThatNothingWakes()
    {
        ArenaOptions options = Options();
        options.BackgroundReclaim = true;
        options.DecommitAfter = TimeSpan.Zero;
        options.Zones.Add(TinyWatermarkZone("Normal", 1 << 10));
        using var arena = new BuddyArena(options);
        byte* p = (byte*)arena.AllocPages(10, Mechanism); // the only block: no shortage, no failure, no wake-up
        p[0] = 1;
        arena.FreePages(p, 10);

        // The thread passes once a second; allow several.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (arena.GetStats().Decommits == 0 && DateTime.UtcNow < deadline)
            Thread.Sleep(50);

        Assert.Equal(1, arena.GetStats().Decommits);
        arena.Validate();
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(null, -1)]
    [InlineData(null, 11)]
    public void BadDecommitOptions_AreRefused(int? afterMs, int? minOrder)
    {
        ArenaOptions options = Options();
        options.ArenaBytes = 1 << 20;
        options.DecommitAfter = afterMs is int ms ? TimeSpan.FromMilliseconds(ms) : null;
        options.DecommitMinOrder = minOrder;

        var e = Assert.Throws<FastBuddyException>(() => new BuddyArena(options));
        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
    }

    [Fact]
    public void Validate_ReportsAnAllocatedBlockInADecommittedUnit()
    {
        using BuddyArena arena = Decommitting(1 << 10, TimeSpan.Zero);
        void* p = arena.AllocPages(10, Mechanism);
        Zone zone = arena.Zones[0];
        lock (zone.Lock)
            Assert.True(zone.Commit.Decommit(p, 0, 10)); // what the decommit step must never do

        var e = Assert.Throws<FastBuddyException>(() => arena.Validate());

        Assert.Equal(FastBuddyStatus.Corrupt, e.Status);
        Assert.Contains("decommitted unit", e.Message);
    }

    private static CommitMap CommitOf(BuddyArena arena) => arena.Zones[0].Commit;

    private static int PageOf(BuddyArena arena, nint p) => (int)((p - arena.Zones[0].Base) >> arena.PageShift);
}
