using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using FastBuddy.Diagnostics;

namespace FastBuddy.Platform;

/// <summary>
/// The arena's only contact with the operating system's memory: one <see cref="Reserve"/>/<see cref="Release"/>
/// pair per zone, decommitting free ranges, and zero fills.
/// </summary>
/// <remarks>
/// On Linux a zone is an anonymous private mapping of its own (<c>mmap</c> with MAP_NORESERVE, so a large arena
/// costs address space, not commit charge, until it is touched). The mapping is over-reserved by the alignment and
/// trimmed with <c>munmap</c> so that its start is aligned to the zone's largest block; optional guard pages
/// (PROT_NONE) sit right before and after it. Release unmaps the whole reservation, so a stale pointer into a
/// destroyed arena faults instead of landing in someone else's memory. <see cref="Decommit"/> is
/// <c>madvise(MADV_DONTNEED)</c>: the pages leave the resident set at once and read as zero when touched again
/// (MADV_FREE would leave them resident until the kernel is short of memory, so the resident size would not
/// fall). Elsewhere the portable fallback is <see cref="NativeMemory.AlignedAlloc"/>: no guard pages, no
/// hugepage hint, no decommit.
/// </remarks>
internal static unsafe class ArenaMemory
{
    /// <summary>
    /// Reserves <paramref name="bytes"/> aligned to <paramref name="alignment"/> (a power of two); never touches
    /// them. With <paramref name="guardPages"/>, an inaccessible OS page before and after the range;
    /// with <paramref name="hugePages"/>, asks for transparent huge pages (a hint). Both need mmap.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The operating system refused the reservation.</exception>
    public static MemoryRegion Reserve(nuint bytes, nuint alignment, bool guardPages, bool hugePages)
    {
        FaultInjection.Hit(FaultPoint.Reservation);
        Debug.Assert(bytes > 0 && BitOperations.IsPow2(alignment));
        if (!OperatingSystem.IsLinux())
            return ReserveFromHeap(bytes, alignment);

        nuint osPage = (nuint)Environment.SystemPageSize;
        nuint length = RoundUp(bytes, osPage);
        nuint guard = guardPages ? osPage : 0;
        nuint align = Math.Max(alignment, osPage);
        // mmap returns OS-page-aligned addresses: align - osPage extra bytes always hold an aligned start.
        nuint total = length + 2 * guard + (align - osPage);
        if (total < length)
            throw Refused(bytes, alignment, "the size overflows");
        void* start = LibC.Mmap(null, total, LibC.ProtRead | LibC.ProtWrite,
            LibC.MapPrivate | LibC.MapAnonymous | LibC.MapNoReserve, -1, 0);
        if (start == LibC.MapFailed)
            throw Refused(bytes, alignment, Errno());

        byte* @base = (byte*)RoundUp((nuint)start + guard, align);
        byte* reservation = @base - guard;
        nuint reservationBytes = length + 2 * guard;
        try
        {
            Trim((byte*)start, reservation);
            Trim(reservation + reservationBytes, (byte*)start + total);
            if (guard != 0)
            {
                Check(LibC.Mprotect(reservation, guard, LibC.ProtNone), "mprotect");
                Check(LibC.Mprotect(@base + length, guard, LibC.ProtNone), "mprotect");
            }
        }
        catch (OutOfMemoryException)
        {
            _ = LibC.Munmap(start, total); // whatever is left of the over-reservation
            throw;
        }
        // A hint only: a kernel without transparent huge pages refuses it, and the arena works the same.
        if (hugePages)
            _ = LibC.Madvise(@base, length, LibC.MadvHugePage);
        return new MemoryRegion(@base, bytes, reservation, reservationBytes, mapped: true);
    }

    /// <summary>Gives a reservation back to the operating system; every address in it is invalid afterwards.</summary>
    public static void Release(in MemoryRegion region)
    {
        if (region.IsEmpty)
            return;
        FaultInjection.Released();
        if (region.IsMapped)
            Check(LibC.Munmap(region.Reservation, region.ReservationBytes), "munmap");
        else
            NativeMemory.AlignedFree(region.Base);
    }

    /// <summary>
    /// Tells the operating system that the pages of [<paramref name="p"/>, +<paramref name="bytes"/>) are not
    /// needed: they leave the resident set and read as zero when next touched. The range must be OS-page aligned
    /// and inside a mapped region. Returns false (and nothing changes) when the system refuses.
    /// </summary>
    public static bool Decommit(void* p, nuint bytes)
        => OperatingSystem.IsLinux() && LibC.Madvise(p, bytes, LibC.MadvDontNeed) == 0;

    public static void Zero(void* p, nuint bytes) => NativeMemory.Clear(p, bytes);

    private static MemoryRegion ReserveFromHeap(nuint bytes, nuint alignment)
    {
        void* p;
        try
        {
            p = NativeMemory.AlignedAlloc(bytes, alignment);
        }
        catch (OutOfMemoryException)
        {
            throw Refused(bytes, alignment, "the heap has no such block");
        }
        return new MemoryRegion(p, bytes, p, bytes, mapped: false);
    }

    /// <summary>Unmaps the surplus [from, to) of an over-reservation (nothing when it is empty).</summary>
    private static void Trim(byte* from, byte* to)
    {
        if (to > from)
            Check(LibC.Munmap(from, (nuint)(to - from)), "munmap");
    }

    /// <summary>
    /// These calls fail only for arguments the arena computed itself (EINVAL) or, for mprotect splitting a
    /// mapping, when the process is out of mappings (ENOMEM): a broken invariant or an exhausted system.
    /// </summary>
    private static void Check(int result, string call)
    {
        if (result != 0)
            throw new OutOfMemoryException($"{call} failed for an arena zone ({Errno()}).");
    }

    private static OutOfMemoryException Refused(nuint bytes, nuint alignment, string why)
        => new($"The operating system refused {bytes} bytes aligned to {alignment} for an arena zone ({why}).");

    private static string Errno() => $"errno {Marshal.GetLastPInvokeError()}";

    private static nuint RoundUp(nuint value, nuint powerOfTwo) => (value + powerOfTwo - 1) & ~(powerOfTwo - 1);
}
