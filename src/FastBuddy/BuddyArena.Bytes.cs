using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.PerThread;
using FastBuddy.Policy;
using FastBuddy.Slab;

namespace FastBuddy;

// The byte API: sizes in bytes, served as objects from slab caches (small) or as blocks of pages.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- bytes

    /// <summary>The largest request served as an object from a slab cache; larger ones are blocks of pages (0: no slabs).</summary>
    public int SmallMax => Policy.Slabs?.SmallMax ?? 0;

    /// <summary>
    /// Allocates at least <paramref name="bytes"/> bytes: up to <see cref="SmallMax"/> (32 KiB at the defaults) an
    /// object from the slab cache of its size class, above that up to the largest block (2^(MaxOrder-1) pages) a
    /// power-of-two block of pages, and above the largest block a run of ceil(bytes / largest block) contiguous
    /// largest blocks in one zone, up to <see cref="MaxAllocBytes"/>.
    /// </summary>
    /// <returns>
    /// The memory, or null when the policy refuses (<see cref="LastError"/> is <see cref="FastBuddyStatus.NoMemory"/>:
    /// a valid size that cannot be served now).
    /// </returns>
    /// <remarks>
    /// The object fast path is step 1 of the slab allocation path: one thread-static read, the size class, and
    /// the lowest free object of the current slab's cursor word (plain stores: the thread owns the slab). Objects
    /// are 16-byte aligned, except in the classes that are odd multiples of 8 (8, 24, ..., 120 bytes), which are
    /// 8-aligned; blocks are aligned to their size.
    /// </remarks>
    /// <exception cref="FastBuddyException">
    /// <see cref="FastBuddyStatus.InvalidArgument"/>: zero bytes, or more than <see cref="MaxAllocBytes"/> (a size no
    /// zone of the arena could ever hold).
    /// </exception>
    public void* Alloc(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m != null)
        {
            void* p = TryAllocObject(m, bytes, flags);
            if (p != null)
                return p;
        }
        return AllocChecked(bytes, flags);
    }

    /// <summary>The object fast path on magazine <paramref name="m"/> (this thread's, of some arena): null when it misses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void* TryAllocObject(Magazine* m, nuint bytes, AllocFlags flags)
        => bytes - 1 < SizeClasses.MaxSmall && m->ArenaKey == _key && (flags & ~AllocFlagsExtensions.Fast) == 0
            ? Magazine.TryPopObject(m, SizeClasses.Of(bytes))
            : null;

    /// <summary>Everything but the object fast path (also a <see cref="ThreadHandle"/>'s miss).</summary>
    internal void* AllocChecked(nuint bytes, AllocFlags flags)
    {
        if (bytes > LargestBlockBytes)
            return AllocRun(bytes, flags);
        if (bytes - 1 >= (nuint)SmallMax)
            return AllocPages(OrderForBytes(bytes), flags);
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowUnknownFlags(flags);
        using InFlight call = Enter();
        byte* p = Policy.Objects!.Allocate(bytes, flags);
        if (p == null)
            return null;
        LastError = FastBuddyStatus.Ok;
        if ((flags & AllocFlags.Zero) != 0)
            Platform.ArenaMemory.Zero(p, (nuint)Policy.Slabs!.For(bytes).Size);
        return p;
    }

    /// <summary>
    /// Resizes memory from <see cref="Alloc"/>: null allocates, 0 frees and returns null. An object stays in place
    /// while the size keeps its class and moves otherwise (into another class or a block of pages); a block shrinks
    /// in place (or moves into an object when the size becomes small), grows in place when its buddies are free,
    /// and otherwise moves. Sizes above the largest block are runs (see <see cref="Alloc"/>): a run shrinks in place
    /// while the new size still needs a run; growing into a run, out of one or to a longer one moves. A move copies
    /// the contents.
    /// </summary>
    /// <returns>The memory (possibly moved), or null on failure, when the old memory is left untouched.</returns>
    /// <exception cref="FastBuddyException">
    /// Unknown flag bits (always, even when nothing needs allocating), a size above <see cref="MaxAllocBytes"/>
    /// (InvalidArgument), or a pointer that is not live memory of this arena; the old memory is left untouched.
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
        using InFlight call = Enter();
        Zone zone = LocateAny(p, out int page);
        if (IsSlabPage(zone, page))
            return ReallocObject(zone, page, p, bytes, flags);
        zone = Locate(p, out page);
        if (bytes <= (nuint)SmallMax)
            return Move(p, UsableSize(p), bytes, flags);
        int newOrder = OrderForBytes(bytes);
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

    /// <summary>Realloc of an object: in place while the class stays, else a move.</summary>
    private void* ReallocObject(Zone zone, int page, void* p, nuint bytes, AllocFlags flags)
    {
        nuint size = ObjectSize(zone, page, p);
        if (bytes <= (nuint)SmallMax && Policy.Slabs!.For(bytes).Size == (int)size)
        {
            LastError = FastBuddyStatus.Ok;
            return p;
        }
        return Move(p, size, bytes, flags);
    }

    /// <summary>A new allocation of <paramref name="bytes"/>, the old contents copied (as much as fits), the old memory freed.</summary>
    private void* Move(void* p, nuint oldBytes, nuint bytes, AllocFlags flags)
    {
        void* moved = Alloc(bytes, flags);
        if (moved == null)
            return null;
        // As much as fits in the new object or block (its usable size, not only the size asked for), as an
        // in-place shrink keeps it.
        nuint room = UsableSize(moved);
        nuint keep = Math.Min(oldBytes, room);
        Buffer.MemoryCopy(p, moved, (long)room, (long)keep);
        if ((flags & AllocFlags.Zero) != 0 && room > oldBytes)
            Platform.ArenaMemory.Zero((byte*)moved + oldBytes, room - oldBytes);
        Free(p);
        return moved;
    }

    /// <summary>The class size of the live object at <paramref name="p"/>; throws when it is not one.</summary>
    private nuint ObjectSize(Zone zone, int page, void* p)
    {
        SlabHeader* s = Policy.ObjectFrees!.Find(zone, page, (nint)p, out int index);
        if (!SlabFreePath.InUse(s, index))
            ThrowHelper.ThrowFreeRejected(index < 0 ? FastBuddyStatus.NotABlock : FastBuddyStatus.DoubleFree, (nint)p, 0);
        return s->Size;
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

    /// <summary>Frees an object, a block of any order or a run; <c>Free(null)</c> does nothing.</summary>
    /// <exception cref="FastBuddyException">
    /// Not live memory of this arena: NotOwned, NotABlock (interior or misaligned, or inside a run), DoubleFree, or
    /// Busy (a cached page); the arena is unchanged.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m == null || !TryFreeFast(m, p))
            FreeChecked(p);
    }

    /// <summary>
    /// The free fast path on magazine <paramref name="m"/> (this thread's, of some arena): the recent slab, then the
    /// page's descriptor (an object of an owned slab, or a block to park), all in one window. False changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryFreeFast(Magazine* m, void* p) => m->ArenaKey == _key && Magazine.TryFree(m, p);

    /// <summary>Everything but the free fast path (also a <see cref="ThreadHandle"/>'s miss).</summary>
    internal void FreeChecked(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return;
        Zone zone = LocateAny(p, out int page);
        if (IsSlabPage(zone, page))
        {
            using InFlight call = Enter();
            Policy.ObjectFrees!.Free(zone, page, (nint)p);
            return;
        }
        zone = Locate(p, out page);
        if (zone.IsRunHead(page))
        {
            FreeRun(zone, page, p);
            return;
        }
        Policy.FreePath.Free(zone, page, zone.Desc[page].Order, (nint)p);
    }

    /// <summary>Bytes usable at <paramref name="p"/>: an object's class size, or a block's (or run's) full size. 0 for null.</summary>
    /// <exception cref="FastBuddyException">Not live memory of this arena.</exception>
    public nuint UsableSize(void* p)
    {
        ThrowIfDisposed();
        if (p == null)
            return 0;
        Zone zone = LocateAny(p, out int page);
        if (IsSlabPage(zone, page))
        {
            using InFlight call = Enter();
            return ObjectSize(zone, page, p);
        }
        zone = Locate(p, out page);
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
