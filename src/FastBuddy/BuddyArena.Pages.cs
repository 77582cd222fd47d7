using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using FastBuddy.Policy;

namespace FastBuddy;

// The page API: blocks of 2^order pages, one at a time or in bulk.
public sealed unsafe partial class BuddyArena
{
    // ---------------------------------------------------------------- pages

    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from the default (highest) zonelist.</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    public void* AllocPages(int order, AllocFlags flags = AllocFlags.Kernel)
        => AllocPages(order, flags, _zones.Length - 1);

    /// <summary>Allocates a block of 2^<paramref name="order"/> pages from zonelist <paramref name="zonelist"/> (zones zonelist .. 0).</summary>
    /// <returns>The block, aligned to its size; null when the policy refuses (see <see cref="LastError"/>).</returns>
    public void* AllocPages(int order, AllocFlags flags, int zonelist)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        if ((uint)zonelist >= (uint)_zones.Length)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"Zonelist {zonelist} does not exist; there are {_zones.Length}.", nameof(zonelist));
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Unknown allocation flags 0x{(uint)flags:x}.", nameof(flags));
        void* block = Policy.Allocate(order, flags, _zonelists[zonelist]);
        if (block != null && (flags & AllocFlags.Zero) != 0)
            Platform.ArenaMemory.Zero(block, (nuint)1 << (_pageShift + order));
        return block;
    }

    /// <summary>Returns a block to the buddy system.</summary>
    /// <exception cref="FastBuddyException">
    /// NotOwned, NotABlock, DoubleFree, OrderMismatch or Busy (a cached page); the arena is unchanged.
    /// </exception>
    public void FreePages(void* block, int order)
    {
        ThrowIfDisposed();
        if ((uint)order >= (uint)MaxOrder)
            ThrowHelper.ThrowOrderOutOfRange(order, MaxOrder);
        Zone zone = Locate(block, out int page);
        ref PageDescriptor d = ref zone.Desc[page];
        // A plain allocated head of the right order, small enough for the per-CPU lists: park it, lock-free
        // (unless an allocation is waiting for a free: then it goes straight to the zone).
        if (d.Flags == PageFlags.AllocatedHead && d.Order == order && TryPark(zone, page, order))
            return;
        FreeLocked(zone, page, order, (nint)block);
    }

    /// <summary>
    /// The lock-free free: a block of a listed order goes to the thread's per-CPU list, unless an allocation is
    /// waiting for a free (then it goes straight to the zone) or a racing free claimed it first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPark(Zone zone, int page, int order)
        => order < zone.PerCpuOrders && !_frees.HasWaiters && Policy.TryFreeParked(zone, page, order);

    /// <summary>The checked free under the zone lock; throws when the block is not a live block of that order.</summary>
    private void FreeLocked(Zone zone, int page, int order, nint block)
    {
        FastBuddyStatus status;
        lock (zone.Lock)
        {
            status = zone.CheckFree(page, order);
            // Claim the head atomically: a racing lock-free (per-CPU) free of the same block may have won.
            if (status == FastBuddyStatus.Ok && !zone.TryClaim(page, PageFlags.Freed))
                status = zone.CheckFree(page, order);
            if (status == FastBuddyStatus.Ok)
                zone.FreeBlock(page, order);
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, block, order);
        Policy.OnFree();
    }

    /// <summary>
    /// Allocates <c>pages.Length</c> order-0 pages at once into <paramref name="pages"/>, with one zone-lock round
    /// trip per zone for what the fast path can serve. Returns how many were allocated: fewer than asked only when
    /// the policy refuses the rest (see <see cref="LastError"/>); the entries past the count are left untouched.
    /// </summary>
    public int AllocPagesBulk(Span<nint> pages, AllocFlags flags = AllocFlags.Kernel)
    {
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, $"Unknown allocation flags 0x{(uint)flags:x}.", nameof(flags));
        int n = Policy.AllocateBulk(pages, flags, _zonelists[^1]);
        if ((flags & AllocFlags.Zero) != 0)
        {
            foreach (nint p in pages[..n])
                Platform.ArenaMemory.Zero((void*)p, (nuint)PageSize);
        }
        return n;
    }

    /// <summary>
    /// Frees order-0 pages at once, one lock round trip per zone. All or nothing: if any entry is not a live
    /// order-0 page (or appears twice), nothing is freed and the first bad entry's status is thrown.
    /// </summary>
    public void FreePagesBulk(ReadOnlySpan<nint> pages)
    {
        ThrowIfDisposed();
        if (pages.IsEmpty)
            return;
        Span<int> index = pages.Length <= 256 ? stackalloc int[pages.Length] : new int[pages.Length];
        Span<byte> zoneOf = pages.Length <= 256 ? stackalloc byte[pages.Length] : new byte[pages.Length];
        if (_zones.Length > byte.MaxValue)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, "Bulk frees support up to 255 zones.", nameof(pages));
        for (int i = 0; i < pages.Length; i++)
        {
            zoneOf[i] = (byte)Locate((void*)pages[i], out index[i]).Index;
        }
        foreach (Zone zone in _zones)
            zone.Lock.Enter();
        FastBuddyStatus status = FastBuddyStatus.Ok;
        int bad = 0;
        try
        {
            // Check everything first (marking each page so that a duplicate shows), then free everything.
            for (; bad < pages.Length; bad++)
            {
                Zone zone = _zones[zoneOf[bad]];
                ref PageDescriptor d = ref zone.Desc[index[bad]];
                status = (d.Flags & PageFlags.BulkMark) != 0 ? FastBuddyStatus.DoubleFree : zone.CheckFree(index[bad], 0);
                if (status == FastBuddyStatus.Ok && !zone.TryClaim(index[bad], PageFlags.AllocatedHead | PageFlags.BulkMark))
                    status = zone.CheckFree(index[bad], 0);
                if (status != FastBuddyStatus.Ok)
                    break;
            }
            for (int i = 0; i < bad; i++)
            {
                Zone zone = _zones[zoneOf[i]];
                if (status == FastBuddyStatus.Ok)
                    zone.FreeBlock(index[i], 0);
                else
                    zone.Desc[index[i]].Flags = PageFlags.AllocatedHead; // undo the claim
            }
        }
        finally
        {
            foreach (Zone zone in _zones)
                zone.Lock.Exit();
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, pages[bad], 0);
        Policy.OnFree();
    }

    /// <summary>True when <paramref name="p"/> points anywhere inside one of the arena's zones.</summary>
    public bool Owns(void* p)
    {
        ThrowIfDisposed();
        return FindZone((nint)p) is not null;
    }
}
