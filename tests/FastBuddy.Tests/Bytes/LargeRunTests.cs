using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Bytes;

/// <summary>
/// Sizes above the largest block: served as a run of contiguous largest blocks in one zone, freed and validated as
/// one allocation; InvalidArgument only above what the largest zone could ever hold.
/// </summary>
public sealed unsafe class LargeRunTests
{
    private const int MaxOrder = 4;          // largest block: 8 pages
    private const int BlockPages = 1 << (MaxOrder - 1);
    private const int ZoneBlocks = 8;
    private const int ZonePages = ZoneBlocks * BlockPages;

    private static BuddyArena NewArena(bool perCpuLists = false) => SingleZone(ZonePages, maxOrder: MaxOrder, perCpuLists: perCpuLists);

    private static nuint Block(BuddyArena arena) => arena.BlockBytes(MaxOrder - 1);

    /// <summary>Writes 0xAB over the whole zone and gives it back, so that Zero has something to clear.</summary>
    private static void DirtyTheWholeZone(BuddyArena arena)
    {
        void* dirty = arena.Alloc(arena.MaxAllocBytes, Mechanism);
        Patterns.FillBytes(dirty, arena.MaxAllocBytes, 0xAB);
        arena.Free(dirty);
    }

    private static long[] AllLargestFree => ZoneProbe.Counts(MaxOrder, (MaxOrder - 1, ZoneBlocks));

    [Fact]
    public void AllocOfTheLargestBlockPlusOneByte_IsARunOfTwoLargestBlocks()
    {
        using BuddyArena arena = NewArena();

        void* p = arena.Alloc(Block(arena) + 1, Mechanism);

        Assert.True(p != null);
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        Assert.Equal(2 * Block(arena), arena.UsableSize(p));
        Assert.Equal(ZonePages - 2 * BlockPages, arena.GetStats().FreePages);
        Patterns.Fill(p, 2 * Block(arena), 7); // every byte of the run is the caller's
        Patterns.AssertIntact(p, 2 * Block(arena), 7);
        arena.Validate();
        arena.Free(p);
        Assert.Equal(ZonePages, arena.GetStats().FreePages);
        Assert.Equal(AllLargestFree, ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void AllocWithASingleOrder_IsARunOfPages()
    {
        using BuddyArena arena = SingleZone(8, maxOrder: 1); // the largest block is one page

        void* p = arena.Alloc(3 * 4096 - 100, Mechanism);

        Assert.True(p != null);
        Assert.Equal((nuint)(3 * 4096), arena.UsableSize(p));
        Assert.Equal(5, arena.GetStats().FreePages);
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free((byte*)p + 4096));
        arena.Free(p);
        Assert.Equal(8, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void AllocAndFreeOfARun_CountOneAllocationAndOneFree()
    {
        using BuddyArena arena = NewArena();
        ArenaStats before = arena.GetStats();

        void* p = arena.Alloc(3 * Block(arena), Mechanism);
        arena.Free(p);

        ArenaStats after = arena.GetStats();
        Assert.Equal(before.Allocations + 1, after.Allocations);
        Assert.Equal(before.Frees + 1, after.Frees);
        arena.Validate();
    }

    [Fact]
    public void AllocOfTheWholeZone_TakesEveryBlock_AndFreeGivesEveryBlockBack()
    {
        using BuddyArena arena = NewArena();
        Assert.Equal((nuint)ZoneBlocks * Block(arena), arena.MaxAllocBytes);

        void* p = arena.Alloc(arena.MaxAllocBytes, Mechanism);

        Assert.True(p != null);
        Assert.Equal(arena.MaxAllocBytes, arena.UsableSize(p));
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Validate();
        arena.Free(p);
        Assert.Equal(AllLargestFree, ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void AllocOfMoreThanTheLargestZoneCanHold_IsInvalidArgument_AndChangesNothing()
    {
        // Zones of 4 and 6 largest blocks plus a 3-page tail: the largest run is 6 blocks.
        using BuddyArena arena = Zoned(4096, MaxOrder, 4 * BlockPages, 6 * BlockPages + 3);
        Assert.Equal(6 * Block(arena), arena.MaxAllocBytes);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Alloc(arena.MaxAllocBytes + 1, Mechanism));
        void* p = arena.Alloc(arena.MaxAllocBytes, Mechanism);
        Assert.True(p != null);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void AllocOfAValidRun_WhenNoContiguousBlocksAreFree_ReturnsNullWithNoMemory_AndChangesNoBlock()
    {
        using BuddyArena arena = NewArena();
        var blocks = new void*[ZoneBlocks];
        for (int i = 0; i < ZoneBlocks; i++)
            blocks[i] = arena.AllocPages(MaxOrder - 1, Mechanism);
        for (int i = 0; i < ZoneBlocks; i += 2)
            arena.FreePages(blocks[i], MaxOrder - 1); // half the zone free, no two free blocks side by side
        long[] freeBefore = ZoneProbe.StatsFreeBlocks(arena);

        void* p = arena.Alloc(2 * Block(arena), Mechanism);

        Assert.True(p == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(freeBefore, ZoneProbe.StatsFreeBlocks(arena));
        Assert.Equal(ZonePages / 2, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void AllocOfARun_BelowTheReserveFloor_IsRefusedToANormalCaller_AndServedToMemAlloc()
    {
        ArenaOptions options = Options(maxOrder: MaxOrder);
        options.Zones.Add(new ZoneOptions("Z", (nuint)ZonePages * 4096) { PagesMin = 16, PagesLow = 16, PagesHigh = 16 });
        using var arena = new BuddyArena(options);

        Assert.True(arena.Alloc(arena.MaxAllocBytes, AllocFlags.Atomic) == null); // would leave 0 < pages_min / 4
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        void* p = arena.Alloc(arena.MaxAllocBytes, AllocFlags.MemAlloc);

        Assert.True(p != null);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void AllocOfARun_WhilePagesSitInTheThreadsMagazine_DrainsThemAndSucceeds()
    {
        using BuddyArena arena = NewArena(perCpuLists: true);
        void* page = arena.AllocPages(0, AllocFlags.Kernel);
        arena.FreePages(page, 0); // parked: a block stays split
        Assert.True(arena.GetStats().PerCpuPages > 0);

        void* p = arena.Alloc(arena.MaxAllocBytes, AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void AllocOfARun_ThatTheHighestZoneCannotHold_FallsBackToALowerZone()
    {
        using BuddyArena arena = Zoned(4096, MaxOrder, 4 * BlockPages, 2 * BlockPages);

        void* p = arena.Alloc(3 * Block(arena), Mechanism);

        Assert.True(p != null);
        Assert.Equal(0, ZoneProbe.ZoneIndexOf(arena, p));
        Assert.Equal(BlockPages, arena.GetStats().Zones[0].FreePages);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void AllocOfARunWithZero_ZeroesTheWholeRun()
    {
        using BuddyArena arena = NewArena();
        DirtyTheWholeZone(arena);

        void* p = arena.Alloc(arena.MaxAllocBytes - 1, Mechanism | AllocFlags.Zero);

        Assert.True(p != null);
        Patterns.AssertAllBytes(p, arena.MaxAllocBytes, 0);
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void ReallocFromAPageBlockIntoARun_AndBack_KeepsTheData()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(4096, Mechanism);
        Patterns.Fill(p, 4096, 11);

        void* run = arena.Realloc(p, 3 * Block(arena), Mechanism);
        Assert.True(run != null);
        Assert.Equal(3 * Block(arena), arena.UsableSize(run));
        Patterns.AssertIntact(run, 4096, 11);
        arena.Validate();

        void* back = arena.Realloc(run, 4096, Mechanism);
        Assert.True(back != null);
        Assert.Equal((nuint)4096, arena.UsableSize(back));
        Patterns.AssertIntact(back, 4096, 11);
        Assert.Equal(ZonePages - 1, arena.GetStats().FreePages);
        arena.Free(back);
        arena.Validate();
    }

    [Fact]
    public void ReallocShrinkingARun_ThatStillNeedsARun_StaysInPlace_AndFreesTheTail()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(5 * Block(arena), Mechanism);
        Patterns.Fill(p, 5 * Block(arena), 12);

        void* shrunk = arena.Realloc(p, 2 * Block(arena), Mechanism);

        Assert.True(shrunk == p);
        Assert.Equal(2 * Block(arena), arena.UsableSize(p));
        Patterns.AssertIntact(p, 2 * Block(arena), 12);
        Assert.Equal(ZonePages - 2 * BlockPages, arena.GetStats().FreePages);
        arena.Validate();
        arena.Free(p);
        Assert.Equal(AllLargestFree, ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void ReallocGrowingARun_WhenTheBlockAfterItIsTaken_MovesToALongerRun_AndKeepsTheData()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(2 * Block(arena), Mechanism);
        void* blocker = arena.Alloc(2 * Block(arena), Mechanism); // the lowest free window: right after the run
        Assert.True((byte*)blocker == (byte*)p + 2 * Block(arena));
        Patterns.Fill(p, 2 * Block(arena), 13);

        void* grown = arena.Realloc(p, 4 * Block(arena), Mechanism);

        Assert.True(grown != null && grown != p);
        Assert.Equal(4 * Block(arena), arena.UsableSize(grown));
        Patterns.AssertIntact(grown, 2 * Block(arena), 13);
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p)); // the old run was freed
        arena.Free(grown);
        arena.Free(blocker);
        arena.Validate();
    }

    [Fact]
    public void ReallocGrowingARun_WhenTheBlocksAfterItAreFree_GrowsInPlace_AndZeroesTheGrowthWithZero()
    {
        using BuddyArena arena = NewArena();
        DirtyTheWholeZone(arena);
        void* p = arena.Alloc(2 * Block(arena), Mechanism);
        Patterns.Fill(p, 2 * Block(arena), 14);

        void* grown = arena.Realloc(p, 5 * Block(arena), Mechanism | AllocFlags.Zero);

        Assert.True(grown == p);
        Assert.Equal(5 * Block(arena), arena.UsableSize(p));
        Patterns.AssertIntact(p, 2 * Block(arena), 14);
        Patterns.AssertAllBytes((byte*)p + 2 * Block(arena), 3 * Block(arena), 0);
        Assert.Equal(ZonePages - 5 * BlockPages, arena.GetStats().FreePages);
        arena.Validate();
        arena.Free(p);
        Assert.Equal(AllLargestFree, ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void FreeOfARunTwice_IsDoubleFree_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(2 * Block(arena), Mechanism);
        arena.Free(p);

        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p));
    }

    [Fact]
    public void FreeOfAPointerInsideARun_IsNotABlock_AndKeepsTheRun()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(3 * Block(arena), Mechanism);
        byte* bytes = (byte*)p;

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(bytes + Block(arena)));     // a member block's head
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(bytes + 2 * Block(arena) + 4096)); // inside a member
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(bytes + 4096));              // inside the first block
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.UsableSize(bytes + Block(arena)));
        Assert.Equal(3 * Block(arena), arena.UsableSize(p));
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void FreePagesOfARun_AsOneBlock_IsRefusedWithThePageLayersStatuses()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(2 * Block(arena), Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.FreePages(p, MaxOrder - 1));
        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages((byte*)p + Block(arena), MaxOrder - 1));
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void RentOfARun_HasExactlyTheBytes_AndDisposeFreesTheRun()
    {
        using BuddyArena arena = NewArena();
        int bytes = (int)(3 * Block(arena)) - 5;

        System.Buffers.IMemoryOwner<byte> owner = arena.Rent((nuint)bytes, Mechanism);
        Assert.Equal(bytes, owner.Memory.Length);
        owner.Memory.Span.Fill(0x3C);
        Assert.Equal(ZonePages - 3 * BlockPages, arena.GetStats().FreePages);
        owner.Dispose();

        Assert.Equal(ZonePages, arena.GetStats().FreePages);
        arena.Validate();
    }
}
