using FastBuddy.Buddy;
using FastBuddy.PerThread;
using FastBuddy.Slab;

namespace FastBuddy.Policy;

/// <summary>
/// The object allocation path (2.4's <c>kmem_cache_alloc</c> behind <c>kmalloc</c>), for every size up to
/// <see cref="SlabCaches.SmallMax"/>, beside <see cref="SlabFreePath"/>.
/// </summary>
/// <remarks>
/// Step 1, the arena's inline fast path: the lowest free object of the current slab's cursor word, with plain
/// stores (the thread owns the slab). Step 2: the rest of the current slab, then the frees other threads made
/// into it. Step 3: a full slab is let go (it floats until a free adopts it) and the next slab of the thread's own
/// list takes its place. Step 4: a slab adopted from the class's pool (one with free objects, then an empty
/// spare). Step 5: a new slab, a block of pages through the whole page allocation path (watermarks, the reserve
/// floor, reclaim and waiting apply exactly as to any block, with the caller's flags). Step 6: it becomes the
/// current slab. Step 7: the page allocation failed, and its status is the call's. Steps 2-4 and 6 run inside
/// the thread's magazine window; step 5 outside it, since the page path may drain every magazine.
/// </remarks>
internal sealed unsafe class SlabAllocationPath
{
    private readonly SlabCaches _caches;
    private readonly ThreadMagazines _magazines;
    private readonly OwnedSlabs _owned;
    private readonly ISlabPages _pages;

    public SlabAllocationPath(SlabCaches caches, ThreadMagazines magazines, OwnedSlabs owned, ISlabPages pages)
    {
        _caches = caches;
        _magazines = magazines;
        _owned = owned;
        _pages = pages;
    }

    /// <summary>An object of at least <paramref name="bytes"/> (1 to SmallMax), or null when the policy refuses a new slab.</summary>
    public byte* Allocate(nuint bytes, AllocFlags flags)
    {
        SlabCache cache = _caches.For(bytes);
        if (!_magazines.Enabled)
            return AllocateShared(cache, flags);
        Magazine* m = _magazines.For();
        if (!_magazines.Enter(m))
            ThrowHelper.ThrowDisposed();
        byte* p = FromOwned(m, cache);
        ThreadMagazines.Exit(m);
        return p != null ? p : FromNewSlab(m, cache, flags);
    }

    /// <summary>Steps 2-4, inside the window.</summary>
    private byte* FromOwned(Magazine* m, SlabCache cache)
    {
        SlabHeader** current = Magazine.Current(m) + cache.Class;
        SlabHeader* s = *current;
        // The bitmap pops below may take objects the reuse line names (they are free there too): forget them first.
        Magazine.ClearReuse(m, cache.Class);
        if (s != null)
        {
            // Step 2: the rest of the current slab past its cursor word, then what other threads freed into it.
            byte* p = SlabCache.Pop(s);
            if (p == null)
            {
                SlabCache.Collect(s);
                p = SlabCache.Pop(s);
            }
            if (p != null)
                return p;
            // Step 3: it is full; let it go ...
            *current = null;
            cache.Release(s);
        }
        // ... and take the next slab of the thread's own list.
        while ((s = _owned.TakeNext(m, cache.Class)) != null)
        {
            SlabCache.Collect(s);
            byte* p = SlabCache.Pop(s);
            if (p != null)
            {
                *current = s;
                return p;
            }
            cache.Release(s);
        }
        // Step 4: adopt one from the class's pool.
        s = cache.Adopt(Magazine.Slot(m));
        if (s == null)
            return null;
        *current = s;
        return SlabCache.Pop(s);
    }

    /// <summary>Steps 5-7: a new slab through the page allocation path, outside the window; it becomes the current one.</summary>
    private byte* FromNewSlab(Magazine* m, SlabCache cache, AllocFlags flags)
    {
        byte* block = _pages.Take(cache.Order, flags, out Zone zone, out int page);
        if (block == null)
            return null;
        if (!_magazines.Enter(m))
            return null; // the arena is gone, and the block with it
        SlabHeader* s = cache.Create(block, zone, page, Magazine.Slot(m));
        SlabHeader** current = Magazine.Current(m) + cache.Class;
        // A free while we were out may have adopted a slab as the current one; keep the new one on the list then.
        if (*current == null)
            *current = s;
        else
            _owned.Link(m, s);
        byte* p = SlabCache.Pop(s);
        ThreadMagazines.Exit(m);
        return p;
    }

    /// <summary>Without per-thread magazines every slab is the pool's, and each object is taken under the class lock.</summary>
    private byte* AllocateShared(SlabCache cache, AllocFlags flags)
    {
        byte* p = cache.PopShared();
        if (p != null)
            return p;
        byte* block = _pages.Take(cache.Order, flags, out Zone zone, out int page);
        return block == null ? null : cache.PopFresh(cache.Create(block, zone, page, owner: 0));
    }
}
