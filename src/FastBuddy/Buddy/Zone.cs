using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Diagnostics;
using FastBuddy.Platform;

namespace FastBuddy.Buddy;

/// <summary>
/// One zone: a contiguous, aligned region of the arena with its own free areas, merge bitmaps, page-cache lists,
/// counters, watermarks and lock.
/// </summary>
/// <remarks>
/// This is the mechanism of the 2.4 buddy system and nothing of its policy. Free blocks of order k sit on
/// <c>_free[k]</c>, an intrusive list through their head descriptors; <see cref="MergeBitmap"/> pairs them.
/// <see cref="RmQueue"/> takes the smallest sufficient block and splits the rest down into the lower free areas;
/// <see cref="FreeBlock"/> toggles the pair bit at each order and merges while the buddy is free, up to
/// MaxOrder-1. A zone whose size is not a multiple of the largest block starts with its tail as smaller blocks;
/// a buddy that reaches past the end is never free, so it never merges. Every member that reads or writes state
/// requires <see cref="Lock"/> to be held, except the immutable geometry.
/// </remarks>
internal sealed unsafe class Zone : IDisposable
{
    private readonly PageDescriptor[] _descriptors;
    private readonly MergeBitmap _bitmap;
    private readonly PageList[] _free;
    private void* _memory;
    private readonly nuint _bytes;

    public Zone(int index, string name, int pages, int pageShift, int maxOrder)
    {
        Index = index;
        Name = name;
        Pages = pages;
        PageShift = pageShift;
        MaxOrder = maxOrder;

        nuint bytes = (nuint)pages << pageShift;
        _bytes = bytes;
        nuint largest = (nuint)1 << (pageShift + maxOrder - 1);
        // Aligned to the largest block that can exist in this zone, so every block is aligned to its own size.
        nuint alignment = Math.Min(largest, BitOperations.RoundUpToPowerOf2(bytes));
        _memory = ArenaMemory.Reserve(bytes, alignment);
        Base = (nint)_memory;

        // All or nothing: metadata that cannot be built (a GC heap limit) gives the reservation back.
        try
        {
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            _descriptors = GC.AllocateArray<PageDescriptor>(pages, pinned: true);
            Desc = (PageDescriptor*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_descriptors));
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            _bitmap = new MergeBitmap(pages, maxOrder);
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            _free = new PageList[maxOrder];
        }
        catch
        {
            Dispose();
            throw;
        }
        _free.AsSpan().Fill(PageList.Empty);
        Active = PageList.Empty;
        InactiveDirty = PageList.Empty;
        InactiveClean = PageList.Empty;
        SeedFreeAreas();
    }

    public readonly Lock Lock = new();
    public int Index { get; }
    public string Name { get; }
    public int Pages { get; }
    public int PageShift { get; }
    public int MaxOrder { get; }
    public nint Base { get; }
    public nint End => Base + ((nint)Pages << PageShift);
    public PageDescriptor* Desc { get; }

    // Counters, all under Lock (summed across zones on read, so the fast path writes no shared atomic).
    public long FreePages;
    public long Frees;
    public long Pressure;
    public long Reclaimed;
    public long Laundered;

    /// <summary>Allocations served by this zone, per <see cref="Policy.AllocationStep"/> (index = step).</summary>
    public readonly long[] Steps = new long[Policy.AllocationStepInfo.Count];

    /// <summary>Orders below this have per-CPU lists in this zone (set once by the arena).</summary>
    public int PerCpuOrders;

    // Watermarks (immutable after construction).
    public long PagesMin;
    public long PagesLow;
    public long PagesHigh;

    // The page cache's LRU lists (Policy/PageCache owns their meaning).
    public PageList Active;
    public PageList InactiveDirty;
    public PageList InactiveClean;

    /// <summary>Counts an allocation served by <paramref name="step"/>: memory_pressure goes up by one. Lock held.</summary>
    public void CountServed(Policy.AllocationStep step)
    {
        Steps[(int)step]++;
        Pressure++;
    }

    /// <summary>Bytes of metadata: descriptors plus bitmaps.</summary>
    public long MetadataBytes => (long)Pages * sizeof(PageDescriptor) + _bitmap.Bytes;

    public long FreeBlocks(int order) => _free[order].Count;
    public int FreeListHead(int order) => _free[order].Head;
    public bool BitmapBit(int page, int order) => _bitmap.Test(page, order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Address(int page) => (byte*)_memory + ((nint)page << PageShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(nint p) => (nuint)(p - Base) < _bytes;

    /// <summary>Puts the whole zone into the free areas: max-order blocks, then the tail as smaller blocks.</summary>
    private void SeedFreeAreas()
    {
        int page = 0;
        for (int order = MaxOrder - 1; order >= 0; order--)
        {
            int size = 1 << order;
            while (Pages - page >= size)
            {
                AddFree(page, order);
                page += size;
            }
        }
        FreePages = Pages;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddFree(int page, int order)
    {
        ref PageDescriptor d = ref Desc[page];
        d.Flags = (d.Flags & PageFlags.Freed) | PageFlags.FreeHead;
        d.Order = (byte)order;
        _free[order].PushHead(Desc, page);
        if (order < MaxOrder - 1)
            _bitmap.Toggle(page, order);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TakeFree(int page, int order)
    {
        _free[order].Remove(Desc, page);
        Desc[page].Flags &= ~PageFlags.FreeHead;
        if (order < MaxOrder - 1)
            _bitmap.Toggle(page, order);
    }

    /// <summary>
    /// 2.4's <c>rmqueue</c>: takes the smallest free block of at least <paramref name="order"/>, splits the
    /// surplus down into the lower free areas, and returns the page index of a block of exactly that order,
    /// or -1. Refuses when the take would leave fewer than <paramref name="floor"/> free pages (the reserve).
    /// </summary>
    public int RmQueue(int order, long floor)
    {
        if (FreePages - (1L << order) < floor)
            return -1;
        for (int current = order; current < MaxOrder; current++)
        {
            int page = _free[current].Head;
            if (page == PageList.Nil)
                continue;
            TakeFree(page, current);
            // expand(): hand the upper halves back, largest first.
            while (current > order)
            {
                current--;
                AddFree(page + (1 << current), current);
            }
            ref PageDescriptor d = ref Desc[page];
            d.Flags = PageFlags.AllocatedHead;
            d.Order = (byte)order;
            d.Age = 0;
            d.Owner = 0;
            FreePages -= 1L << order;
            return page;
        }
        return -1;
    }

    /// <summary>
    /// Atomically moves a plain allocated head (flags exactly <see cref="PageFlags.AllocatedHead"/>) to
    /// <paramref name="claimed"/>. Every transition out of that state by a free or a cache call goes through here,
    /// so of two threads racing to free (or cache) one block exactly one wins; the other sees the new state and is
    /// refused. Needs no lock: the per-CPU free path uses it lock-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int page, PageFlags claimed)
    {
        ref ushort flags = ref Unsafe.As<PageFlags, ushort>(ref Desc[page].Flags);
        return Interlocked.CompareExchange(ref flags, (ushort)claimed, (ushort)PageFlags.AllocatedHead) == (ushort)PageFlags.AllocatedHead;
    }

    /// <summary>Why freeing <paramref name="page"/> as <paramref name="order"/> would be wrong, or Ok.</summary>
    public FastBuddyStatus CheckFree(int page, int order)
    {
        ref PageDescriptor d = ref Desc[page];
        if ((d.Flags & PageFlags.AllocatedHead) != 0)
        {
            if ((d.Flags & PageFlags.PerCpu) != 0)
                return FastBuddyStatus.DoubleFree;
            if ((d.Flags & (PageFlags.Cached | PageFlags.Reclaiming)) != 0)
                return FastBuddyStatus.Busy;
            return d.Order == order ? FastBuddyStatus.Ok : FastBuddyStatus.OrderMismatch;
        }
        return ClassifyNonHead(page);
    }

    /// <summary>The error path: is <paramref name="page"/> inside an allocated block, or a freed head?</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private FastBuddyStatus ClassifyNonHead(int page)
    {
        if ((Desc[page].Flags & PageFlags.FreeHead) != 0)
            return FastBuddyStatus.DoubleFree;
        for (int order = 1; order < MaxOrder; order++)
        {
            int head = page & ~((1 << order) - 1);
            ref PageDescriptor h = ref Desc[head];
            if (h.Order >= order && (h.Flags & PageFlags.AllocatedHead) != 0)
                return FastBuddyStatus.NotABlock;
            if (h.Order >= order && (h.Flags & PageFlags.FreeHead) != 0)
                break;
        }
        // Inside a free block: a page that headed a freed block is a double free; any other is not a block.
        return (Desc[page].Flags & PageFlags.Freed) != 0 ? FastBuddyStatus.DoubleFree : FastBuddyStatus.NotABlock;
    }

    /// <summary>
    /// 2.4's <c>__free_pages_ok</c>: returns a checked block to the free areas, merging with free buddies.
    /// </summary>
    public void FreeBlock(int page, int order)
    {
        Frees++;
        Pressure--; // raw: MemoryPressure applies the floor at 0 on read
        ReleaseBlock(page, order);
    }

    /// <summary>Returns a block to the free areas without counting a free (per-CPU drains: counted when parked).</summary>
    public void ReleaseBlock(int page, int order)
    {
        Desc[page].Flags = PageFlags.Freed;
        FreePages += 1L << order;
        Coalesce(page, order);
    }

    private void Coalesce(int page, int order)
    {
        while (order < MaxOrder - 1)
        {
            // Toggle first: 1 means the buddy is busy (it was 0: neither free), 0 means it is free: merge.
            if (_bitmap.Toggle(page, order))
                break;
            int buddy = page ^ (1 << order);
            _free[order].Remove(Desc, buddy);
            Desc[buddy].Flags &= ~PageFlags.FreeHead;
            page &= ~(1 << order);
            order++;
        }
        ref PageDescriptor d = ref Desc[page];
        d.Flags = (d.Flags & PageFlags.Freed) | PageFlags.FreeHead;
        d.Order = (byte)order;
        _free[order].PushHead(Desc, page);
    }

    /// <summary>
    /// Grows an allocated block in place to <paramref name="newOrder"/> when every upper buddy on the way is a
    /// whole free block and the growth leaves at least <paramref name="floor"/> free pages. Returns false (and
    /// changes nothing) otherwise.
    /// </summary>
    public bool TryGrowInPlace(int page, int order, int newOrder, long floor)
    {
        if ((page & ((1 << newOrder) - 1)) != 0 || FreePages - ((1L << newOrder) - (1L << order)) < floor)
            return false;
        for (int o = order; o < newOrder; o++)
        {
            ref PageDescriptor b = ref Desc[page + (1 << o)];
            if (page + (1 << o) >= Pages || (b.Flags & PageFlags.FreeHead) == 0 || b.Order != o)
                return false;
        }
        for (int o = order; o < newOrder; o++)
            TakeFree(page + (1 << o), o);
        long grown = (1L << newOrder) - (1L << order);
        FreePages -= grown;
        Desc[page].Order = (byte)newOrder;
        return true;
    }

    /// <summary>Shrinks an allocated block in place, freeing its upper halves.</summary>
    public void ShrinkInPlace(int page, int order, int newOrder)
    {
        Desc[page].Order = (byte)newOrder;
        for (int o = order - 1; o >= newOrder; o--)
        {
            FreePages += 1L << o;
            Coalesce(page + (1 << o), o);
        }
    }

    public void Dispose()
    {
        if (_memory != null)
        {
            ArenaMemory.Release(_memory);
            _memory = null;
        }
    }
}
