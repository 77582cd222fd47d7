using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.PerThread;
using FastBuddy.Policy;

namespace FastBuddy;

// The byte API: sizes in bytes, served as blocks of pages.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- bytes

    /// <summary>
    /// Allocates at least <paramref name="bytes"/> bytes: up to the largest block (2^(MaxOrder-1) pages) as a
    /// power-of-two block of pages; above it as a run of contiguous largest blocks in one zone
    /// (ceil(bytes / largest block) of them), up to <see cref="MaxAllocBytes"/>.
    /// </summary>
    /// <returns>
    /// The block or run, or null when the policy refuses (<see cref="LastError"/> is
    /// <see cref="FastBuddyStatus.NoMemory"/>: a valid size that cannot be served now).
    /// </returns>
    /// <exception cref="FastBuddyException">
    /// <see cref="FastBuddyStatus.InvalidArgument"/>: zero bytes, or more than <see cref="MaxAllocBytes"/> (a size no
    /// zone of the arena could ever hold).
    /// </exception>
    public void* Alloc(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
        => bytes > LargestBlockBytes ? AllocRun(bytes, flags) : AllocPages(OrderForBytes(bytes), flags);

    /// <summary>
    /// Resizes a block from <see cref="Alloc"/>: null allocates, 0 frees and returns null, a smaller size shrinks in
    /// place, a larger one grows in place when the buddies are free and otherwise moves (copying the contents).
    /// Sizes above the largest block are runs (see <see cref="Alloc"/>): a run shrinks in place while the new size
    /// still needs a run; growing into a run, out of one or to a longer one moves.
    /// </summary>
    /// <returns>The block (possibly moved), or null on failure, when the old block is left untouched.</returns>
    /// <exception cref="FastBuddyException">
    /// Unknown flag bits (always, even when nothing needs allocating), a size above <see cref="MaxAllocBytes"/>
    /// (InvalidArgument), or a pointer that is not a live block or run; the old block is left untouched.
    /// </exception>
    public void* Realloc(void* p, nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowUnknownFlags(flags);
        if (p == null)
            return bytes == 0 ? null : Alloc(bytes, flags);
        if (bytes == 0)
        {
            Free(p);
            return null;
        }
        if (bytes > LargestBlockBytes || IsRun(p))
            return ReallocRun(p, bytes, flags);
        int newOrder = OrderForBytes(bytes);
        Zone zone = Locate(p, out int page);
        using InFlight call = Enter();
        int order = ResizeInPlace(zone, page, (nint)p, newOrder, flags, out bool done);
        if (done)
        {
            LastError = FastBuddyStatus.Ok;
            if (newOrder < order)
                Policy.Frees.Signal();
            if (newOrder > order && (flags & AllocFlags.Zero) != 0)
                Platform.ArenaMemory.Zero((byte*)p + ((nint)1 << (_pageShift + order)),
                    ((nuint)1 << (_pageShift + newOrder)) - ((nuint)1 << (_pageShift + order)));
            return p;
        }
        void* moved = AllocPages(newOrder, flags);
        if (moved == null)
            return null;
        Buffer.MemoryCopy(p, moved, (long)1 << (_pageShift + newOrder), (long)1 << (_pageShift + order));
        FreePages(p, order);
        return moved;
    }

    /// <summary>
    /// Claims the block (so that no racing free or cache call sees it half resized), grows or shrinks it in place if
    /// it can, and gives it back tagged for the calling thread. Returns its old order.
    /// </summary>
    private int ResizeInPlace(Zone zone, int page, nint p, int newOrder, AllocFlags flags, out bool done)
    {
        const ulong Resizing = (ulong)(PageFlags.AllocatedHead | PageFlags.BulkMark) << PageDescriptor.FlagsShift;
        int order = zone.Desc[page].Order;
        FastBuddyStatus status = Policy.FreePath.ClaimForFree(zone, page, order, Resizing);
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, p, order);
        lock (zone.Lock)
        {
            done = newOrder <= order || zone.TryGrowInPlace(page, order, newOrder, AllocationPath.ReserveFloor(zone, EffectiveFlags(flags)));
            if (newOrder < order)
                zone.ShrinkInPlace(page, order, newOrder);
            Volatile.Write(ref PageDescriptor.TagOf(ref zone.Desc[page]), PageDescriptor.HeadTag(Policy.OwnerSlot(), done ? newOrder : order));
        }
        return order;
    }

    /// <summary>Frees a block of any order, or a run; <c>Free(null)</c> does nothing.</summary>
    /// <exception cref="FastBuddyException">
    /// Not a live block or run of this arena (NotABlock for a pointer inside a run, DoubleFree for a run freed
    /// before), or a cached page.
    /// </exception>
    public void Free(void* p)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m != null && m->ArenaKey == _key)
        {
            nuint page = BitOperations.RotateRight((nuint)p - (nuint)m->Base, m->PageShift);
            if (page < m->Pages && Magazine.TryPark(m, p, m->Desc[page].Order))
                return;
        }
        FreeChecked(p);
    }

    private void FreeChecked(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return;
        Zone zone = Locate(p, out int page);
        if (zone.IsRunHead(page))
        {
            FreeRun(zone, page, p);
            return;
        }
        Policy.FreePath.Free(zone, page, zone.Desc[page].Order, (nint)p);
    }

    /// <summary>Bytes usable at <paramref name="p"/>: the block's (or the run's) full size. 0 for null.</summary>
    /// <exception cref="FastBuddyException">Not a live block or run of this arena.</exception>
    public nuint UsableSize(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return 0;
        Zone zone = Locate(p, out int page);
        if (zone.IsRunHead(page))
            return RunUsableSize(zone, page, p);
        int order;
        lock (zone.Lock)
            order = CheckedBlockOrder(zone, page, (nint)p);
        return (nuint)1 << (_pageShift + order);
    }

    /// <summary>
    /// Rents a block of at least <paramref name="bytes"/> (at most <see cref="int.MaxValue"/>) as
    /// <see cref="IMemoryOwner{T}"/> whose <c>Memory</c> is exactly <paramref name="bytes"/> long; disposing the owner
    /// frees the block (once; after the arena is disposed it does nothing).
    /// </summary>
    /// <remarks>
    /// When memory is short, Rent goes through the same policy as <see cref="Alloc"/> with
    /// <paramref name="flags"/>: with <see cref="AllocFlags.Kernel"/> it may reclaim clean cache pages, have dirty
    /// ones written back, and wait for kswapd and for frees until <see cref="ArenaOptions.AllocWaitTimeout"/>; with
    /// <see cref="AllocFlags.Atomic"/> it never waits. If the policy still refuses (step 7, after the
    /// out-of-memory handler), Rent cannot return null, so it throws <see cref="InsufficientMemoryException"/>;
    /// <see cref="LastError"/> is then <see cref="FastBuddyStatus.NoMemory"/> and the arena is unchanged. Callers
    /// that prefer a null to an exception use <see cref="Alloc"/> (or <see cref="AllocSpan{T}"/>, which returns an
    /// empty span).
    /// </remarks>
    /// <exception cref="FastBuddyException">
    /// InvalidArgument: zero bytes, more than <see cref="int.MaxValue"/>, or more than <see cref="MaxAllocBytes"/>
    /// (sizes above the largest block are runs, as with <see cref="Alloc"/>).
    /// </exception>
    /// <exception cref="InsufficientMemoryException">The policy refused the allocation.</exception>
    public IMemoryOwner<byte> Rent(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        if (bytes > int.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Rent is limited to {int.MaxValue} bytes; got {bytes}.", nameof(bytes));
        return RentBlock<byte>(bytes, (int)bytes, flags);
    }

    /// <summary>Allocates a block for <paramref name="length"/> elements and wraps it; throws when the policy refuses.</summary>
    private IMemoryOwner<T> RentBlock<T>(nuint bytes, int length, AllocFlags flags) where T : unmanaged
    {
        void* p = Alloc(bytes, flags);
        if (p == null)
            ThrowHelper.ThrowRentRefused(bytes, LastError);
        return new NativeBlockOwner<T>(this, p, length);
    }
}
