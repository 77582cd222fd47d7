using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Buddy;
using FastBuddy.Slab;

namespace FastBuddy.PerThread;

/// <summary>
/// One thread's magazine for one arena: a block of unmanaged memory holding a small stack of parked blocks per
/// (zone, order), the owner's slot tag, the handshake words and the thread's last error. Its layout is shared
/// with C (<c>fb_magazine</c> in fastbuddy.h, checked by <see cref="LayoutVersion"/>), so the header's inline
/// path and the C# fast path run the same protocol on the same bytes.
/// </summary>
/// <remarks>
/// <para>
/// The first cache line is everything the fast paths read for the arena's fast zone (the highest zone, the first
/// of the default zonelist): the arena key, the in-use and drain words, the owner tag, that zone's base,
/// descriptors, gate and size, and the freed counter. The second holds the arena's slab table. Then comes the
/// object part: the thread's current slab per size class (the object fast paths read one entry) and the head of
/// its list of other owned slabs per class, then one 64-byte reuse line per class (<see cref="Reuse"/>: the
/// current slab's objects this thread freed last, which the next allocations take first). The page lists follow,
/// the fast zone's first, one <see cref="MagazineList"/> per order; then one <see cref="MagazineTally"/> per zone;
/// then the slots (page indices), each list owning a contiguous run of them.
/// </para>
/// <para>
/// Only the owner thread pops and parks, with plain loads and stores, inside <see cref="InUse"/>; another thread
/// touches the lists only after the handshake of <see cref="ThreadMagazines"/> (raise
/// <see cref="DrainRequested"/>, one process-wide barrier, wait for <see cref="InUse"/> to drop). Counters are
/// plain and owner-written: blocks served are derived (refilled + freed − spilled − parked), so the allocation
/// side writes no counter at all.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = HeaderBytes)]
internal unsafe struct Magazine
{
    /// <summary>Bumped whenever a field below moves; C hosts compiled against another layout are refused.</summary>
    public const int LayoutVersion = 4;

    public const int HeaderBytes = 128;

    /// <summary>A magazine of no arena (key 0, never freed): what a <see cref="ThreadHandle"/> holds when the arena has no magazines, so that its fast paths always miss.</summary>
    public static readonly Magazine* Detached = (Magazine*)NativeMemory.AllocZeroed(HeaderBytes);

    /// <summary>Objects a class's reuse line holds: its first word is the count, the other seven the objects.</summary>
    public const int ReuseDepth = 7;

    /// <summary>The object part: a current slab pointer and an owned-list head per size class, then a reuse line (64 bytes) per class.</summary>
    public const int ObjectBytes = ReuseStart - HeaderBytes + SizeClasses.Count * 64;

    /// <summary>Identifies the arena (its C handle, or a key of its own for C#-only arenas); 0 once it is gone.</summary>
    [FieldOffset(0)] public ulong ArenaKey;
    [FieldOffset(8)] public int InUse;
    [FieldOffset(12)] public int DrainRequested;
    /// <summary>The owner's slot with the allocated-head flag: the tag of a block this thread may free, less its order.</summary>
    [FieldOffset(16)] public ulong HeadTag;
    [FieldOffset(24)] public byte* Base;
    [FieldOffset(32)] public PageDescriptor* Desc;
    [FieldOffset(40)] public int* Gate;
    /// <summary>Pages of the fast zone: the free path's range check (0 once the arena is disposed).</summary>
    [FieldOffset(48)] public uint Pages;
    [FieldOffset(52)] public byte PageShift;
    [FieldOffset(53)] public byte LastError;
    /// <summary>Set by a C host's thread-exit destructor: the owner is gone, the next sweep may retire it.</summary>
    [FieldOffset(54)] public byte Exited;
    /// <summary>List heads per zone (the arena's MaxOrder).</summary>
    [FieldOffset(55)] public byte Orders;
    /// <summary>Blocks the fast zone's frees parked here.</summary>
    [FieldOffset(56)] public long Freed;
    /// <summary>The arena's slab headers (slab id i at <c>Slabs + i</c>); null when the arena has no slab layer.</summary>
    [FieldOffset(64)] public SlabHeader* Slabs;
    /// <summary>
    /// The slab of the owner's last object free through the slab table (never null while attached:
    /// <see cref="SlabHeader.Nowhere"/> otherwise). A free tries it first, which skips the descriptor and table
    /// loads; its owner is checked on every use, so a slab that has since changed hands is simply a miss.
    /// </summary>
    [FieldOffset(72)] public SlabHeader* Recent;

    /// <summary>The thread's current slab of each size class (null: none; the object fast paths miss).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SlabHeader** Current(Magazine* m) => (SlabHeader**)((byte*)m + HeaderBytes);

    /// <summary>The head (slab id, 0: empty) of the thread's list of other owned slabs of each class.</summary>
    public static int* Owned(Magazine* m) => (int*)((byte*)m + HeaderBytes + SizeClasses.Count * 8);

    /// <summary>The owner's magazine slot: the owner of its slabs and of the blocks it may free without an atomic.</summary>
    public static int Slot(Magazine* m) => PageDescriptor.OwnerOf(m->HeadTag);

    /// <summary>
    /// The reuse line of class <paramref name="cls"/> (one cache line): word 0 the count n (0 to
    /// <see cref="ReuseDepth"/>), words 1..n objects of the current slab that this thread freed last, the latest at
    /// n. They are free in the slab's bitmap like any free object; the line only says which to hand out next.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nuint* Reuse(Magazine* m, int cls) => (nuint*)((byte*)m + ReuseStart) + (cls << 3);

    /// <summary>Where the reuse lines start (a multiple of 64 from the magazine's start).</summary>
    public const int ReuseStart = HeaderBytes + SizeClasses.Count * (8 + 4);

    /// <summary>
    /// Empties the reuse line of <paramref name="cls"/>: the objects stay free in their bitmap. Whoever takes from the
    /// current slab's bitmap other than the fast pop, or changes the current slab, does this first, so that the line
    /// never names an object that is handed out.
    /// </summary>
    public static void ClearReuse(Magazine* m, int cls) => Reuse(m, cls)[0] = 0;

    /// <summary>
    /// Whether the reuse line of <paramref name="cls"/> is sound: at most <see cref="ReuseDepth"/> distinct objects,
    /// each a free object of the current slab (none when there is no current slab). For Validate, inside the window.
    /// </summary>
    public static bool ReuseIntact(Magazine* m, int cls)
    {
        nuint* line = Reuse(m, cls);
        nuint n = line[0];
        SlabHeader* s = Current(m)[cls];
        if (n > ReuseDepth || (n != 0 && s == null))
            return false;
        for (nuint i = 1; i <= n; i++)
        {
            int index = SlabHeader.IndexOf(s, line[i] - (nuint)s->Base);
            if (index < 0 || (s->Free[index >> 6] & 1UL << index) == 0)
                return false;
            for (nuint j = 1; j < i; j++)
            {
                if (line[j] == line[i])
                    return false;
            }
        }
        return true;
    }

    /// <summary>The fast zone's list of <paramref name="order"/> (the first lists after the header).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MagazineList* FastList(Magazine* m, int order) => (MagazineList*)((byte*)m + HeaderBytes + ObjectBytes) + order;

    /// <summary>The list of zone slot <paramref name="zi"/> (0 = fast zone) and <paramref name="order"/>.</summary>
    public static MagazineList* List(Magazine* m, int zi, int order) => FastList(m, zi * m->Orders + order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint* Slots(Magazine* m) => (uint*)m;

    /// <summary>
    /// The fast path's pop: a parked block of <paramref name="order"/> of the fast zone, tagged for this owner,
    /// or null (gate shut for that order, a drain asked for, or the list empty).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* TryPop(Magazine* m, int order)
    {
        Volatile.Write(ref m->InUse, 1);
        void* block = null;
        if (Volatile.Read(ref m->DrainRequested) == 0 && (uint)order < (uint)*m->Gate)
        {
            MagazineList* list = FastList(m, order);
            int n = list->Count - 1;
            if (n >= 0)
            {
                list->Count = (ushort)n;
                uint page = Slots(m)[list->Offset + (uint)n];
                PageDescriptor.TagOf(ref m->Desc[page]) = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
                m->LastError = 0;
                block = m->Base + ((nint)page << m->PageShift);
            }
        }
        Volatile.Write(ref m->InUse, 0);
        return block;
    }

    /// <summary>
    /// The fast path's park: when <paramref name="block"/> is an allocated head of <paramref name="order"/> in the
    /// fast zone owned by this thread, its gate is open for that order and its list has room, parks it (one tag
    /// compare, plain stores). False changes nothing: the caller takes the checked path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryPark(Magazine* m, void* block, int order)
    {
        // One compare for range and alignment: a misaligned offset rotates its low bits to the top.
        nuint page = BitOperations.RotateRight((nuint)block - (nuint)m->Base, m->PageShift);
        if (page >= m->Pages)
            return false;
        Volatile.Write(ref m->InUse, 1);
        bool parked = Volatile.Read(ref m->DrainRequested) == 0 && ParkOwned(m, page, order);
        Volatile.Write(ref m->InUse, 0);
        return parked;
    }

    /// <summary>
    /// Inside the window, no drain asked for: parks page <paramref name="page"/> of the fast zone when it is an
    /// allocated head of <paramref name="order"/> that this thread owns, the gate admits that order and its list
    /// has room. False changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ParkOwned(Magazine* m, nuint page, int order)
    {
        if ((uint)order >= (uint)*m->Gate)
            return false;
        ulong want = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
        ref ulong tag = ref PageDescriptor.TagOf(ref m->Desc[page]);
        MagazineList* list = FastList(m, order);
        int n = list->Count;
        if (tag != want || n >= list->Cap)
            return false;
        Slots(m)[list->Offset + (uint)n] = (uint)page;
        list->Count = (ushort)(n + 1);
        tag = want | PageDescriptor.ParkedBit;
        m->Freed++;
        return true;
    }

    /// <summary>
    /// The bulk paths' window: opens it, and says whether the fast zone's order-0 list (<paramref name="list"/>) may
    /// be used now (no drain asked for, the gate admits order 0). The caller closes the window either way.
    /// </summary>
    private static bool OpenOrderZero(Magazine* m, out MagazineList* list)
    {
        Volatile.Write(ref m->InUse, 1);
        list = FastList(m, 0);
        return Volatile.Read(ref m->DrainRequested) == 0 && *m->Gate > 0;
    }

    /// <summary>
    /// The bulk allocation's fast path: fills <paramref name="into"/> with parked order-0 pages of the fast zone,
    /// latest first, tagged for this owner, when the list holds that many and the gate admits order 0; otherwise
    /// changes nothing (false) and the caller takes the checked path.
    /// </summary>
    public static bool TryPopMany(Magazine* m, Span<nint> into)
    {
        bool popped = false;
        if (OpenOrderZero(m, out MagazineList* list) && list->Count >= into.Length)
        {
            int count = list->Count;
            uint* top = Slots(m) + list->Offset + count - 1;
            ulong tag = m->HeadTag;
            for (int i = 0; i < into.Length; i++)
            {
                uint page = top[-i];
                PageDescriptor.TagOf(ref m->Desc[page]) = tag;
                into[i] = (nint)(m->Base + ((nint)page << m->PageShift));
            }
            list->Count = (ushort)(count - into.Length);
            m->LastError = 0;
            popped = true;
        }
        Volatile.Write(ref m->InUse, 0);
        return popped;
    }

    /// <summary>
    /// The bulk free's fast path: parks every page of <paramref name="pages"/> when each is an allocated order-0
    /// head of the fast zone that this thread owns (one tag compare each, as <see cref="TryPark"/>), the gate admits
    /// order 0 and the list has room for all. Otherwise it changes nothing (false: the tags it had set are put
    /// back) and the caller takes the checked path, which frees all or nothing and reports the first bad entry.
    /// A page listed twice fails its second compare, since the first one parked it.
    /// </summary>
    public static bool TryParkMany(Magazine* m, ReadOnlySpan<nint> pages)
    {
        bool parked = false;
        if (OpenOrderZero(m, out MagazineList* list) && pages.Length <= list->Cap - list->Count)
        {
            int count = list->Count;
            ulong want = m->HeadTag;
            uint* slots = Slots(m) + list->Offset + count;
            int i = 0;
            for (; i < pages.Length; i++)
            {
                nuint page = BitOperations.RotateRight((nuint)pages[i] - (nuint)m->Base, m->PageShift);
                if (page >= m->Pages)
                    break;
                ref ulong tag = ref PageDescriptor.TagOf(ref m->Desc[page]);
                if (tag != want)
                    break;
                tag = want | PageDescriptor.ParkedBit;
                slots[i] = (uint)page;
            }
            if (i == pages.Length)
            {
                list->Count = (ushort)(count + i);
                m->Freed += i;
                parked = true;
            }
            else
            {
                for (int j = 0; j < i; j++)
                    PageDescriptor.TagOf(ref m->Desc[slots[j]]) = want;
            }
        }
        Volatile.Write(ref m->InUse, 0);
        return parked;
    }

    /// <summary>
    /// The object fast path's pop: the lowest free object of the current slab's cursor word for class
    /// <paramref name="cls"/>, or null (no current slab, that word empty, or a drain asked for). Plain stores only:
    /// the thread owns the slab.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* TryPopObject(Magazine* m, int cls)
    {
        Volatile.Write(ref m->InUse, 1);
        void* p = null;
        // The current slab is read only after the drain word: a drain that released it has lowered the word last.
        SlabHeader* s = Volatile.Read(ref m->DrainRequested) == 0 ? Current(m)[cls] : null;
        if (s != null)
        {
            nuint* line = Reuse(m, cls);
            nuint n = line[0];
            if (n != 0)
            {
                // The latest object of the reuse line: its address is not waiting for the bitmap word a free just wrote.
                line[0] = n - 1;
                p = SlabHeader.Retake(s, (byte*)line[n]);
                m->LastError = 0;
            }
            else
            {
                int w = s->Cursor;
                ulong bits = s->Free[w];
                if (bits != 0)
                {
                    m->LastError = 0;
                    p = SlabHeader.TakeObject(s, w, bits);
                }
            }
        }
        Volatile.Write(ref m->InUse, 0);
        return p;
    }

    /// <summary>
    /// The byte API's free fast path, in one window: <paramref name="p"/> as an object in use of the
    /// <see cref="Recent"/> slab (no descriptor or table load: the object index check alone rejects any pointer
    /// outside that slab), else by its page's descriptor as an object in use of a slab this thread owns (which
    /// becomes <see cref="Recent"/>) or as a block to park. Plain stores only. False changes nothing: the caller
    /// takes the checked path (which also gives back a slab other than the current one that the free would empty).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryFree(Magazine* m, void* p)
    {
        Volatile.Write(ref m->InUse, 1);
        // Recent, the table and the descriptors are read only after the drain word: Quiesce points Recent at
        // Nowhere and nulls the table before it lowers that word.
        bool freed = Volatile.Read(ref m->DrainRequested) == 0 && (FreeOwned(m, m->Recent, p) || FreeByDescriptor(m, p));
        Volatile.Write(ref m->InUse, 0);
        return freed;
    }

    /// <summary>Inside the window: <see cref="TryFree"/> through the page descriptor of <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool FreeByDescriptor(Magazine* m, void* p)
    {
        nuint offset = (nuint)p - (nuint)m->Base;
        nuint page = offset >> m->PageShift;
        if (page >= m->Pages)
            return false;
        ref PageDescriptor d = ref m->Desc[page];
        if ((PageDescriptor.TagOf(ref d) & PageDescriptor.SlabBit) == 0)
            return (offset & (((nuint)1 << m->PageShift) - 1)) == 0 && ParkOwned(m, page, d.Order);
        SlabHeader* s = m->Slabs != null ? m->Slabs + d.Next : null;
        if (s == null || !FreeOwned(m, s, p))
            return false;
        m->Recent = s;
        return true;
    }

    /// <summary>Inside the window: frees <paramref name="p"/> into slab <paramref name="s"/> if it is an object in use there and the slab is ours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool FreeOwned(Magazine* m, SlabHeader* s, void* p)
    {
        int index = SlabHeader.IndexOf(s, (nuint)p - (nuint)s->Base);
        if (index < 0 || s->Owner != (int)(uint)m->HeadTag)
            return false;
        int cls = s->Class;
        bool current = s == Current(m)[cls];
        // Emptying a slab other than the current one is the checked path's: it gives the slab back.
        if (!(current || s->Used > 1) || !SlabHeader.ReturnObject(s, index))
            return false;
        if (current)
        {
            nuint* line = Reuse(m, cls);
            nuint n = line[0];
            if (n < ReuseDepth)
            {
                line[n + 1] = (nuint)p;
                line[0] = n + 1;
            }
        }
        return true;
    }
}

/// <summary>One (zone, order) stack of a magazine: its depth, its capacity and where its slots start.</summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
internal struct MagazineList
{
    public ushort Count;
    public ushort Cap;
    /// <summary>Index of the list's first slot, in 4-byte units from the magazine's start.</summary>
    public uint Offset;
}

/// <summary>Per zone: what entered and left a magazine other than through the fast zone's fast free.</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
internal struct MagazineTally
{
    /// <summary>Blocks parked by frees (for the fast zone, <see cref="Magazine.Freed"/> counts them instead).</summary>
    public long Freed;
    /// <summary>Blocks taken from the zone by refills (including each one handed straight to the caller).</summary>
    public long Refilled;
    /// <summary>Blocks given back to the zone by spills and drains.</summary>
    public long Spilled;
}
