using FastBuddy.Buddy;

namespace FastBuddy.Tests.TestSupport;

/// <summary>A block the test holds: address, order, and the seed of the pattern written into it.</summary>
internal readonly record struct LiveBlock(nint Address, int Order, ulong Seed);

/// <summary>
/// The reference model of a single-threaded operation sequence: the set of live blocks as page intervals.
/// Adding a block checks that it is aligned to its size, lies wholly inside one zone and overlaps no live block;
/// the arena's free page count must always be the total minus the live pages.
/// </summary>
internal sealed unsafe class LiveBlockModel
{
    private readonly BuddyArena _arena;
    private readonly bool[][] _busy;
    private readonly List<nint> _keys = [];
    private readonly Dictionary<nint, (LiveBlock Block, int Index)> _live = [];

    public LiveBlockModel(BuddyArena arena)
    {
        _arena = arena;
        _busy = new bool[arena.ZoneCount][];
        for (int i = 0; i < _busy.Length; i++)
            _busy[i] = new bool[arena.Zones[i].Pages];
        TotalPages = arena.GetStats().TotalPages;
    }

    public long TotalPages { get; }
    public long LivePages { get; private set; }
    public int Count => _keys.Count;

    /// <summary>The <paramref name="index"/>-th live block (any stable order, for random picks).</summary>
    public LiveBlock this[int index] => _live[_keys[index]].Block;

    public IEnumerable<LiveBlock> Blocks => _keys.Select(k => _live[k].Block);

    public IEnumerable<(nint Address, int Order)> Intervals => _keys.Select(k => (k, _live[k].Block.Order));

    public bool Contains(void* p) => _live.ContainsKey((nint)p);

    /// <summary>
    /// Records a block the arena just handed out, checking alignment, bounds and overlap, and fills it with the
    /// pattern of <paramref name="seed"/>.
    /// </summary>
    public void Add(void* p, int order, ulong seed)
    {
        Assert.True(p != null, "Add needs a block.");
        nuint bytes = _arena.BlockBytes(order);
        Assert.True((nuint)p % bytes == 0, $"Block 0x{(nint)p:x} of order {order} is not aligned to {bytes} bytes.");
        int zoneIndex = ZoneProbe.ZoneIndexOf(_arena, p);
        Assert.True(zoneIndex >= 0, $"Block 0x{(nint)p:x} lies in no zone.");
        Zone zone = _arena.Zones[zoneIndex];
        int page = (int)(((nint)p - zone.Base) >> zone.PageShift);
        Assert.True(page + (1 << order) <= zone.Pages, $"Block at page {page} of order {order} reaches past the end of zone {zone.Name} ({zone.Pages} pages).");
        bool[] busy = _busy[zoneIndex];
        for (int i = page; i < page + (1 << order); i++)
        {
            Assert.False(busy[i], $"Block 0x{(nint)p:x} of order {order} overlaps a live block at page {i} of zone {zone.Name}.");
            busy[i] = true;
        }
        Patterns.Fill(p, bytes, seed);
        _live.Add((nint)p, (new LiveBlock((nint)p, order, seed), _keys.Count));
        _keys.Add((nint)p);
        LivePages += 1L << order;
    }

    /// <summary>Forgets a block the test is about to free (or just freed).</summary>
    public LiveBlock Remove(void* p)
    {
        Assert.True(_live.Remove((nint)p, out (LiveBlock Block, int Index) entry), $"0x{(nint)p:x} is not live in the model.");
        int last = _keys.Count - 1;
        nint moved = _keys[last];
        _keys[entry.Index] = moved;
        _keys.RemoveAt(last);
        if (moved != (nint)p)
            _live[moved] = (_live[moved].Block, entry.Index);

        int zoneIndex = ZoneProbe.ZoneIndexOf(_arena, p);
        Zone zone = _arena.Zones[zoneIndex];
        int page = (int)(((nint)p - zone.Base) >> zone.PageShift);
        Array.Fill(_busy[zoneIndex], false, page, 1 << entry.Block.Order);
        LivePages -= 1L << entry.Block.Order;
        return entry.Block;
    }

    /// <summary>True when the <paramref name="pages"/> pages from <paramref name="p"/> lie in one zone and hold no live page.</summary>
    public bool RangeIsFree(void* p, int pages)
    {
        int zoneIndex = ZoneProbe.ZoneIndexOf(_arena, p);
        if (zoneIndex < 0)
            return false;
        Zone zone = _arena.Zones[zoneIndex];
        int page = (int)(((nint)p - zone.Base) >> zone.PageShift);
        if (page + pages > zone.Pages)
            return false;
        return Array.IndexOf(_busy[zoneIndex], true, page, pages) < 0;
    }

    /// <summary>The arena's free page count is the total minus the live pages, in the stats and per zone.</summary>
    public void AssertFreePageCount()
    {
        ArenaStats stats = _arena.GetStats();
        Assert.Equal(TotalPages - LivePages, stats.FreePages + stats.PerCpuPages);
        Assert.Equal(stats.FreePages, stats.Zones.Sum(z => z.FreePages));
    }

    /// <summary>Every live block still holds its pattern.</summary>
    public void AssertPatternsIntact()
    {
        foreach (LiveBlock b in Blocks)
            Patterns.AssertIntact((void*)b.Address, _arena.BlockBytes(b.Order), b.Seed);
    }

    /// <summary>The full check: Validate, counts, the exact free areas and merge bitmaps of the model, and the patterns.</summary>
    public void AssertArenaMatches()
    {
        _arena.Validate();
        AssertFreePageCount();
        BuddyModel.AssertArenaState(_arena, Intervals);
        AssertPatternsIntact();
    }
}
