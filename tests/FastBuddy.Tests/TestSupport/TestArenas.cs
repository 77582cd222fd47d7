namespace FastBuddy.Tests.TestSupport;

/// <summary>
/// Arena factories for mechanism tests: no background thread, no waiting, and tiny explicit watermarks
/// (min = low = high = 1, so the reserve floor pages_min / 4 is 0) so that the allocation policy stays out of the way.
/// Per-CPU page lists are off unless asked for, so that every free reaches the buddy system at once and the free
/// areas can be compared exactly with <see cref="BuddyModel"/>.
/// </summary>
internal static class TestArenas
{
    /// <summary>
    /// Flags for mechanism tests: a MemAlloc caller may take the whole reserve and never waits, reclaims or launders,
    /// so a request fails exactly when no free block of the order exists in the zonelist.
    /// </summary>
    public const AllocFlags Mechanism = AllocFlags.MemAlloc;

    /// <summary>
    /// Options without background threads and without waiting; no zones and no size yet. With
    /// <paramref name="perCpuLists"/> the per-CPU lists keep their default sizes; without, they are off.
    /// </summary>
    public static ArenaOptions Options(int pageSize = 4096, int maxOrder = 11, bool perCpuLists = false)
    {
        var options = new ArenaOptions
        {
            PageSize = pageSize,
            MaxOrder = maxOrder,
            BackgroundReclaim = false,
            AllocWaitTimeout = TimeSpan.Zero,
        };
        if (perCpuLists)
            options.PerCpuOrders = Math.Min(options.PerCpuOrders, maxOrder); // the default (9) is refused below MaxOrder 9
        else
            (options.PerCpuPages, options.PerCpuOrders) = (0, 0);
        return options;
    }

    /// <summary>A zone of <paramref name="pages"/> whole pages with watermarks 1/1/1.</summary>
    public static ZoneOptions TinyWatermarkZone(string name, long pages, int pageSize = 4096)
        => new(name, (nuint)pages * (nuint)pageSize) { PagesMin = 1, PagesLow = 1, PagesHigh = 1 };

    /// <summary>One zone "Normal" of <paramref name="pages"/> pages with watermarks 1/1/1.</summary>
    public static BuddyArena SingleZone(long pages, int pageSize = 4096, int maxOrder = 11, bool perCpuLists = false)
    {
        ArenaOptions options = Options(pageSize, maxOrder, perCpuLists);
        options.Zones.Add(TinyWatermarkZone("Normal", pages, pageSize));
        return new BuddyArena(options);
    }

    /// <summary>One zone that is exactly one block of the largest order.</summary>
    public static BuddyArena OneLargestBlock(int maxOrder = 11, int pageSize = 4096)
        => SingleZone(1L << (maxOrder - 1), pageSize, maxOrder);

    /// <summary>Zones "Z0", "Z1", ... (low to high) of the given page counts, each with watermarks 1/1/1.</summary>
    public static BuddyArena Zoned(int pageSize, int maxOrder, params long[] pagesPerZone)
        => Zoned(pageSize, maxOrder, perCpuLists: false, pagesPerZone);

    /// <summary>Zones "Z0", "Z1", ... (low to high), each with watermarks 1/1/1, per-CPU lists as asked.</summary>
    public static BuddyArena Zoned(int pageSize, int maxOrder, bool perCpuLists, params long[] pagesPerZone)
    {
        ArenaOptions options = Options(pageSize, maxOrder, perCpuLists);
        for (int i = 0; i < pagesPerZone.Length; i++)
            options.Zones.Add(TinyWatermarkZone($"Z{i}", pagesPerZone[i], pageSize));
        return new BuddyArena(options);
    }

    /// <summary>One zone of <paramref name="pages"/> pages whose watermarks follow the 2.4 rule (computed).</summary>
    public static BuddyArena ComputedWatermarks(long pages, int pageSize = 64, int maxOrder = 11)
    {
        ArenaOptions options = Options(pageSize, maxOrder);
        options.Zones.Add(new ZoneOptions("Normal", (nuint)pages * (nuint)pageSize));
        return new BuddyArena(options);
    }

    /// <summary>Bytes of a block of <paramref name="order"/>.</summary>
    public static nuint BlockBytes(this BuddyArena arena, int order) => (nuint)arena.PageSize << order;
}
