using System.Buffers;
using System.Runtime.InteropServices;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>The byte API over the buddy system: Alloc, Free, UsableSize, Owns, Rent and LastError.</summary>
public sealed unsafe class ByteApiTests
{
    private const int Page = 4096;

    [Fact]
    public void FreeOfNull_DoesNothing()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        void* live = arena.AllocPages(1, Mechanism);
        string before = ArenaState.Describe(arena);

        arena.Free(null);

        Assert.Equal(before, ArenaState.Describe(arena));
        arena.FreePages(live, 1);
        arena.Validate();
    }

    [Theory]
    [InlineData(3 * Page + 1, 4 * Page)]
    [InlineData(4 * Page, 4 * Page)]
    [InlineData(5 * Page - 7, 8 * Page)]
    [InlineData(32 * Page, 32 * Page)]
    public void AllocAboveSmallMax_GivesTheSmallestPowerOfTwoBlockOfPagesHoldingThem(int bytes, int usable)
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        Assert.True((nuint)bytes > (nuint)arena.SmallMax); // 12 KiB with 4 KiB pages and 6 orders

        void* p = arena.Alloc((nuint)bytes, Mechanism);

        Assert.True(p != null);
        Assert.Equal((nuint)usable, arena.UsableSize(p));
        Assert.Equal((nuint)0, (nuint)p % (nuint)usable);
        Assert.Equal(64 - usable / Page, arena.GetStats().FreePages);
        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Free(p);
        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(100, 104)]
    [InlineData(Page, Page)]
    [InlineData(Page + 1, Page + Page / 8)]
    [InlineData(3 * Page, 3 * Page)]
    public void AllocUpToSmallMax_GivesAnObjectOfItsSizeClass_FromASlabsPages(int bytes, int usable)
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        void* p = arena.Alloc((nuint)bytes, Mechanism);

        Assert.True(p != null);
        Assert.Equal((nuint)usable, arena.UsableSize(p));
        ArenaStats stats = arena.GetStats();
        SlabClassStats cls = Assert.Single(stats.SlabClasses, c => c.ObjectSize == usable);
        Assert.Equal((1, 1), (cls.ObjectsInUse, cls.Slabs));
        Assert.Equal((1L, (long)usable), (stats.SlabObjects, stats.SlabObjectBytes));
        Assert.Equal(64 - cls.PagesPerSlab, stats.FreePages); // the slab's pages are taken from the arena
        arena.Free(p);
        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Validate(); // the empty slab stays a spare or goes back; either way its pages are not lost
        ArenaStats after = arena.GetStats();
        Assert.Equal(64, after.FreePages + after.SlabPages);
    }

    [Fact]
    public void UsableSizeOfNull_IsZero()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Assert.Equal((nuint)0, arena.UsableSize(null));
        arena.Validate();
    }

    [Fact]
    public void UsableSizeOfABlockFromAllocPages_IsItsWholeSize()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        for (int order = 0; order < 5; order++)
        {
            void* p = arena.AllocPages(order, Mechanism);
            Assert.Equal(arena.BlockBytes(order), arena.UsableSize(p));
            arena.FreePages(p, order);
        }
        arena.Validate();
    }

    [Fact]
    public void BlocksFromAlloc_CanBeFreedWithFreePagesOfTheirOrder_AndViceVersa()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        void* bytes = arena.Alloc(4 * Page, Mechanism); // above SmallMax (12 KiB here): an order-2 block
        void* pages = arena.AllocPages(3, Mechanism);
        arena.FreePages(bytes, 2);
        arena.Free(pages);

        Assert.Equal(64, arena.GetStats().FreePages);
        Assert.Equal(ZoneProbe.Counts(6, (5, 2)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    [Fact]
    public void Owns_IsTrueForEveryByteOfEveryZone_LiveOrFree()
    {
        using BuddyArena arena = Zoned(Page, 6, 16, 7);
        byte* live = (byte*)arena.AllocPages(1, Mechanism);

        foreach (var zone in arena.Zones)
        {
            byte* first = (byte*)zone.Base;
            byte* last = (byte*)zone.End - 1;
            Assert.True(arena.Owns(first));
            Assert.True(arena.Owns(first + Page / 2));
            Assert.True(arena.Owns(last));
        }
        Assert.True(arena.Owns(live + 1));
        Assert.True(arena.Owns(live + 2 * Page - 1));
        arena.FreePages(live, 1);
        arena.Validate();
    }

    [Fact]
    public void Owns_IsFalseOutsideEveryZone()
    {
        using BuddyArena arena = SingleZone(16, maxOrder: 4);
        using BuddyArena other = SingleZone(16, maxOrder: 4);
        void* foreign = NativeMemory.Alloc(64);
        try
        {
            Assert.False(arena.Owns(null));
            Assert.False(arena.Owns(foreign));
            Assert.False(arena.Owns((void*)arena.Zones[0].End));
            Assert.False(arena.Owns((byte*)arena.Zones[0].Base - 1));
            Assert.False(arena.Owns((void*)other.Zones[0].Base));
        }
        finally
        {
            NativeMemory.Free(foreign);
        }
        arena.Validate();
    }

    [Fact]
    public void Rent_GivesWritableMemoryOfTheRequestedLength_InsideTheArena()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        using (IMemoryOwner<byte> rented = arena.Rent(14_000, Mechanism)) // above SmallMax: a block of 4 pages
        {
            Assert.Equal(14_000, rented.Memory.Length);
            rented.Memory.Span.Fill(0x5A);
            using MemoryHandle pin = rented.Memory.Pin();
            Assert.True(arena.Owns(pin.Pointer));
            Assert.True(arena.Owns((byte*)pin.Pointer + 13_999));
            Assert.Equal((nuint)(4 * Page), arena.UsableSize(pin.Pointer));
            Patterns.AssertAllBytes(pin.Pointer, 14_000, 0x5A);
            Assert.Equal(60, arena.GetStats().FreePages);
        }

        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void Rent_OfASmallSize_GivesExactlyThatLength_OnAnObjectOfItsClass()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        using (IMemoryOwner<byte> rented = arena.Rent(1000, Mechanism))
        {
            Assert.Equal(1000, rented.Memory.Length);
            rented.Memory.Span.Fill(0xA5);
            using MemoryHandle pin = rented.Memory.Pin();
            Assert.Equal((nuint)1024, arena.UsableSize(pin.Pointer));
            Patterns.AssertAllBytes(pin.Pointer, 1000, 0xA5);
            Assert.Equal(1, arena.GetStats().SlabObjects);
        }

        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Validate();
    }

    [Fact]
    public void RentedBlock_DisposedTwice_IsFreedOnlyOnce()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        IMemoryOwner<byte> rented = arena.Rent((nuint)arena.SmallMax + 1, Mechanism);
        long frees = arena.GetStats().Frees;

        rented.Dispose();
        rented.Dispose();

        Assert.Equal(frees + 1, arena.GetStats().Frees);
        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void RentedObject_DisposedTwice_IsFreedOnlyOnce_EvenWhenItsAddressWasReused()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        IMemoryOwner<byte> rented = arena.Rent(100, Mechanism);
        void* first;
        using (MemoryHandle pin = rented.Memory.Pin())
            first = pin.Pointer;

        rented.Dispose();
        Assert.Equal(0, arena.GetStats().SlabObjects);
        void* reused = arena.Alloc(100, Mechanism); // the lowest free object of the slab: the same address
        Assert.True(reused == first);
        rented.Dispose();

        Assert.Equal(1, arena.GetStats().SlabObjects);
        Assert.Equal((nuint)104, arena.UsableSize(reused));
        arena.Free(reused);
        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Validate();
    }

    [Fact]
    public void Rent_WhenTheArenaCannotServeIt_ThrowsInsufficientMemory_AndChangesNothing()
    {
        using BuddyArena arena = SingleZone(4, maxOrder: 6);
        void* live = arena.AllocPages(2, Mechanism);
        long[] blocks = ZoneProbe.StatsFreeBlocks(arena);

        Assert.Throws<InsufficientMemoryException>(() => arena.Rent(100, Mechanism));

        Assert.Equal(0, arena.GetStats().FreePages);
        Assert.Equal(blocks, ZoneProbe.StatsFreeBlocks(arena));
        arena.FreePages(live, 2);
        arena.Validate();
    }

    [Fact]
    public void FailedAllocation_SetsLastErrorToNoMemory_AndASuccessResetsItToOk()
    {
        using BuddyArena arena = SingleZone(4, maxOrder: 6);

        Assert.True(arena.AllocPages(3, Mechanism) == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);

        void* p = arena.AllocPages(2, Mechanism);
        Assert.True(p != null);
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.FreePages(p, 2);
        arena.Validate();
    }

    [Fact]
    public void LastError_IsPerThread()
    {
        using BuddyArena arena = SingleZone(4, maxOrder: 6);
        Assert.True(arena.AllocPages(3, Mechanism) == null);
        FastBuddyStatus seenElsewhere = FastBuddyStatus.Corrupt;

        var thread = new Thread(() => seenElsewhere = BuddyArena.LastError);
        thread.Start();
        thread.Join();

        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal(FastBuddyStatus.Ok, seenElsewhere);
        arena.Validate();
    }
}
