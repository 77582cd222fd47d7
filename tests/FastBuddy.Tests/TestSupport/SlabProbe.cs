namespace FastBuddy.Tests.TestSupport;

/// <summary>What the slab layer holds, from the public statistics, and the checks that it gave everything back.</summary>
internal static class SlabProbe
{
    /// <summary>Pages held by empty spare slabs (kept for hysteresis, given back under pressure).</summary>
    public static long SparePages(ArenaStats stats)
    {
        long pages = 0;
        foreach (SlabClassStats c in stats.SlabClasses)
            pages += c.SpareSlabs * c.PagesPerSlab;
        return pages;
    }

    /// <summary>The statistics line of the class whose objects are <paramref name="size"/> bytes.</summary>
    public static SlabClassStats Class(BuddyArena arena, int size)
        => Assert.Single(arena.GetStats().SlabClasses, c => c.ObjectSize == size);

    /// <summary>
    /// After every object was freed: Validate (which drains every magazine), then no object is in use, every slab
    /// left is an empty spare, and every page is free, parked or in a spare slab.
    /// </summary>
    public static void AssertEveryObjectFreed_AndEveryPageBack(BuddyArena arena)
    {
        arena.Validate();
        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.SlabObjects);
        Assert.Equal(0, s.SlabObjectBytes);
        foreach (SlabClassStats c in s.SlabClasses)
        {
            Assert.Equal(0, c.ObjectsInUse);
            Assert.Equal(c.SpareSlabs, c.Slabs);
            Assert.Equal(c.Slabs * c.ObjectsPerSlab, c.FreeObjects);
        }
        Assert.Equal(SparePages(s), s.SlabPages);
        Assert.Equal(s.TotalPages, s.FreePages + s.PerCpuPages + SparePages(s));
    }

    /// <summary>Gives every spare slab's pages back, as memory pressure does (kswapd, direct reclaim); returns the pages.</summary>
    public static long ReapSpares(BuddyArena arena) => arena.Policy.Slabs?.ReapSpares() ?? 0;
}
