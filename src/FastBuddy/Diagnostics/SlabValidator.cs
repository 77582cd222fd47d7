using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Slab;

namespace FastBuddy.Diagnostics;

/// <summary>
/// Checks every slab of every size class and throws <see cref="FastBuddyException"/> (status Corrupt) naming the
/// first broken invariant. Runs after <see cref="ArenaValidator"/> has drained every thread's magazine, which lets
/// each thread's slabs go to their class's pool.
/// </summary>
/// <remarks>
/// Per class, under its lock: the pool's lists (pooled, spare) are well linked and hold slabs of that class in
/// the state of the list, spares are empty and within the limit. Per slab: its geometry is the class's, every page
/// of its block names it (the head as an allocated head of the slab's order), no bitmap bit lies past the last
/// object, no object is free in both bitmaps, and for a slab no thread owns (so nothing changes it without the
/// lock) the count of objects in use is exactly the objects not free in the owner's bitmap.
/// </remarks>
internal static unsafe class SlabValidator
{
    public static void Validate(SlabCaches caches, ReadOnlySpan<Zone> zones)
    {
        foreach (SlabCache cache in caches.Caches)
        {
            lock (cache.Lock)
            {
                (int pooled, int spare) = cache.ListHeads;
                CheckList(caches, cache, pooled, SlabState.Pooled, "pooled");
                int spares = CheckList(caches, cache, spare, SlabState.Spare, "spare");
                if (spares != cache.SpareCount || spares > SlabCache.SpareLimit)
                    Fail(cache, $"its spare list holds {spares} slabs but counts {cache.SpareCount} (limit {SlabCache.SpareLimit})");
                for (int id = 1; id <= caches.Table.HighWater; id++)
                {
                    SlabHeader* s = caches.Header(id);
                    var state = (SlabState)Volatile.Read(ref Unsafe.As<SlabState, byte>(ref s->State));
                    if (state != SlabState.None && s->Class == cache.Class)
                        CheckSlab(cache, s, state, zones);
                }
            }
        }
    }

    private static int CheckList(SlabCaches caches, SlabCache cache, int head, SlabState state, string name)
    {
        int n = 0;
        int prev = 0;
        for (int id = head; id != 0; id = caches.Header(id)->Next)
        {
            SlabHeader* s = caches.Header(id);
            if (s->State != state || s->Class != cache.Class || s->Prev != prev || s->Owner != 0)
                Fail(cache, $"its {name} list holds slab {id}, which is {s->State} of class {s->Class} owned by {s->Owner} (back link {s->Prev}, expected {prev})");
            if (++n > caches.Table.Capacity)
                Fail(cache, $"its {name} list loops");
            prev = id;
        }
        return n;
    }

    private static void CheckSlab(SlabCache cache, SlabHeader* s, SlabState state, ReadOnlySpan<Zone> zones)
    {
        if (s->Size != cache.Size || s->Objects != cache.Objects || s->Order != cache.Order || s->Words != (cache.Objects + 63) >> 6)
            Fail(cache, $"slab {s->Id} has the geometry {s->Size} B x {s->Objects} (order {s->Order}), not the class's");
        if (s->Zone >= zones.Length || s->Page < 0 || (long)s->Page + (1L << s->Order) > zones[s->Zone].Pages)
            Fail(cache, $"slab {s->Id} lies outside its zone");
        Zone zone = zones[s->Zone];
        if ((nint)s->Base != (nint)zone.Address(s->Page))
            Fail(cache, $"slab {s->Id} starts at 0x{(nint)s->Base:x}, not at its first page");
        for (int i = 0; i < 1 << s->Order; i++)
        {
            ref PageDescriptor d = ref zone.Desc[s->Page + i];
            ulong want = i == 0 ? PageDescriptor.HeadTag(0, s->Order) | PageDescriptor.SlabBit : PageDescriptor.SlabBit;
            if (d.Next != s->Id || PageDescriptor.TagOf(ref d) != want)
                Fail(cache, $"page {s->Page + i} of slab {s->Id} is tagged 0x{PageDescriptor.TagOf(ref d):x} for slab {d.Next}");
        }
        int free = 0;
        for (int w = 0; w < 8; w++)
        {
            ulong valid = w < s->Objects >> 6 ? ulong.MaxValue : w == s->Objects >> 6 ? (1UL << (s->Objects & 63)) - 1 : 0;
            ulong f = s->Free[w], r = Volatile.Read(ref s->Remote[w]);
            if (((f | r) & ~valid) != 0)
                Fail(cache, $"slab {s->Id} has bitmap bits past its last object (word {w})");
            if ((f & r) != 0)
                Fail(cache, $"slab {s->Id} has objects free in both bitmaps (word {w})");
            free += BitOperations.PopCount(f);
        }
        if (state == SlabState.Owned ? s->Owner == 0 : s->Owner != 0)
            Fail(cache, $"slab {s->Id} is {state} but its owner is {s->Owner}");
        if (state != SlabState.Owned && s->Used != s->Objects - free)
            Fail(cache, $"slab {s->Id} counts {s->Used} objects in use but its bitmap has {s->Objects - free}");
        if (state == SlabState.Spare && s->Used != 0)
            Fail(cache, $"spare slab {s->Id} has {s->Used} objects in use");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(SlabCache cache, string message)
        => ThrowHelper.ThrowCorrupt($"Slab cache of {cache.Size} B: {message}.");
}
