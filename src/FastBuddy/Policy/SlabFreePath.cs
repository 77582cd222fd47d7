using FastBuddy.Buddy;
using FastBuddy.PerThread;
using FastBuddy.Slab;

namespace FastBuddy.Policy;

/// <summary>
/// The object free path, beside <see cref="SlabAllocationPath"/>: every free validated in O(1) against the
/// slab's out-of-band bitmaps.
/// </summary>
/// <remarks>
/// Step 1, the arena's inline fast path and its checked twin here: an object of a slab the calling thread owns
/// goes back into the owner bitmap with plain stores; a slab other than the current one that this empties goes
/// back to its class (spare, or its pages to the buddy system). Step 2: an object of a slab another thread owns
/// is freed with one interlocked OR into the slab's remote bitmap, folded in by the owner when it runs short.
/// Step 3: a slab with no owner is freed into under its class lock, and the freeing thread adopts it (so a
/// thread freeing what it allocated long ago gets its slabs back as its own). A pointer that is not the start of
/// an object, or an object not in use, changes nothing and is refused (<see cref="FastBuddyStatus.NotABlock"/>,
/// <see cref="FastBuddyStatus.DoubleFree"/>).
/// </remarks>
internal sealed unsafe class SlabFreePath
{
    private readonly SlabCaches _caches;
    private readonly ThreadMagazines _magazines;
    private readonly OwnedSlabs _owned;

    public SlabFreePath(SlabCaches caches, ThreadMagazines magazines, OwnedSlabs owned)
    {
        _caches = caches;
        _magazines = magazines;
        _owned = owned;
    }

    /// <summary>The slab whose page <paramref name="page"/> is, and the index of the object at <paramref name="p"/>; -1 when none starts there.</summary>
    public SlabHeader* Find(Zone zone, int page, nint p, out int index)
    {
        SlabHeader* s = _caches.Header(zone.Desc[page].Next);
        index = s->State == SlabState.None ? -1 : SlabHeader.IndexOf(s, (nuint)p - (nuint)s->Base);
        return s;
    }

    /// <summary>True when object <paramref name="index"/> of <paramref name="s"/> is in use (racy, like any check of a live object).</summary>
    public static bool InUse(SlabHeader* s, int index)
        => index >= 0 && ((Volatile.Read(ref s->Free[index >> 6]) | Volatile.Read(ref s->Remote[index >> 6])) & 1UL << index) == 0;

    /// <summary>Frees the object at <paramref name="p"/> in slab page <paramref name="page"/>; throws when it is not an object in use.</summary>
    public void Free(Zone zone, int page, nint p)
    {
        SlabHeader* s = Find(zone, page, p, out int index);
        if (index < 0)
            ThrowHelper.ThrowFreeRejected(FastBuddyStatus.NotABlock, p, 0);
        SlabCache cache = _caches.Of(s);
        FastBuddyStatus status;
        Magazine* m = _magazines.Enabled ? _magazines.For() : null;
        if (m != null && _magazines.Enter(m))
        {
            status = s->Owner == Magazine.Slot(m) ? FreeOwn(m, cache, s, index) : FreeElsewhere(m, cache, s, index);
            ThreadMagazines.Exit(m);
        }
        else
            status = FreeElsewhere(null, cache, s, index);
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, p, 0);
    }

    /// <summary>Step 1: our own slab; one emptied that is not the current one goes back to its class.</summary>
    private FastBuddyStatus FreeOwn(Magazine* m, SlabCache cache, SlabHeader* s, int index)
    {
        FastBuddyStatus status = SlabCache.FreeOwned(s, index);
        if (status == FastBuddyStatus.Ok && s->Used == 0 && s != Magazine.Current(m)[s->Class])
        {
            _owned.Unlink(m, s);
            cache.Release(s);
        }
        return status;
    }

    /// <summary>Steps 2 and 3: another thread's slab (remote bitmap), or one with no owner (class lock, adopted by <paramref name="m"/>).</summary>
    private FastBuddyStatus FreeElsewhere(Magazine* m, SlabCache cache, SlabHeader* s, int index)
    {
        int adopter = m != null ? Magazine.Slot(m) : 0;
        while (true)
        {
            if (Volatile.Read(ref s->Owner) != 0)
            {
                FastBuddyStatus remote = SlabCache.FreeRemote(s, index, out bool ownerless);
                if (remote != FastBuddyStatus.Ok || !ownerless)
                    return remote;
                index = -1; // our bit is in, but the owner let the slab go meanwhile: fold it ourselves
            }
            FastBuddyStatus status = cache.FreeUnowned(s, index, adopter, out bool adopted);
            // Our bit is in: the slab is owned again (Busy: the owner folds it), or the releasing thread folded it,
            // found the slab empty and gave it back (DoubleFree: no slab any more). Either way the free is done.
            if (index < 0 && status != FastBuddyStatus.Ok)
                return FastBuddyStatus.Ok;
            if (status == FastBuddyStatus.Busy)
                continue;
            if (adopted)
                _owned.Link(m, s);
            return status;
        }
    }
}
