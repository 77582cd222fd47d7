using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;
using FastBuddy.Buddy;

namespace FastBuddy;

// Spans: blocks seen as Span<T>, Span2D<T> and typed IMemoryOwner<T>, for callers that would rather not hold
// pointers. Each helper validates as the pointer API does and then calls it; nothing here is on the hot path.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- views of blocks

    /// <summary>The whole live block at <paramref name="block"/> (its <see cref="UsableSize"/>) as bytes; empty for null.</summary>
    /// <exception cref="FastBuddyException">
    /// Not a live block of this arena (NotOwned, NotABlock, DoubleFree), or a block larger than
    /// <see cref="int.MaxValue"/> bytes (InvalidArgument).
    /// </exception>
    public Span<byte> AsSpan(void* block)
    {
        nuint size = UsableSize(block);
        if (size > int.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"The block at 0x{(nint)block:x} has {size} bytes; a span holds at most {int.MaxValue}.", nameof(block));
        return new Span<byte>(block, (int)size);
    }

    /// <summary>
    /// The whole live block at <paramref name="block"/> as a grid of its pages: one row per page, each
    /// <see cref="PageSize"/> bytes wide (row <c>i</c> is page <c>i</c> of the block).
    /// </summary>
    /// <exception cref="FastBuddyException">As <see cref="AsSpan(void*)"/>; null is NotOwned, an object (not a block of pages) NotABlock.</exception>
    public Span2D<byte> AsPageGrid(void* block)
    {
        if (block == null)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotOwned, 0, 0);
        Zone zone = LocateAny(block, out int page);
        if (IsSlabPage(zone, page))
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotABlock, (nint)block, 0); // an object has no pages of its own
        nuint size = UsableSize(block);
        return new Span2D<byte>(block, (int)(size >> _pageShift), PageSize, 0);
    }

    // ---------------------------------------------------------------- typed allocation

    /// <summary>
    /// Allocates room for <paramref name="count"/> values of <typeparamref name="T"/> (as <see cref="Alloc"/>: an
    /// object of a slab class up to <see cref="SmallMax"/> bytes, a power-of-two block of pages above, and a run
    /// above the largest block) and returns exactly <paramref name="count"/> elements of it.
    /// </summary>
    /// <returns>The span; empty when the policy refuses (see <see cref="LastError"/>).</returns>
    /// <exception cref="FastBuddyException">
    /// <paramref name="count"/> is zero or negative, or the values need more than <see cref="MaxAllocBytes"/> (InvalidArgument).
    /// </exception>
    public Span<T> AllocSpan<T>(int count, AllocFlags flags = AllocFlags.Kernel) where T : unmanaged
    {
        void* p = Alloc(ElementBytes<T>(count, nameof(count)), flags);
        return p == null ? default : new Span<T>(p, count);
    }

    /// <summary>
    /// Allocates a <paramref name="height"/> x <paramref name="width"/> grid of <typeparamref name="T"/> (rows
    /// contiguous, no padding) in one block.
    /// </summary>
    /// <returns>The grid; empty when the policy refuses (see <see cref="LastError"/>).</returns>
    /// <exception cref="FastBuddyException">A dimension is zero or negative, or the grid needs more than <see cref="MaxAllocBytes"/>.</exception>
    public Span2D<T> AllocSpan2D<T>(int height, int width, AllocFlags flags = AllocFlags.Kernel) where T : unmanaged
    {
        if (height <= 0 || width <= 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"A grid needs at least one row and one column; got {height} x {width}.", height <= 0 ? nameof(height) : nameof(width));
        long cells = (long)height * width;
        if (cells > int.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"A grid of {height} x {width} has more than {int.MaxValue} cells.", nameof(width));
        void* p = Alloc(ElementBytes<T>((int)cells, nameof(width)), flags);
        return p == null ? default : new Span2D<T>(p, height, width, 0);
    }

    /// <summary>
    /// Rents room for <paramref name="count"/> values of <typeparamref name="T"/> as <see cref="IMemoryOwner{T}"/>
    /// whose <c>Memory</c> is exactly <paramref name="count"/> long; disposing it frees the block. When memory is
    /// short it behaves as <see cref="Rent"/>: the policy runs with <paramref name="flags"/>, then it throws.
    /// </summary>
    /// <exception cref="FastBuddyException"><paramref name="count"/> is zero or negative, or needs more than <see cref="MaxAllocBytes"/>.</exception>
    /// <exception cref="InsufficientMemoryException">The policy refused the allocation.</exception>
    public IMemoryOwner<T> Rent<T>(int count, AllocFlags flags = AllocFlags.Kernel) where T : unmanaged
        => RentBlock<T>(ElementBytes<T>(count, nameof(count)), count, flags);

    // ---------------------------------------------------------------- frees

    /// <summary>
    /// Frees the memory a span from <see cref="AllocSpan{T}"/> (or <see cref="AsSpan(void*)"/>) covers: the span
    /// must start at the object, block or run, and its size in bytes must round up to the object's size class, the
    /// block's order or the run's length, so the same checks as <see cref="Free(void*)"/> and
    /// <see cref="FreePages"/> apply. An empty span from a failed allocation (<c>default</c>) does nothing.
    /// </summary>
    /// <exception cref="FastBuddyException">
    /// NotOwned, NotABlock (not the block's start), DoubleFree, OrderMismatch (a span of another size class), Busy,
    /// or InvalidArgument (an empty span that points somewhere); the arena is unchanged.
    /// </exception>
    public void Free<T>(Span<T> span) where T : unmanaged
    {
        ThrowIfDisposed();
        void* p = Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
        if (span.IsEmpty)
        {
            if (p != null)
                ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                    $"An empty span at 0x{(nint)p:x} names no block (only an empty default span is ignored).", nameof(span));
            return;
        }
        nuint bytes = (nuint)span.Length * (nuint)sizeof(T);
        Zone zone = LocateAny(p, out int page);
        if (!IsSlabPage(zone, page))
        {
            if (bytes > LargestBlockBytes)
                FreeRunSpan(p, bytes);
            else
                FreePages(p, OrderForBytes(bytes));
            return;
        }
        nuint size = UsableSize(p);
        if (bytes > (nuint)SmallMax || (nuint)Policy.Slabs!.For(bytes).Size != size)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.OrderMismatch,
                $"The span at 0x{(nint)p:x} is {bytes} bytes, but the object there is of the {size}-byte class.", nameof(span));
        Free(p);
    }

    /// <summary>Frees the block of a grid from <see cref="AllocSpan2D{T}"/>; the same rules as <see cref="Free{T}(Span{T})"/>.</summary>
    /// <exception cref="FastBuddyException">As <see cref="Free{T}(Span{T})"/>; a sliced grid with row padding is InvalidArgument.</exception>
    public void Free<T>(Span2D<T> grid) where T : unmanaged
    {
        if (grid.IsEmpty)
        {
            Free(Span<T>.Empty);
            return;
        }
        if (!grid.TryGetSpan(out Span<T> cells))
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                "The grid has padding between its rows (a slice of a grid): free the grid that AllocSpan2D returned.", nameof(grid));
        Free(cells);
    }

    /// <summary>Bytes of <paramref name="count"/> values of <typeparamref name="T"/>; throws when the count is not positive.</summary>
    private static nuint ElementBytes<T>(int count, string paramName) where T : unmanaged
    {
        if (count <= 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"The count must be at least 1; got {count}.", paramName);
        return (nuint)count * (nuint)sizeof(T);
    }
}
