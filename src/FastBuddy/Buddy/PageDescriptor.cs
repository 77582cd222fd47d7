using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Buddy;

/// <summary>
/// One page's out-of-band metadata: 16 bytes in a pinned array, never inside user memory.
/// </summary>
/// <remarks>
/// <see cref="Next"/>/<see cref="Prev"/> thread the page onto exactly one intrusive list at a time: a free area's
/// list while it heads a free block, or one of the zone's LRU lists while it is a cached page. Links are 32-bit
/// page indices within the zone.
/// <para>
/// The second half of the descriptor, <see cref="Owner"/>, <see cref="Flags"/>, <see cref="Order"/> and
/// <see cref="Age"/>, is one aligned 8-byte word, the <em>tag</em> (<see cref="TagOf"/>), so that a free checks
/// "allocated head, this order, this owner" with one load and compare and parks the block with one store. For a
/// cached page <see cref="Owner"/> indexes the arena's page-owner table (no object references, so the array can
/// be pinned); for any other allocated head it is the slot of the thread whose magazine may free it without an
/// atomic (0: no thread's, every free takes the claiming path).
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct PageDescriptor
{
    public int Next;
    public int Prev;
    public int Owner;
    public PageFlags Flags;
    public byte Order;
    public byte Age;

    /// <summary>Bit position of <see cref="Flags"/> in the tag.</summary>
    public const int FlagsShift = 32;

    /// <summary>Bit position of <see cref="Order"/> in the tag.</summary>
    public const int OrderShift = 48;

    /// <summary>The tag of an allocated head of <paramref name="order"/> owned by thread slot <paramref name="owner"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong HeadTag(int owner, int order)
        => (uint)owner | (ulong)PageFlags.AllocatedHead << FlagsShift | (ulong)(uint)order << OrderShift;

    /// <summary>The same block parked in its owner's magazine.</summary>
    public const ulong ParkedBit = (ulong)PageFlags.Parked << FlagsShift;

    /// <summary>The tag word of a descriptor: owner, flags, order and age as one 8-byte value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref ulong TagOf(ref PageDescriptor d) => ref Unsafe.As<int, ulong>(ref d.Owner);

    /// <summary>The tag bit of <see cref="PageFlags.Slab"/>.</summary>
    public const ulong SlabBit = (ulong)PageFlags.Slab << FlagsShift;

    /// <summary>The owner slot of a tag.</summary>
    public static int OwnerOf(ulong tag) => (int)(uint)tag;

    /// <summary>The tag with its owner slot replaced.</summary>
    public static ulong WithOwner(ulong tag, int owner) => (tag & ~0xFFFF_FFFFUL) | (uint)owner;
}

/// <summary>State bits of a <see cref="PageDescriptor"/>.</summary>
[Flags]
internal enum PageFlags : ushort
{
    None = 0,
    /// <summary>Head of a block on a free area's list; <see cref="PageDescriptor.Order"/> is its order.</summary>
    FreeHead = 1 << 0,
    /// <summary>Head of a block handed out; <see cref="PageDescriptor.Order"/> is its order.</summary>
    AllocatedHead = 1 << 1,
    /// <summary>Was the head of a block that was freed; kept until the page is handed out again (double-free detection).</summary>
    Freed = 1 << 2,
    /// <summary>In the page cache (an allocated order-0 head on one of the LRU lists, or being laundered/evicted).</summary>
    Cached = 1 << 3,
    /// <summary>Needs Writeback before it can be reclaimed.</summary>
    Dirty = 1 << 4,
    /// <summary>Touched since the last scan.</summary>
    Referenced = 1 << 5,
    /// <summary>On the zone's active list.</summary>
    OnActive = 1 << 6,
    /// <summary>On the zone's inactive_dirty list.</summary>
    OnInactiveDirty = 1 << 7,
    /// <summary>On the zone's inactive_clean list.</summary>
    OnInactiveClean = 1 << 8,
    /// <summary>A Writeback is running for the page (it stays on inactive_dirty meanwhile).</summary>
    Laundering = 1 << 9,
    /// <summary>Chosen for eviction: off every list, its owner's Evict runs; CacheRemove returns false.</summary>
    Reclaiming = 1 << 10,
    /// <summary>Parked in a thread's magazine: allocated as far as the buddy system knows, free for the arena's users.</summary>
    Parked = 1 << 11,
    /// <summary>Seen earlier in the same bulk free (duplicate detection; never set outside that call).</summary>
    BulkMark = 1 << 12,
    /// <summary>
    /// A page of a slab (every page of it; the head is also an allocated head of the slab's order):
    /// <see cref="PageDescriptor.Next"/> holds the slab's id. Never freed as a block: its objects are freed one by one.
    /// </summary>
    Slab = 1 << 13,
    /// <summary>
    /// Head of a run: an allocated head of order MaxOrder-1 followed by more blocks of that order, handed out as
    /// one allocation; <see cref="PageDescriptor.Next"/> (unused while allocated) holds the run's length in blocks.
    /// </summary>
    Run = 1 << 14,
    /// <summary>Head of a max-order block of a run other than its first: part of the run, not a block of its own.</summary>
    RunMember = 1 << 15,
    /// <summary>The page-cache state bits, cleared together when a page leaves the cache.</summary>
    CacheState = Cached | Dirty | Referenced | OnActive | OnInactiveDirty | OnInactiveClean | Laundering | Reclaiming,
    /// <summary>Any list bit.</summary>
    OnAnyList = OnActive | OnInactiveDirty | OnInactiveClean,
}
