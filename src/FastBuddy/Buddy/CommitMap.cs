using System.Runtime.CompilerServices;
using FastBuddy.Platform;

namespace FastBuddy.Buddy;

/// <summary>
/// Which parts of a zone the arena has given back to the operating system (decommitted), out of band: one bit
/// per unit of 2^<see cref="UnitOrder"/> pages, and optionally since when each unit has been free.
/// </summary>
/// <remarks>
/// This is the mechanism only; when to decommit is the policy's (kswapd's decommit step). A unit is marked
/// decommitted after <c>madvise</c> dropped its pages, and a fresh mapping starts with every unit marked (its
/// pages were never touched). Every allocation clears the marks and free ages of the units it overlaps
/// (<see cref="Taken"/>, called by rmqueue and in-place growth under the zone lock), so a marked unit is always
/// wholly free and untouched since it was decommitted, and a unit's free age counts from the first decommit scan
/// that saw it free after its last allocation. A zone's tail smaller than a unit is the last, partial unit: it starts
/// decommitted like the rest but is never decommitted again (no free block covers it whole). Every member requires
/// the zone lock.
/// </remarks>
internal sealed class CommitMap
{
    private readonly ulong[] _decommitted;
    private readonly bool _trackFreeAge;
    private long[]? _freeSince;

    private readonly long _zoneBytes;

    public CommitMap(int pages, int pageShift, in ZoneMemoryOptions options, in MemoryRegion region)
    {
        UnitOrder = options.DecommitUnitOrder;
        Units = (int)(((long)pages + (1L << UnitOrder) - 1) >> UnitOrder);
        UnitBytes = 1L << (UnitOrder + pageShift);
        _zoneBytes = (long)pages << pageShift;
        // madvise works on whole OS pages: a unit smaller than one cannot be given back on its own.
        CanDecommit = region.IsMapped && UnitBytes % Environment.SystemPageSize == 0;
        _decommitted = new ulong[(Units + 63) >> 6];
        _trackFreeAge = options.TrackFreeAge; // the ages themselves are allocated by the first scan, not here
        if (region.IsMapped)
        {
            // A fresh anonymous mapping is not resident and reads as zero: exactly a decommitted range.
            Array.Fill(_decommitted, ulong.MaxValue);
            if ((Units & 63) != 0)
                _decommitted[^1] = (1UL << Units) - 1;
            DecommittedBytes = _zoneBytes;
        }
    }

    /// <summary>Pages per unit, as an order.</summary>
    public int UnitOrder { get; }

    /// <summary>Units in the zone (the last one partial when the zone is not a whole number of them).</summary>
    public int Units { get; }

    public long UnitBytes { get; }

    /// <summary>The zone is a mapping of its own and a unit is whole OS pages: <see cref="Decommit"/> can work.</summary>
    public bool CanDecommit { get; }

    /// <summary>Bytes of the units currently marked decommitted.</summary>
    public long DecommittedBytes { get; private set; }

    /// <summary>Blocks given back so far (each <see cref="Decommit"/> that succeeded).</summary>
    public long Decommits { get; private set; }

    /// <summary>An allocation took [page, page + 2^order): its units are committed again and no longer free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Taken(int page, int order)
    {
        int first = page >> UnitOrder;
        if (order <= UnitOrder)
            TakeUnit(first);
        else
            TakeUnits(first, 1 << (order - UnitOrder));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TakeUnits(int first, int count)
    {
        for (int u = first; u < first + count; u++)
            TakeUnit(u);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TakeUnit(int u)
    {
        ref ulong word = ref _decommitted[u >> 6];
        ulong bit = 1UL << u;
        if ((word & bit) != 0)
        {
            word &= ~bit;
            DecommittedBytes -= BytesOf(u);
        }
        if (_freeSince is not null)
            _freeSince[u] = 0;
    }

    /// <summary>
    /// A decommit scan sees the free block [page, page + 2^order) (order ≥ <see cref="UnitOrder"/>): units not
    /// yet seen free since their last allocation are stamped <paramref name="now"/> (never 0). Returns since when
    /// the whole block has been free, the latest stamp of its units.
    /// </summary>
    public long FreeSince(int page, int order, long now)
    {
        if (!_trackFreeAge)
            return now;
        _freeSince ??= new long[Units];
        long since = 0;
        int first = page >> UnitOrder, count = 1 << (order - UnitOrder);
        for (int u = first; u < first + count; u++)
        {
            ref long stamp = ref _freeSince[u];
            if (stamp == 0)
                stamp = now;
            since = Math.Max(since, stamp);
        }
        return since;
    }

    /// <summary>Every unit of the block is marked decommitted.</summary>
    public bool IsDecommitted(int page, int order)
    {
        int first = page >> UnitOrder, count = 1 << Math.Max(order - UnitOrder, 0);
        for (int u = first; u < first + count; u++)
        {
            if ((uint)u >= (uint)Units || (_decommitted[u >> 6] & (1UL << u)) == 0)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Gives the pages of the free block [page, page + 2^order) at <paramref name="address"/> back to the operating
    /// system and marks its units. The caller holds the zone lock and has checked that the block is free and made
    /// of whole units, so no allocated page is ever touched. False when the system refused (nothing marked).
    /// </summary>
    public unsafe bool Decommit(void* address, int page, int order)
    {
        int count = 1 << (order - UnitOrder);
        if (!CanDecommit || !ArenaMemory.Decommit(address, (nuint)(count * UnitBytes)))
            return false;
        int first = page >> UnitOrder;
        for (int u = first; u < first + count; u++)
        {
            ref ulong word = ref _decommitted[u >> 6];
            ulong bit = 1UL << u;
            if ((word & bit) == 0)
            {
                word |= bit;
                DecommittedBytes += UnitBytes;
            }
        }
        Decommits++;
        return true;
    }

    /// <summary>Unit <paramref name="u"/> is marked decommitted (for the validator).</summary>
    public bool IsMarked(int u) => (_decommitted[u >> 6] & (1UL << u)) != 0;

    /// <summary>Bytes of unit <paramref name="u"/>: <see cref="UnitBytes"/>, less for the zone's partial last unit.</summary>
    public long BytesOf(int u) => Math.Min(UnitBytes, _zoneBytes - u * UnitBytes);

    /// <summary>
    /// The unit order for decommitting blocks of at least <paramref name="minOrder"/> pages (null: only the top
    /// order), raised to a whole OS page, at most the top order.
    /// </summary>
    public static int UnitOrderFor(int pageShift, int maxOrder, int? minOrder)
    {
        int order = minOrder ?? maxOrder - 1;
        int osPageShift = System.Numerics.BitOperations.Log2((uint)Environment.SystemPageSize);
        order = Math.Max(order, osPageShift - pageShift);
        return Math.Min(order, maxOrder - 1);
    }
}
