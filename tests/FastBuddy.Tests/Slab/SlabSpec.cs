using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// The base of the slab specifications: every test runs twice, with per-thread magazines (each thread owns its
/// slabs, the library's default) and without them (<c>PerCpuPages = 0</c>: every slab is shared and each object is
/// taken under its class lock). Arenas have no background thread, never wait and have tiny watermarks, so a request
/// fails only when no page is left.
/// </summary>
public abstract unsafe class SlabSpec(bool magazines)
{
    /// <summary>True: per-thread magazines on (owned slabs); false: the shared mode.</summary>
    protected bool Magazines { get; } = magazines;

    /// <summary>Flags that never wait or reclaim: a request fails exactly when the zone has no block for it.</summary>
    protected const AllocFlags Mechanism = TestArenas.Mechanism;

    /// <summary>One zone of <paramref name="pages"/> pages (16 MiB at the defaults), 11 orders: SmallMax is 32 KiB.</summary>
    protected BuddyArena NewArena(long pages = 4096, int pageSize = 4096, int maxOrder = 11)
    {
        ArenaOptions options = TestArenas.Options(pageSize, maxOrder, perCpuLists: Magazines);
        options.Zones.Add(TestArenas.TinyWatermarkZone("Normal", pages, pageSize));
        return new BuddyArena(options);
    }

    /// <summary>Every size class at the default geometry (4 KiB pages, 11 orders), smallest first.</summary>
    public static TheoryData<int> ClassSizes()
    {
        var data = new TheoryData<int>();
        for (int cls = 0; cls < FastBuddy.Slab.SizeClasses.Count; cls++)
            data.Add(FastBuddy.Slab.SizeClasses.SizeOf(cls));
        return data;
    }

    /// <summary>The alignment the byte API promises an object of class <paramref name="size"/>: 16, or 8 for odd multiples of 8.</summary>
    protected static int AlignmentOf(int size) => (size / 8) % 2 == 1 ? 8 : 16;

    /// <summary>Everything a rejected call must leave as it was (<see cref="ArenaState.Describe"/>, slab caches included).</summary>
    protected static string Describe(BuddyArena arena) => ArenaState.Describe(arena);

    /// <summary><see cref="ArenaState.AssertRejected"/>: the status, a message, and nothing changed.</summary>
    protected static void AssertRejected(BuddyArena arena, FastBuddyStatus expected, Action call)
        => ArenaState.AssertRejected(arena, expected, call);

    /// <summary>The statistics line of the class of <paramref name="size"/>-byte objects.</summary>
    protected static SlabClassStats ClassOf(BuddyArena arena, int size) => SlabProbe.Class(arena, size);
}
