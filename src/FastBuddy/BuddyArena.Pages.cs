using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.PerThread;

namespace FastBuddy;

// The page API: blocks of 2^order pages, one at a time or in bulk.
public sealed unsafe partial class BuddyArena
{
    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from the default (highest) zonelist.</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    /// <remarks>
    /// The fast path is step 1 for the first zone through the calling thread's magazine: one thread-static read,
    /// the gate test <c>order &lt; gate</c> (which stands for the range, the per-thread orders and the watermark
    /// test <c>free - (2^order - 1) ≥ pages_low</c>), a pop and one tag store. Everything else, including every
    /// check of bad input, takes the checked path.
    /// </remarks>
    public void* AllocPages(int order, AllocFlags flags = AllocFlags.Kernel)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m != null)
        {
            void* block = TryPopBlock(m, order, flags);
            if (block != null)
                return block;
        }
        return AllocPagesChecked(order, flags);
    }

    /// <summary>The page fast path on magazine <paramref name="m"/> (this thread's, of some arena): null when it misses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void* TryPopBlock(Magazine* m, int order, AllocFlags flags)
        => m->ArenaKey == _key && (flags & ~AllocFlagsExtensions.Fast) == 0 ? Magazine.TryPop(m, order) : null;

    /// <summary>Everything but the page fast path, from the default zonelist (also a <see cref="ThreadHandle"/>'s miss).</summary>
    internal void* AllocPagesChecked(int order, AllocFlags flags) => AllocPagesChecked(order, flags, _zones.Length - 1);

    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from zonelist <paramref name="zonelist"/> (zones zonelist .. 0).</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    public void* AllocPages(int order, AllocFlags flags, int zonelist) => AllocPagesChecked(order, flags, zonelist);

    private void* AllocPagesChecked(int order, AllocFlags flags, int zonelist)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        if ((uint)zonelist >= (uint)_zones.Length)
            ThrowHelper.ThrowNoZonelist(zonelist, _zones.Length);
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowUnknownFlags(flags);
        using InFlight call = Enter();
        void* block = Policy.Allocate(order, flags, _zonelists[zonelist]);
        SchedulePoints.Reach(SchedulePoints.AllocationTaken);
        if (block != null && (flags & AllocFlags.Zero) != 0)
            Platform.ArenaMemory.Zero(block, (nuint)1 << (_pageShift + order));
        return block;
    }

    /// <summary>Returns a block to the buddy system.</summary>
    /// <exception cref="FastBuddyException">
    /// NotOwned, NotABlock, DoubleFree, OrderMismatch or Busy (a cached page); the arena is unchanged.
    /// </exception>
    /// <remarks>
    /// The fast path parks the calling thread's own block of the first zone in its magazine: one thread-static read,
    /// one compare for range and alignment, the gate test, one 8-byte tag compare ("allocated head, this order,
    /// this owner") and plain stores. Any other free is validated and claimed on the checked path.
    /// </remarks>
    public void FreePages(void* block, int order)
    {
        Magazine* m = CurrentMagazine.Value;
        if (m == null || !TryParkBlock(m, block, order))
            FreePagesChecked(block, order);
    }

    /// <summary>The page free fast path on magazine <paramref name="m"/> (this thread's, of some arena). False changes nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryParkBlock(Magazine* m, void* block, int order) => m->ArenaKey == _key && Magazine.TryPark(m, block, order);

    /// <summary>Everything but the page free fast path (also a <see cref="ThreadHandle"/>'s miss).</summary>
    /// <remarks>Never inlined: its frame would otherwise be set up on every fast free.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void FreePagesChecked(void* block, int order)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        Zone zone = Locate(block, out int page);
        Policy.FreePath.Free(zone, page, order, (nint)block);
    }

    /// <summary>
    /// Allocates <c>pages.Length</c> order-0 pages at once into <paramref name="pages"/>: the thread's parked pages
    /// (all of them in one pass without a call when the thread's magazine holds that many), then whole blocks cut
    /// into pages with one zone-lock round trip per zone. Returns how many were allocated: fewer than asked only
    /// when the policy refuses the rest (see <see cref="LastError"/>); the entries past the count are left untouched.
    /// </summary>
    public int AllocPagesBulk(Span<nint> pages, AllocFlags flags = AllocFlags.Kernel)
    {
        // The fast path: the thread's magazine holds them all (the gate word stands for the disposed test too).
        Magazine* m = CurrentMagazine.Value;
        if (m != null && m->ArenaKey == _key && (flags & ~AllocFlagsExtensions.Fast) == 0 && Magazine.TryPopMany(m, pages))
            return pages.Length;
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowUnknownFlags(flags);
        using InFlight call = Enter();
        int n = Policy.AllocateBulk(pages, flags, _zonelists[^1]);
        if ((flags & AllocFlags.Zero) != 0)
        {
            foreach (nint p in pages[..n])
                Platform.ArenaMemory.Zero((void*)p, (nuint)PageSize);
        }
        return n;
    }

    /// <summary>
    /// Frees order-0 pages at once: into the calling thread's magazine while it has room (in one pass without a call
    /// when every page is the thread's own and all fit), the rest with one lock round trip per zone. All or
    /// nothing: if any entry is not a live order-0 page (or appears twice), nothing is freed and the first bad
    /// entry's status is thrown.
    /// </summary>
    public void FreePagesBulk(ReadOnlySpan<nint> pages)
    {
        // The fast path: every page this thread's own, parked with one tag compare each, while its list has room.
        Magazine* m = CurrentMagazine.Value;
        if (m != null && m->ArenaKey == _key && Magazine.TryParkMany(m, pages))
            return;
        ThrowIfDisposed();
        if (pages.IsEmpty)
            return;
        if (_zones.Length > byte.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, "Bulk frees support up to 255 zones.", nameof(pages));
        Span<int> index = pages.Length <= 256 ? stackalloc int[pages.Length] : new int[pages.Length];
        Span<byte> zoneOf = pages.Length <= 256 ? stackalloc byte[pages.Length] : new byte[pages.Length];
        for (int i = 0; i < pages.Length; i++)
            zoneOf[i] = (byte)Locate((void*)pages[i], out index[i]).Index;
        Policy.FreePath.FreeBulk(pages, index, zoneOf);
    }

    /// <summary>True when <paramref name="p"/> points anywhere inside one of the arena's zones.</summary>
    public bool Owns(void* p)
    {
        ThrowIfDisposed();
        return FindZone((nint)p) is not null;
    }
}
