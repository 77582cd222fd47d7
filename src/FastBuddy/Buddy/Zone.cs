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
internal sealed unsafe partial class Zone : IDisposable
{
    private readonly PageDescriptor[] _descriptors;
    private readonly MergeBitmap _bitmap;
    private readonly PageList[] _free;
    private void* _memory;
    private MemoryRegion _region;
    private readonly nuint _bytes;
    private readonly int* _gate;
    private int _gateLimit;
    private bool _gateHeld, _gateClosed;

    public Zone(int index, string name, int pages, int pageShift, int maxOrder, in ZoneMemoryOptions memory)
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
        _region = ArenaMemory.Reserve(bytes, alignment, memory.GuardPages, memory.TransparentHugePages);
        _memory = _region.Base;
        Base = (nint)_memory;

        // All or nothing: metadata that cannot be built (a GC heap limit) gives the reservation back. The gate
        // word, if it was allocated, goes with the finalizer.
        try
        {
            FaultInjection.Hit(FaultPoint.CreationAllocation);
            Commit = new CommitMap(pages, pageShift, memory, _region);
            _gate = (int*)NativeBlocks.AllocZeroed(NativeBlocks.CacheLine);
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
            ArenaMemory.Release(_region);
            _region = default;
            _memory = null;
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

    /// <summary>What of this zone is decommitted (kswapd's decommit step decides; allocations clear it).</summary>
    public CommitMap Commit { get; }

    /// <summary>Pages in the free areas (parked pages are not free). Written under <see cref="Lock"/>.</summary>
    public long FreePages;

    // Watermarks (handed in by the policy at construction; immutable afterwards).
    public long PagesMin;
    public long PagesLow;
    public long PagesHigh;

    // The page cache's LRU lists (Policy/PageCache owns their meaning).
    public PageList Active;
    public PageList InactiveDirty;
    public PageList InactiveClean;

    /// <summary>
    /// The gate word, alone on its cache line: how many orders k (from 0) pass step 1's watermark test
    /// <c>free - (2^k - 1) &gt;= pages_low</c> now, capped at <see cref="GateLimit"/>; 0 while the gate is held.
    /// Recomputed under <see cref="Lock"/> whenever free_pages changes, read without it by the fast paths, so
    /// <c>order &lt; *Gate</c> is the fast path's one test for range, per-thread order and watermark.
    /// </summary>
    public int* Gate => _gate;

    /// <summary>Orders the per-thread layer serves in this zone (the gate never opens past them). Set once.</summary>
    public int GateLimit
    {
        get => _gateLimit;
        set
        {
            lock (Lock)
            {
                _gateLimit = value;
                UpdateGate();
            }
        }
    }

    /// <summary>Shuts the gate while allocations wait for frees (so frees reach the zone and wake them), or opens it. Lock held.</summary>
    public void HoldGate(bool held)
    {
        _gateHeld = held;
        UpdateGate();
    }

    /// <summary>Shuts the gate for good (dispose). Lock held.</summary>
    public void CloseGate()
    {
        _gateClosed = true;
        UpdateGate();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UpdateGate()
    {
        long room = FreePages - PagesLow;
        int open = room < 0 || _gateHeld || _gateClosed ? 0 : Math.Min(BitOperations.Log2((ulong)room + 1) + 1, _gateLimit);
        Volatile.Write(ref *_gate, open);
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
        UpdateGate();
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
    /// The block's head is tagged as an allocated head owned by thread slot <paramref name="owner"/>.
    /// </summary>
    public int RmQueue(int order, long floor, int owner)
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
            PageDescriptor.TagOf(ref Desc[page]) = PageDescriptor.HeadTag(owner, order);
            FreePages -= 1L << order;
            Commit.Taken(page, order);
            UpdateGate();
            return page;
        }
        return -1;
    }

    /// <summary>
    /// A batch in one take: one block of order <paramref name="order"/> + <paramref name="split"/> cut into
    /// 2^split blocks of <paramref name="order"/>, each tagged <paramref name="tag"/> (its order included), their
    /// page indices written to <paramref name="into"/> lowest first. Returns how many (0: no such block, or the
    /// take would leave fewer than <paramref name="floor"/> free pages). The pieces need no bitmap change: none
    /// of them is free.
    /// </summary>
    public int RmQueueSplit(int order, int split, long floor, ulong tag, Span<int> into)
    {
        int head = RmQueue(order + split, floor, 0);
        if (head < 0)
            return 0;
        int count = 1 << split;
        for (int i = 0; i < count; i++)
        {
            int page = head + (i << order);
            PageDescriptor.TagOf(ref Desc[page]) = tag;
            into[i] = page;
        }
        return count;
    }

    /// <summary>
    /// Atomically replaces the tag <paramref name="expected"/> of <paramref name="page"/> with
    /// <paramref name="claimed"/>. Every transition out of the allocated-head state that may race (a free, a cache
    /// call) goes through here or through the owner thread's own plain store, which the per-thread layer's
    /// handshake keeps apart from it; so of two threads racing to free one block exactly one wins.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int page, ulong expected, ulong claimed)
        => Interlocked.CompareExchange(ref PageDescriptor.TagOf(ref Desc[page]), claimed, expected) == expected;

    /// <summary>Why freeing <paramref name="page"/> as <paramref name="order"/> would be wrong, or Ok.</summary>
    public FastBuddyStatus CheckFree(int page, int order)
        => CheckTag(page, order, Volatile.Read(ref PageDescriptor.TagOf(ref Desc[page])));

    /// <summary>
    /// The same from one snapshot of the page's tag, so that a racing change (a free claiming the block) cannot be
    /// seen half: flags from before it and order from after.
    /// </summary>
    public FastBuddyStatus CheckTag(int page, int order, ulong tag)
    {
        var flags = (PageFlags)(ushort)(tag >> PageDescriptor.FlagsShift);
        if ((flags & PageFlags.Slab) != 0)
            return FastBuddyStatus.NotABlock; // a slab's pages are freed object by object, never as a block
        if ((flags & PageFlags.AllocatedHead) != 0)
        {
            if ((flags & (PageFlags.Parked | PageFlags.BulkMark)) != 0)
                return FastBuddyStatus.DoubleFree;
            if ((flags & (PageFlags.Cached | PageFlags.Reclaiming)) != 0)
                return FastBuddyStatus.Busy;
            if ((flags & PageFlags.Run) != 0)
                return FastBuddyStatus.OrderMismatch; // a run is freed whole, never as one block of it
            return (byte)(tag >> PageDescriptor.OrderShift) == order ? FastBuddyStatus.Ok : FastBuddyStatus.OrderMismatch;
        }
        return ClassifyNonHead(page);
    }

    /// <summary>The error path: is <paramref name="page"/> inside an allocated block, or a freed head?</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private FastBuddyStatus ClassifyNonHead(int page)
    {
        if ((Desc[page].Flags & PageFlags.FreeHead) != 0)
            return FastBuddyStatus.DoubleFree;
        if ((Desc[page].Flags & PageFlags.RunMember) != 0)
            return FastBuddyStatus.NotABlock;
        for (int order = 1; order < MaxOrder; order++)
        {
            int head = page & ~((1 << order) - 1);
            ref PageDescriptor h = ref Desc[head];
            if (h.Order >= order && (h.Flags & (PageFlags.AllocatedHead | PageFlags.RunMember)) != 0)
                return FastBuddyStatus.NotABlock;
            if (h.Order >= order && (h.Flags & PageFlags.FreeHead) != 0)
                break;
        }
        // Inside a free block: a page that headed a freed block is a double free; any other is not a block.
        return (Desc[page].Flags & PageFlags.Freed) != 0 ? FastBuddyStatus.DoubleFree : FastBuddyStatus.NotABlock;
    }

    /// <summary>
    /// 2.4's <c>__free_pages_ok</c>: returns a checked (or claimed) block to the free areas, merging with free
    /// buddies. Counting the free is the policy's business.
    /// </summary>
    public void FreeBlock(int page, int order)
    {
        PageDescriptor.TagOf(ref Desc[page]) = (ulong)PageFlags.Freed << PageDescriptor.FlagsShift;
        FreePages += 1L << order;
        Coalesce(page, order);
        UpdateGate();
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
        Commit.Taken(page, newOrder);
        UpdateGate();
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
        UpdateGate();
    }

    /// <summary>Releases the zone's memory. The gate line stays (closed) for the zone object's life: fast paths may still read it.</summary>
    public void Dispose()
    {
        CloseGate();
        if (_memory != null)
        {
            ArenaMemory.Release(_region);
            _region = default;
            _memory = null;
        }
    }

    ~Zone() => NativeBlocks.Free(_gate);
}
