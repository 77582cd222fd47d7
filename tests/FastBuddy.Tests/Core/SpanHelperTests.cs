using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// Span views of blocks and the typed helpers (BuddyArena.Spans.cs): they hand out exactly what was asked, free
/// through the validated page path, and refuse bad input without changing the arena.
/// </summary>
public sealed unsafe class SpanHelperTests
{
    private const int Page = 4096;

    private static void* Address<T>(Span<T> span) => Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));

    [Fact]
    public void AsSpan_CoversTheWholeBlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        void* block = arena.Alloc(3 * Page + 1, Mechanism); // above SmallMax (12 KiB here): a block of 4 pages

        Span<byte> span = arena.AsSpan(block);

        Assert.True(Address(span) == block);
        Assert.Equal(4 * Page, span.Length);
        span.Fill(0x5A); // the whole block is writable
        arena.Free(block);
        arena.Validate();
    }

    [Fact]
    public void AsSpan_OfAnObject_CoversItsClassSize()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        void* first = arena.Alloc(1000, Mechanism);
        void* second = arena.Alloc(1000, Mechanism);
        Patterns.FillBytes(second, 1024, 0x11);

        Span<byte> span = arena.AsSpan(first);

        Assert.True(Address(span) == first);
        Assert.Equal(1024, span.Length);
        span.Fill(0x5A); // the whole class size is writable, and the neighbour is untouched
        Patterns.AssertAllBytes(second, 1024, 0x11);
        arena.Free(first);
        arena.Free(second);
        arena.Validate();
    }

    [Fact]
    public void AsSpan_OfNull_IsEmpty()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Assert.True(arena.AsSpan(null).IsEmpty);
    }

    [Fact]
    public void AsSpan_OfAnInteriorForeignOrFreedPointer_IsRefused()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* block = (byte*)arena.AllocPages(2, Mechanism);
        byte* freed = (byte*)arena.AllocPages(0, Mechanism);
        arena.FreePages(freed, 0);
        byte* foreign = (byte*)NativeMemory.Alloc(16);
        try
        {
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.AsSpan(block + Page));
            ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.AsSpan(freed));
            ArenaState.AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.AsSpan(foreign));
        }
        finally
        {
            NativeMemory.Free(foreign);
        }
        arena.FreePages(block, 2);
    }

    [Fact]
    public void AsPageGrid_HasOneRowPerPageOfTheBlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* block = (byte*)arena.AllocPages(3, Mechanism);

        Span2D<byte> grid = arena.AsPageGrid(block);

        Assert.Equal((8, Page), (grid.Height, grid.Width));
        for (int row = 0; row < grid.Height; row++)
            Assert.True(Address(grid.GetRowSpan(row)) == block + row * Page);
        arena.FreePages(block, 3);
        Assert.Equal(FastBuddyStatus.NotOwned, Assert.Throws<FastBuddyException>(() => arena.AsPageGrid(null)).Status);
    }

    [Fact]
    public void AllocSpan_GivesExactlyCountElements_AtTheStartOfAPageAlignedBlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Span<long> values = arena.AllocSpan<long>(2000, Mechanism); // 16000 bytes, above SmallMax: an order-2 block

        Assert.Equal(2000, values.Length);
        Assert.Equal(0, (nint)Address(values) % (4 * Page));
        Assert.Equal((nuint)(4 * Page), arena.UsableSize(Address(values)));
        values.Fill(-1);
        arena.Free(values);
        arena.Validate();
        Assert.Equal(64, arena.GetStats().FreePages);
    }

    [Fact]
    public void AllocSpan_OfASmallCount_GivesExactlyCountElements_OnAnObject_ThatFreeOfTheSpanFrees()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Span<long> values = arena.AllocSpan<long>(100, Mechanism); // 800 bytes: an object of the 832-byte class

        Assert.Equal(100, values.Length);
        Assert.Equal(0, (nint)Address(values) % 16);
        Assert.Equal((nuint)832, arena.UsableSize(Address(values)));
        values.Fill(-1);
        Assert.Equal(1, arena.GetStats().SlabObjects);
        arena.Free(values);
        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Validate();
    }

    [Fact]
    public void FreeOfASpanOverAnObject_ChecksItsStartAndItsSizeClass()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* p = (byte*)arena.Alloc(800, Mechanism); // class 832; the class below is 768
        void* keep = arena.Alloc(800, Mechanism);     // keeps the slab alive once p is freed

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(new Span<byte>(p + 16, 800)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(p, 768)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(p, 833)));
        arena.Free(new Span<byte>(p, 769)); // any size of the class names the object
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(new Span<byte>(p, 800)));
        arena.Free(keep);
        Assert.Equal(0, arena.GetStats().SlabObjects);
        arena.Validate();
    }

    [Fact]
    public void AsPageGrid_OfAnObject_IsNotABlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        void* p = arena.Alloc(2 * Page, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.AsPageGrid(p));
        arena.Free(p);
        arena.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void AllocSpan_OfAZeroOrNegativeCount_IsInvalidArgument(int count)
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocSpan<int>(count));
    }

    [Fact]
    public void AllocSpan_LargerThanTheLargestZone_IsInvalidArgument()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6); // largest block: 32 pages, the zone two of them

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocSpan<long>(64 * Page / 8 + 1));
    }

    [Fact]
    public void AllocSpan_LargerThanTheLargestBlock_IsARun_ThatFreeOfTheSpanGivesBack()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Span<long> span = arena.AllocSpan<long>(32 * Page / 8 + 1, Mechanism);

        Assert.Equal(32 * Page / 8 + 1, span.Length);
        Assert.Equal(0, arena.GetStats().FreePages);
        arena.Free(span);
        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void FreeOfASpanOverARun_WithTheSizeOfAnotherLength_IsOrderMismatch()
    {
        using BuddyArena arena = SingleZone(96, maxOrder: 6);
        Span<byte> span = arena.AllocSpan<byte>(3 * 32 * Page, Mechanism);
        byte* p = (byte*)Unsafe.AsPointer(ref span[0]);

        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(p, 2 * 32 * Page)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(p, Page)));
        arena.Free(span);
        arena.Validate();
    }

    [Fact]
    public void AllocSpan_WhenThePolicyRefuses_IsEmpty_AndLastErrorSaysNoMemory()
    {
        using BuddyArena arena = SingleZone(32, maxOrder: 6);
        void* all = arena.AllocPages(5, Mechanism);

        Span<byte> span = arena.AllocSpan<byte>(1, Mechanism);

        Assert.True(span.IsEmpty);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Free(span); // an empty default span is ignored, like Free(null)
        arena.FreePages(all, 5);
        arena.Validate();
    }

    [Fact]
    public void FreeOfASpan_ChecksLikeFreePages()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* block = (byte*)arena.AllocPages(2, Mechanism);
        var whole = new Span<byte>(block, 4 * Page);

        ArenaState.AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(new Span<byte>(block + Page, Page)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(block, Page)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Free(new Span<byte>(block, 0)));
        arena.Free(whole);
        ArenaState.AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(new Span<byte>(block, 4 * Page)));
        Assert.Equal(64, arena.GetStats().FreePages);
    }

    [Fact]
    public void FreeOfASpan_ThatIsLongerThanTheLargestZone_IsInvalidArgument()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* block = (byte*)arena.AllocPages(5, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Free(new Span<byte>(block, 65 * Page)));
        arena.FreePages(block, 5);
    }

    [Fact]
    public void FreeOfASpan_OfARunSize_OverAPlainBlock_IsOrderMismatch()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        byte* block = (byte*)arena.AllocPages(5, Mechanism);

        ArenaState.AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.Free(new Span<byte>(block, 33 * Page)));
        arena.FreePages(block, 5);
    }

    [Fact]
    public void AllocSpan2D_GivesAContiguousGrid_AndFreeingItReturnsTheBlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        Span2D<int> grid = arena.AllocSpan2D<int>(100, 50, Mechanism); // 20000 bytes: an order-3 block

        Assert.Equal((100, 50), (grid.Height, grid.Width));
        Assert.True(grid.TryGetSpan(out Span<int> cells));
        Assert.Equal(5000, cells.Length);
        grid[99, 49] = 7;
        Assert.Equal(7, cells[^1]);
        Assert.Equal((nuint)(8 * Page), arena.UsableSize(Address(cells)));
        arena.Free(grid);
        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 0)]
    [InlineData(-3, 10)]
    [InlineData(65536, 65536)]
    public void AllocSpan2D_OfABadShape_IsInvalidArgument(int height, int width)
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocSpan2D<byte>(height, width));
    }

    [Fact]
    public void FreeOfASlicedGrid_WithPaddingBetweenRows_IsInvalidArgument()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);
        Span2D<byte> grid = arena.AllocSpan2D<byte>(64, 64, Mechanism);
        byte* cells = (byte*)Address(grid.GetRowSpan(0));

        // the left half of the grid: 64 rows of 32 cells, 32 cells apart (what grid.Slice(0, 0, 64, 32) gives)
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Free(new Span2D<byte>(cells, 64, 32, 32)));
        arena.Free(grid);
        arena.Validate();
    }

    [Fact]
    public void RentOfT_HasExactlyCountElements_AndDisposingFreesTheBlock()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        using (IMemoryOwner<double> owner = arena.Rent<double>(1600, Mechanism)) // 12800 bytes, above SmallMax: order 2
        {
            Assert.Equal(1600, owner.Memory.Length);
            owner.Memory.Span.Fill(1.5);
            Assert.Equal(60, arena.GetStats().FreePages);
        }

        Assert.Equal(64, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void RentOfT_OfAZeroCount_IsInvalidArgument()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 6);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Rent<int>(0));
    }

    [Fact]
    public void Rent_WhenMemoryIsShort_Throws_AndLeavesTheArenaUnchanged()
    {
        using BuddyArena arena = SingleZone(32, maxOrder: 6);
        void* all = arena.AllocPages(5, Mechanism);
        string before = ArenaState.Describe(arena);

        Assert.Throws<InsufficientMemoryException>(() => arena.Rent(100, AllocFlags.Kernel));
        Assert.Throws<InsufficientMemoryException>(() => arena.Rent<int>(100, AllocFlags.Atomic));

        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        string after = ArenaState.Describe(arena);
        Assert.Equal(before.Replace("failures 0", "failures 2"), after);
        arena.FreePages(all, 5);
        arena.Validate();
    }

    [Fact]
    public void SpanHelpers_OnADisposedArena_ThrowObjectDisposed()
    {
        BuddyArena arena = SingleZone(64, maxOrder: 6);
        arena.Dispose();

        Assert.Throws<ObjectDisposedException>(() => arena.AllocSpan<int>(1));
        Assert.Throws<ObjectDisposedException>(() => arena.Free(Span<int>.Empty));
        Assert.Throws<ObjectDisposedException>(() => arena.AsSpan(null));
        Assert.Throws<ObjectDisposedException>(() => arena.Rent<int>(1));
    }
}
