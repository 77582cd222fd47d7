using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Buddy;

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
/// descriptors, gate and size, and the freed counter. The lists follow, the fast zone's first, one
/// <see cref="MagazineList"/> per order; then one <see cref="MagazineTally"/> per zone; then the slots (page
/// indices), each list owning a contiguous run of them.
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
    public const int LayoutVersion = 1;

    public const int HeaderBytes = 64;

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

    /// <summary>The fast zone's list of <paramref name="order"/> (the first lists after the header).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MagazineList* FastList(Magazine* m, int order) => (MagazineList*)((byte*)m + HeaderBytes) + order;

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
        bool parked = false;
        if (Volatile.Read(ref m->DrainRequested) == 0 && (uint)order < (uint)*m->Gate)
        {
            ulong want = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
            ref ulong tag = ref PageDescriptor.TagOf(ref m->Desc[page]);
            MagazineList* list = FastList(m, order);
            int n = list->Count;
            if (tag == want && n < list->Cap)
            {
                Slots(m)[list->Offset + (uint)n] = (uint)page;
                list->Count = (ushort)(n + 1);
                tag = want | PageDescriptor.ParkedBit;
                m->Freed++;
                parked = true;
            }
        }
        Volatile.Write(ref m->InUse, 0);
        return parked;
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
