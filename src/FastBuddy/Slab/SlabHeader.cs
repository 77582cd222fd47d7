using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Slab;

/// <summary>
/// One slab's out-of-band metadata: where its objects are, who owns it, and two bitmaps of its objects, one the
/// owner's (free objects) and one for frees from other threads. Never inside the slab's own pages, so a write
/// after free or an overflow cannot corrupt the allocator. The layout is shared with C (<c>fb__slab</c> in
/// fastbuddy.h), whose inline path runs the owner's pop and free on the same bytes.
/// </summary>
/// <remarks>
/// <para>
/// The first line is everything the owner's fast paths touch: base, size, the division constant, owner, count of
/// objects in use, cursor, and (on the second line) the owner bitmap <see cref="Free"/> (1 = free). The third
/// line, <see cref="Remote"/>, is written only with interlocked operations by threads that free an object of a
/// slab they do not own; the owner folds it into <see cref="Free"/> when it runs short (<see cref="RemotePending"/>
/// says there is something to fold), and so does whoever holds the class lock of a slab that has no owner.
/// </para>
/// <para>
/// <see cref="Used"/> counts the objects not free in the owner's view, so frees from other threads not yet folded
/// in still count as used: a slab is empty only when every object is back in <see cref="Free"/>.
/// </para>
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Bytes)]
internal unsafe struct SlabHeader
{
    public const int Bytes = 192;

    /// <summary>Objects a slab holds at most: 8 bitmap words.</summary>
    public const int MaxObjects = 512;


    [FieldOffset(0)] public byte* Base;
    [FieldOffset(8)] public uint Size;
    [FieldOffset(12)] public ushort Objects;
    [FieldOffset(14)] public byte Words;
    [FieldOffset(15)] public SlabState State;
    /// <summary>The inverse of Size's odd part modulo 2^64: with <see cref="Twos"/>, one multiply and a rotate divide exactly (<see cref="IndexOf"/>).</summary>
    [FieldOffset(16)] public ulong Inverse;
    /// <summary>The owner's magazine slot (0: no owner; frees take the class lock).</summary>
    [FieldOffset(24)] public int Owner;
    [FieldOffset(28)] public int Used;
    /// <summary>No word of <see cref="Free"/> below this one has a bit set.</summary>
    [FieldOffset(32)] public int Cursor;
    [FieldOffset(36)] public int RemotePending;
    /// <summary>Links (slab ids) of the owner's list or of the class's pool.</summary>
    [FieldOffset(40)] public int Next;
    [FieldOffset(44)] public int Prev;
    [FieldOffset(48)] public ushort Class;
    [FieldOffset(50)] public byte Order;
    [FieldOffset(51)] public byte Zone;
    /// <summary>The slab's first page in its zone.</summary>
    [FieldOffset(52)] public int Page;
    [FieldOffset(56)] public int Id;
    /// <summary>The power of two in Size (its trailing zero bits).</summary>
    [FieldOffset(60)] public byte Twos;
    [FieldOffset(64)] public fixed ulong Free[8];
    [FieldOffset(128)] public fixed ulong Remote[8];

    /// <summary>
    /// A header that no pointer is an object of (no objects, no owner; never freed): where a magazine's
    /// <see cref="PerThread.Magazine.Recent"/> points while it names no slab, so that the free path needs no null test.
    /// </summary>
    public static readonly SlabHeader* Nowhere = (SlabHeader*)NativeMemory.AllocZeroed(Bytes);

    /// <summary>
    /// The index of the object at byte <paramref name="offset"/> of the slab; -1 when no object starts there. With
    /// Size = d · 2^k (d odd): <c>offset · inverse(d)</c> rotated right by k is offset / Size when Size divides offset,
    /// and otherwise a number far above any object count (the low k bits rotate to the top, and a product by the
    /// inverse is at most 2^(64-k) / d only for multiples of d). One multiply, one rotate, one compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(SlabHeader* s, nuint offset)
    {
        ulong index = Quotient(s, offset);
        return index < s->Objects ? (int)index : -1;
    }

    /// <summary>The multiply and rotate of <see cref="IndexOf"/>, unchecked: the index when an object starts at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Quotient(SlabHeader* s, nuint offset) => BitOperations.RotateRight((ulong)offset * s->Inverse, s->Twos);

    /// <summary>
    /// The owner's take of the lowest object of word <paramref name="w"/>, whose free bits are
    /// <paramref name="bits"/> (not 0): clears the bit, counts the object in use, returns its address.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* TakeObject(SlabHeader* s, int w, ulong bits)
    {
        s->Free[w] = bits & (bits - 1);
        s->Used++;
        return s->Base + (nuint)((w << 6) + BitOperations.TrailingZeroCount(bits)) * s->Size;
    }

    /// <summary>
    /// The owner's take of <paramref name="p"/>, a free object of this slab named by the magazine's reuse line (so
    /// no range check): clears its bit, counts it in use, returns it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Retake(SlabHeader* s, byte* p)
    {
        ulong index = Quotient(s, (nuint)(p - s->Base));
        s->Free[index >> 6] &= ~(1UL << (int)index);
        s->Used++;
        return p;
    }

    /// <summary>
    /// The owner's return of object <paramref name="index"/> (the owner, or the class lock's holder for a slab with
    /// no owner): false, changing nothing, when the object is not in use (free in either bitmap).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ReturnObject(SlabHeader* s, int index)
    {
        int w = index >> 6;
        ulong bit = 1UL << index;
        ulong bits = s->Free[w];
        if (((bits | Volatile.Read(ref s->Remote[w])) & bit) != 0)
            return false;
        s->Free[w] = bits | bit;
        s->Used--;
        if (w < s->Cursor)
            s->Cursor = w;
        return true;
    }

    /// <summary>The inverse of odd <paramref name="d"/> modulo 2^64 (Newton's iteration, each step doubling the correct bits).</summary>
    public static ulong InverseOf(ulong d)
    {
        ulong x = d; // correct to 3 bits for any odd d
        for (int i = 0; i < 5; i++)
            x *= 2 - d * x;
        return x;
    }
}

/// <summary>Where a slab is: with one thread, in no list, in its class's pool, or spare (empty).</summary>
internal enum SlabState : byte
{
    /// <summary>The header is not in use.</summary>
    None = 0,
    /// <summary>A thread's current slab or on its list for the class; only it allocates from the slab.</summary>
    Owned = 1,
    /// <summary>No owner and in no list: it was full when its owner let it go; the first free adopts or pools it.</summary>
    Floating = 2,
    /// <summary>In the class's pool of slabs with free objects, for any thread to adopt.</summary>
    Pooled = 3,
    /// <summary>Empty, kept in the class's pool a while before its pages go back (hysteresis).</summary>
    Spare = 4,
}
