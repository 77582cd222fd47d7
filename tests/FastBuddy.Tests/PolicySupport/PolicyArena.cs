using System.Numerics;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Tests.PolicySupport;

/// <summary>
/// Arena factories for policy tests: one zone with small explicit watermarks, so that every step of the allocation
/// path can be reached with a few hundred allocations.
/// </summary>
internal static class PolicyArena
{
    /// <summary>Pages of the default test zone.</summary>
    public const int Pages = 256;
    public const long Min = 16;
    public const long Low = 32;
    public const long High = 48;

    /// <summary>The reserve floor a non-MemAlloc rmqueue must leave: pages_min / 4.</summary>
    public const long Floor = Min / 4;

    /// <summary>Direct reclaim happens only below pages_min + 8 free pages.</summary>
    public const long DirectReclaimBelow = Min + 8;

    public const int PageSize = 4096;

    /// <summary>
    /// One zone "Normal" of <paramref name="pages"/> pages with explicit watermarks. Defaults: no background
    /// reclaim, a 50 ms AllocWaitTimeout (so an unintended wait stays short) and no per-CPU lists
    /// (<paramref name="perCpuPages"/> = 0), so that every allocation and free moves the zone's free_pages by
    /// exactly its size and a test can put a zone at an exact free count; tests of the policy's interplay with the
    /// per-CPU lists turn them on.
    /// </summary>
    public static BuddyArena Create(
        int pages = Pages, long min = Min, long low = Low, long high = High,
        bool background = false, TimeSpan? allocWait = null, ILogger? logger = null,
        OutOfMemoryHandler? outOfMemory = null, int pageSize = PageSize, int perCpuPages = -1)
    {
        if (perCpuPages < 0)
            perCpuPages = DefaultMagazinePages;
        var options = new ArenaOptions
        {
            PageSize = pageSize,
            MaxOrder = MaxOrderFor(pages),
            BackgroundReclaim = background,
            AllocWaitTimeout = allocWait ?? TimeSpan.FromMilliseconds(50),
            Logger = logger,
            OutOfMemory = outOfMemory,
            PerCpuPages = perCpuPages,
        };
        // The default PerCpuOrders (9) is rejected when MaxOrder is smaller, even with the lists off.
        options.PerCpuOrders = Math.Min(options.PerCpuOrders, options.MaxOrder);
        options.Zones.Add(new ZoneOptions("Normal", (nuint)pages * (nuint)pageSize) { PagesMin = min, PagesLow = low, PagesHigh = high });
        return new BuddyArena(options);
    }

    /// <summary>
    /// The magazine size of arenas whose test does not choose one: 0 (off, exact zone states), or the value of
    /// FASTBUDDY_POLICY_MAGAZINES, with which tests/run-all.sh runs the policy suite a second time in the library's
    /// default configuration (magazines on).
    /// </summary>
    public static int DefaultMagazinePages { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("FASTBUDDY_POLICY_MAGAZINES"), out int pages) ? pages : 0;

    /// <summary>Several zones, low to high, each with explicit watermarks (min, low, high).</summary>
    public static BuddyArena CreateZones(bool background, params (string Name, int Pages, long Min, long Low, long High)[] zones)
    {
        var options = new ArenaOptions
        {
            PerCpuPages = 0,
            PageSize = PageSize,
            MaxOrder = MaxOrderFor(zones.Max(z => z.Pages)),
            BackgroundReclaim = background,
            AllocWaitTimeout = TimeSpan.FromMilliseconds(50),
        };
        foreach (var z in zones)
            options.Zones.Add(new ZoneOptions(z.Name, (nuint)z.Pages * PageSize) { PagesMin = z.Min, PagesLow = z.Low, PagesHigh = z.High });
        return new BuddyArena(options);
    }

    /// <summary>Enough orders for one block to cover the zone, at most the default 11.</summary>
    public static int MaxOrderFor(int pages) => Math.Min(11, BitOperations.Log2((uint)pages) + 1);
}
