using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Slab;

/// <summary>
/// The object size classes: 8 to 64 bytes in steps of 8, then eight classes per doubling (72, 80, ..., 128, 144,
/// ..., 256, 288, ...) up to <see cref="MaxSmall"/>. Above 64 bytes a request loses at most one step, under
/// 1/8 of its class, to rounding; every class size is a multiple of 8, and of 16 from 128 bytes up.
/// </summary>
/// <remarks>
/// The formula is shared with C: fastbuddy.h computes the same class inline (<c>fb__size_class</c>), and the
/// layout test checks both agree for every size. An object is aligned to the largest power of two dividing its
/// class size, up to 16 (the odd multiples of 8 are 8-aligned: no C type of that size needs more).
/// </remarks>
internal static class SizeClasses
{
    /// <summary>The largest size a class can have (arenas with small pages or few orders stop earlier).</summary>
    public const int MaxSmall = 32 * 1024;

    /// <summary>Classes up to <see cref="MaxSmall"/>: eight of 8-byte steps, then eight per doubling from 64 to 32 KiB.</summary>
    public const int Count = 8 + 8 * 9;

    /// <summary>The class of <paramref name="bytes"/> (1 to <see cref="MaxSmall"/>): a table load up to 1 KiB, the formula above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(nuint bytes)
    {
        nuint s = bytes - 1;
        // s < TableBytes bounds the index; the JIT cannot see that through the shift, so no second check here.
        return s < TableBytes ? Unsafe.Add(ref MemoryMarshal.GetReference(ByEighths), (nint)(s >> 3)) : Formula(s);
    }

    /// <summary>The class of bytes - 1 = <paramref name="s"/>: eight 8-byte steps, then eight per doubling (C computes this one, fb__size_class).</summary>
    public static int Formula(nuint s)
    {
        if (s < 64)
            return (int)(s >> 3);
        int b = BitOperations.Log2(s); // 6 .. 14
        return 8 + ((b - 6) << 3) + (int)((s >> (b - 3)) & 7);
    }

    /// <summary>Requests up to this size take their class from <see cref="ByEighths"/>.</summary>
    private const int TableBytes = 1024;

    /// <summary>
    /// <see cref="Formula"/> of every s below <see cref="TableBytes"/>, by s / 8 (every class size up to 1 KiB is a
    /// multiple of 8, so s / 8 decides the class); a test checks it against the formula for every size.
    /// </summary>
    private static ReadOnlySpan<byte> ByEighths =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23,
        24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27,
        28, 28, 28, 28, 29, 29, 29, 29, 30, 30, 30, 30, 31, 31, 31, 31,
        32, 32, 32, 32, 32, 32, 32, 32, 33, 33, 33, 33, 33, 33, 33, 33,
        34, 34, 34, 34, 34, 34, 34, 34, 35, 35, 35, 35, 35, 35, 35, 35,
        36, 36, 36, 36, 36, 36, 36, 36, 37, 37, 37, 37, 37, 37, 37, 37,
        38, 38, 38, 38, 38, 38, 38, 38, 39, 39, 39, 39, 39, 39, 39, 39,
    ];

    /// <summary>The size of class <paramref name="cls"/>.</summary>
    public static int SizeOf(int cls)
    {
        if (cls < 8)
            return (cls + 1) << 3;
        int b = 6 + ((cls - 8) >> 3);
        return (1 << b) + (((cls - 8) & 7) + 1 << (b - 3));
    }
}
