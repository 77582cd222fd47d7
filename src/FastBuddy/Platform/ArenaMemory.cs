using System.Runtime.InteropServices;
using FastBuddy.Diagnostics;

namespace FastBuddy.Platform;

/// <summary>The arena's only contact with the operating system's memory: aligned regions and zero fills.</summary>
internal static unsafe class ArenaMemory
{
    /// <summary>Reserves <paramref name="bytes"/> aligned to <paramref name="alignment"/> (a power of two); never touches them.</summary>
    public static void* Reserve(nuint bytes, nuint alignment)
    {
        FaultInjection.Hit(FaultPoint.Reservation);
        try
        {
            return NativeMemory.AlignedAlloc(bytes, alignment);
        }
        catch (OutOfMemoryException)
        {
            throw new OutOfMemoryException(
                $"The operating system refused {bytes} bytes aligned to {alignment} for an arena zone.");
        }
    }

    public static void Release(void* p)
    {
        FaultInjection.Released();
        NativeMemory.AlignedFree(p);
    }

    public static void Zero(void* p, nuint bytes) => NativeMemory.Clear(p, bytes);
}
