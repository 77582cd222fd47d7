using System.Runtime.InteropServices;

namespace FastBuddy.Platform;

/// <summary>
/// Small unmanaged blocks for the allocator's own out-of-band state that must not move and must be reachable from
/// C: the zones' gate lines and the threads' magazines. Zeroed, aligned to a cache line.
/// </summary>
internal static unsafe class NativeBlocks
{
    /// <summary>One cache line, as the hardware shares them.</summary>
    public const int CacheLine = 64;

    public static void* AllocZeroed(nuint bytes)
    {
        nuint rounded = (bytes + CacheLine - 1) & ~(nuint)(CacheLine - 1);
        void* p = NativeMemory.AlignedAlloc(rounded, CacheLine);
        NativeMemory.Clear(p, rounded);
        return p;
    }

    public static void Free(void* p) => NativeMemory.AlignedFree(p);
}
