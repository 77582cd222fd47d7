using FastBuddy.Buddy;

namespace FastBuddy.Slab;

/// <summary>
/// The slab layer of one arena (2.4's <c>kmalloc</c> caches over the buddy system): a <see cref="SlabCache"/> per
/// size class this arena's pages and orders can hold, and the table of slab headers.
/// </summary>
/// <remarks>
/// Classes run from the smallest whose 512 objects fill a page (8 bytes with 4 KiB pages) up to the largest whose
/// slab fits below MaxOrder with eight objects (<see cref="SizeClasses.MaxSmall"/>, 32 KiB, at the defaults);
/// <see cref="SmallMax"/> is the largest size served from slabs, anything larger is a block of pages.
/// </remarks>
internal sealed unsafe class SlabCaches : IDisposable
{
    private readonly SlabCache?[] _caches = new SlabCache?[SizeClasses.Count];

    public SlabCaches(Zone[] zones, int pageShift, int maxOrder, ISlabPages pages)
    {
        long total = 0;
        foreach (Zone z in zones)
            total += z.Pages;
        Table = new SlabTable(total);
        int min = SizeClasses.Of((nuint)Math.Max(8, (1 << pageShift) / SlabHeader.MaxObjects));
        for (int cls = min; cls < SizeClasses.Count; cls++)
        {
            int order = SlabCache.OrderFor(SizeClasses.SizeOf(cls), pageShift, maxOrder, out int objects);
            if (order < 0)
                break;
            _caches[cls] = new SlabCache(cls, order, objects, Table, pages, zones);
            SmallMax = SizeClasses.SizeOf(cls);
        }
        MinClass = min;
    }

    public SlabTable Table { get; }

    /// <summary>The largest request served from a slab (0: none is).</summary>
    public int SmallMax { get; }

    /// <summary>Requests smaller than this class's size use it (large pages make tiny classes wasteful).</summary>
    public int MinClass { get; }

    /// <summary>The cache of the class for <paramref name="bytes"/> (1 to <see cref="SmallMax"/>).</summary>
    public SlabCache For(nuint bytes) => _caches[Math.Max(SizeClasses.Of(bytes), MinClass)]!;

    public SlabCache? this[int cls] => (uint)cls < (uint)_caches.Length ? _caches[cls] : null;

    /// <summary>The header of slab <paramref name="id"/>.</summary>
    public SlabHeader* Header(int id) => Table[id];

    /// <summary>The cache a slab belongs to.</summary>
    public SlabCache Of(SlabHeader* s) => _caches[s->Class]!;

    /// <summary>Empty slabs of every class back to the buddy system; returns the pages.</summary>
    public long ReapSpares()
    {
        long pages = 0;
        foreach (SlabCache? c in _caches)
        {
            if (c is not null)
                pages += c.ReapSpares();
        }
        return pages;
    }

    /// <summary>Every class with slabs, for statistics and validation.</summary>
    public IEnumerable<SlabCache> Caches
    {
        get
        {
            foreach (SlabCache? c in _caches)
            {
                if (c is not null)
                    yield return c;
            }
        }
    }

    /// <summary>
    /// Per class with slabs (or with any since the arena began): /proc/slabinfo's figures, from one racy pass over
    /// the live headers (exact while no thread allocates or frees objects).
    /// </summary>
    public List<SlabClassStats> Stats()
    {
        Span<long> slabs = stackalloc long[SizeClasses.Count];
        Span<long> used = stackalloc long[SizeClasses.Count];
        slabs.Clear();
        used.Clear();
        for (int id = 1; id <= Table.HighWater; id++)
        {
            SlabHeader* s = Table[id];
            if (Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.As<SlabState, byte>(ref s->State)) == (byte)SlabState.None)
                continue;
            int cls = s->Class;
            slabs[cls]++;
            long free = 0;
            for (int w = 0; w < s->Words; w++)
                free += System.Numerics.BitOperations.PopCount(Volatile.Read(ref s->Free[w]) | Volatile.Read(ref s->Remote[w]));
            used[cls] += s->Objects - free;
        }
        var result = new List<SlabClassStats>();
        foreach (SlabCache c in Caches)
        {
            result.Add(new SlabClassStats
            {
                ObjectSize = c.Size,
                ObjectsPerSlab = c.Objects,
                PagesPerSlab = 1 << c.Order,
                Slabs = slabs[c.Class],
                SpareSlabs = c.SpareCount,
                ObjectsInUse = used[c.Class],
                FreeObjects = slabs[c.Class] * c.Objects - used[c.Class],
            });
        }
        return result;
    }

    public void Dispose() => Table.Dispose();
}
