using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastBuddy;

/// <summary>Throw sites kept out of line so the callers' hot paths stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowBadInput(FastBuddyStatus status, string message, string? paramName = null)
        => throw new FastBuddyException(status, message, paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnknownFlags(AllocFlags flags)
        => throw new FastBuddyException(FastBuddyStatus.InvalidArgument, $"Unknown allocation flags 0x{(uint)flags:x}.", nameof(flags));

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDisposed() => throw new ObjectDisposedException(nameof(BuddyArena));

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOrderOutOfRange(int order, int maxOrder)
        => throw new FastBuddyException(FastBuddyStatus.InvalidArgument,
            $"Order {order} is out of range: it must be at least 0 and below MaxOrder ({maxOrder}).", "order");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowFreeRejected(FastBuddyStatus status, nint p, int order)
        => throw new FastBuddyException(status, status switch
        {
            FastBuddyStatus.NotOwned => $"0x{p:x} is not inside this arena.",
            FastBuddyStatus.NotABlock => $"0x{p:x} is not the head of a block (interior or misaligned pointer).",
            FastBuddyStatus.DoubleFree => $"0x{p:x} has already been freed.",
            FastBuddyStatus.OrderMismatch => $"0x{p:x} was not allocated with order {order}.",
            FastBuddyStatus.Busy => $"0x{p:x} is in the page cache: call CacheRemove before freeing it.",
            _ => $"0x{p:x} cannot be freed ({status}).",
        }, "block");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowNoZonelist(int zonelist, int zones)
        => throw new FastBuddyException(FastBuddyStatus.InvalidArgument, $"Zonelist {zonelist} does not exist; there are {zones}.", "zonelist");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowRentRefused(nuint bytes, FastBuddyStatus reason)
        => throw new InsufficientMemoryException($"The arena could not provide {bytes} bytes ({reason}).");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowCorrupt(string message) => throw new FastBuddyException(FastBuddyStatus.Corrupt, message);
}
