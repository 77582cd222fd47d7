using System.Text;

namespace FastBuddy.Tests.TestSupport;

/// <summary>Snapshots of what a bad call must leave unchanged, and the assertion that it did.</summary>
internal static class ArenaState
{
    /// <summary>Totals, counters, per zone the free pages and free blocks per order, and per size class the slabs, as one comparable text.</summary>
    public static string Describe(BuddyArena arena)
    {
        ArenaStats s = arena.GetStats();
        var sb = new StringBuilder();
        sb.Append($"total {s.TotalPages} free {s.FreePages} percpu {s.PerCpuPages} allocs {s.Allocations} frees {s.Frees} failures {s.Failures}");
        foreach (ZoneStats z in s.Zones)
            sb.Append($"\n{z.Name}: pages {z.Pages} free {z.FreePages} blocks [{string.Join(",", z.FreeBlocks)}]");
        // The slab caches: per size class the slabs, spares and objects in use.
        sb.Append($"\nslab pages {s.SlabPages} objects {s.SlabObjects} bytes {s.SlabObjectBytes}");
        foreach (SlabClassStats c in s.SlabClasses)
        {
            if (c.Slabs != 0)
                sb.Append($"\n{c.ObjectSize} B: slabs {c.Slabs} spare {c.SpareSlabs} in use {c.ObjectsInUse} free {c.FreeObjects}");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Runs <paramref name="call"/>, which must throw <see cref="FastBuddyException"/> with <paramref name="expected"/>,
    /// then checks that the arena still validates and that no count changed.
    /// </summary>
    public static FastBuddyException AssertRejected(BuddyArena arena, FastBuddyStatus expected, Action call)
    {
        arena.Validate();
        string before = Describe(arena);
        FastBuddyException ex = Assert.Throws<FastBuddyException>(call);
        Assert.Equal(expected, ex.Status);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message), "A rejected call must say why.");
        arena.Validate();
        Assert.Equal(before, Describe(arena));
        return ex;
    }

    /// <summary>Asserts that options are refused with <see cref="FastBuddyStatus.InvalidArgument"/> before any arena exists.</summary>
    public static FastBuddyException AssertOptionsRejected(ArenaOptions options)
    {
        BuddyArena? created = null;
        try
        {
            FastBuddyException ex = Assert.Throws<FastBuddyException>(() => created = new BuddyArena(options));
            Assert.Equal(FastBuddyStatus.InvalidArgument, ex.Status);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message), "A rejected option must say why.");
            return ex;
        }
        finally
        {
            created?.Dispose();
        }
    }
}
