using System.Globalization;
using System.Text;

namespace FastBuddy.Benchmarks.Facts;

/// <summary>
/// The memory efficiency of the byte API on small objects: a mixed workload of sizes 8..2048 bytes, and a million
/// objects of 32 bytes in a 64 MiB arena. Part of the facts verb (<see cref="FactsRunner"/>).
/// </summary>
/// <remarks>
/// "Pages taken from the arena" is <c>TotalPages - FreePages - PerCpuPages</c> of <see cref="BuddyArena.GetStats"/>:
/// every page that is neither in the buddy free areas nor parked in a per-thread magazine, so pages held by slabs
/// (with their free objects, including objects parked in per-thread object caches) and page blocks handed out
/// count; the metadata outside the arena (descriptors, bitmaps, slab bookkeeping kept out of band) does not. Both
/// workloads use <see cref="BuddyArena.Alloc"/> with its default flags (<see cref="AllocFlags.Kernel"/>) on an arena
/// with default options except <c>BackgroundReclaim = false</c> (no reclaimer thread: the figures do not depend on
/// its timing); a phase stops at its first failed allocation (so a failure costs at most one allocation wait).
/// </remarks>
internal static unsafe class SmallObjectFacts
{
    private const int PageSize = 4096;
    private const int MixedArenaMiB = 256;
    private const int TinyArenaMiB = 64;
    private const int TinySize = 32;

    /// <summary>Size bands of the mixed workload: (smallest, largest, weight %); sizes are uniform within a band.</summary>
    private static readonly (int Min, int Max, int Weight)[] Bands =
    [
        (8, 32, 35), (33, 64, 20), (65, 128, 15), (129, 256, 12), (257, 512, 8), (513, 1024, 6), (1025, 2048, 4),
    ];

    public static void Write(StringBuilder md, int mixedObjects, int tinyObjects, int seed)
    {
        md.AppendLine("## Small objects: memory efficiency");
        md.AppendLine();
        md.AppendLine(
            "Pages taken from the arena = `TotalPages - FreePages - PerCpuPages` (`GetStats`): every page neither free in the " +
            "buddy system nor parked in a per-thread page magazine, i.e. slab pages (with their free objects, also those " +
            "cached per thread) and page blocks handed out; metadata outside the arena is not counted. " +
            "Efficiency = bytes requested by the live objects / (pages taken x 4 KiB). " +
            "`Alloc(bytes)` with its default flags (Kernel), arenas with default options except BackgroundReclaim = false; " +
            "a phase stops at its first failed allocation.");
        md.AppendLine();
        Mixed(md, mixedObjects, seed);
        Tiny(md, tinyObjects);
    }

    // ------------------------------------------------------------------ mixed sizes

    private static void Mixed(StringBuilder md, int objects, int seed)
    {
        using var arena = new BuddyArena(new ArenaOptions { ArenaBytes = (nuint)MixedArenaMiB << 20, PageSize = PageSize, BackgroundReclaim = false });
        var rng = new Random(seed);
        var live = new List<(nint P, int Size)>(objects);
        long requested = 0;
        long taken0 = Taken(arena.GetStats());

        // 1. allocate `objects`; 2. free a random half; 3. allocate half as many again.
        (int first, FastBuddyStatus firstStop) = AllocMany(arena, rng, live, objects, ref requested);
        int freed = FreeRandomHalf(arena, rng, live, ref requested);
        (int second, FastBuddyStatus secondStop) = AllocMany(arena, rng, live, objects / 2, ref requested);

        ArenaStats busy = arena.GetStats();
        long taken = Taken(busy) - taken0;
        long usable = 0;
        foreach ((nint p, _) in live)
            usable += (long)arena.UsableSize((void*)p);
        foreach ((nint p, _) in live)
            arena.Free((void*)p);
        long takenFreed = Taken(arena.GetStats()) - taken0;
        arena.Balance();
        arena.Validate();
        long takenBalanced = Taken(arena.GetStats()) - taken0;

        double takenBytes = (double)taken * PageSize;
        string bands = string.Join(", ", Bands.Select(b => $"{b.Min}-{b.Max} B {b.Weight} %"));
        md.AppendLine(CultureInfo.InvariantCulture, $"### Mixed sizes 8..2048 bytes");
        md.AppendLine();
        md.AppendLine(
            $"{MixedArenaMiB} MiB arena. Seeded workload (seed {seed}): sizes drawn from bands ({bands}; uniform within a band, " +
            $"mean {MeanSize():0} B). Phase 1 allocates {objects:N0} objects ({first:N0} succeeded{Stop(first, objects, firstStop)}); " +
            $"phase 2 frees a random half of them ({freed:N0}); phase 3 allocates {objects / 2:N0} more " +
            $"({second:N0} succeeded{Stop(second, objects / 2, secondStop)}). Measured after phase 3, {live.Count:N0} objects live.");
        md.AppendLine();
        Table(md,
            ("bytes requested (live objects)", $"{requested:N0} ({FactsRunner.Bytes(requested)})"),
            ("usable bytes (sum of `UsableSize`)", $"{usable:N0} ({FactsRunner.Bytes(usable)})"),
            ("pages taken from the arena", $"{taken:N0} ({FactsRunner.Bytes(takenBytes)})"),
            ("**efficiency: requested / taken** (target >= 85 %)", $"**{Percent(requested, takenBytes)}**"),
            ("of which size rounding: requested / usable", Percent(requested, usable)),
            ("of which packing: usable / taken", Percent(usable, takenBytes)),
            ("slab pages (`SlabPages`), objects in slabs (`SlabObjects`)", $"{busy.SlabPages:N0}, {busy.SlabObjects:N0}"),
            ("pages taken after freeing every object", $"{takenFreed:N0}"),
            ("pages taken after `Balance()` and `Validate()`", $"{takenBalanced:N0}"));
        md.AppendLine();
        SlabClasses(md, busy);
        md.AppendLine();
    }

    /// <summary>The size classes that hold slabs after the workload, like <c>/proc/slabinfo</c>.</summary>
    private static void SlabClasses(StringBuilder md, ArenaStats s)
    {
        md.AppendLine("Slab caches after phase 3 (classes holding slabs; fill = objects in use / room in the slabs):");
        md.AppendLine();
        md.AppendLine("| class | objects per slab | pages per slab | slabs | spare slabs | objects in use | free objects | fill |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (SlabClassStats c in s.SlabClasses)
        {
            if (c.Slabs == 0)
                continue;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {c.ObjectSize} B | {c.ObjectsPerSlab} | {c.PagesPerSlab} | {c.Slabs:N0} | {c.SpareSlabs:N0} | {c.ObjectsInUse:N0} | {c.FreeObjects:N0} | {Percent(c.ObjectsInUse, c.Slabs * c.ObjectsPerSlab)} |");
        }
    }

    /// <summary>Allocates up to <paramref name="count"/> objects of random sizes; stops at the first failure.</summary>
    private static (int Done, FastBuddyStatus Stop) AllocMany(BuddyArena arena, Random rng, List<(nint, int)> live, int count, ref long requested)
    {
        for (int i = 0; i < count; i++)
        {
            int size = NextSize(rng);
            void* p = arena.Alloc((nuint)size);
            if (p == null)
                return (i, BuddyArena.LastError);
            live.Add(((nint)p, size));
            requested += size;
        }
        return (count, FastBuddyStatus.Ok);
    }

    private static int FreeRandomHalf(BuddyArena arena, Random rng, List<(nint P, int Size)> live, ref long requested)
    {
        int half = live.Count / 2;
        for (int i = 0; i < half; i++)
        {
            int j = rng.Next(live.Count);
            (nint p, int size) = live[j];
            live[j] = live[^1];
            live.RemoveAt(live.Count - 1);
            arena.Free((void*)p);
            requested -= size;
        }
        return half;
    }

    private static int NextSize(Random rng)
    {
        int r = rng.Next(100);
        foreach ((int min, int max, int weight) in Bands)
        {
            if (r < weight)
                return rng.Next(min, max + 1);
            r -= weight;
        }
        throw new InvalidOperationException("The size band weights must sum to 100.");
    }

    private static double MeanSize() => Bands.Sum(b => (b.Min + b.Max) / 2.0 * b.Weight) / 100;

    // ------------------------------------------------------------------ a million objects of 32 bytes

    private static void Tiny(StringBuilder md, int objects)
    {
        using var arena = new BuddyArena(new ArenaOptions { ArenaBytes = (nuint)TinyArenaMiB << 20, PageSize = PageSize, BackgroundReclaim = false });
        var live = new nint[objects];
        ArenaStats before = arena.GetStats();
        int done = 0;
        FastBuddyStatus stop = FastBuddyStatus.Ok;
        for (; done < objects; done++)
        {
            void* p = arena.Alloc(TinySize);
            if (p == null)
            {
                stop = BuddyArena.LastError;
                break;
            }
            live[done] = (nint)p;
        }
        ArenaStats busy = arena.GetStats();
        long taken = Taken(busy) - Taken(before);
        for (int i = 0; i < done; i++)
            arena.Free((void*)live[i]);
        arena.Validate();

        long requested = (long)done * TinySize;
        bool fits = done == objects;
        md.AppendLine(CultureInfo.InvariantCulture, $"### {objects:N0} objects of {TinySize} bytes in a {TinyArenaMiB} MiB arena");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"`Alloc({TinySize})` {objects:N0} times, all held, then all freed; {busy.TotalPages:N0} pages in the arena.");
        md.AppendLine();
        Table(md,
            ("**objects allocated** (target: all fit)", $"**{done:N0} of {objects:N0}: {(fits ? "all fit" : $"do not fit (stopped: {stop})")}**"),
            ("pages taken from the arena", $"{taken:N0} of {busy.TotalPages:N0} ({Percent(taken, busy.TotalPages)} of the arena)"),
            ("efficiency: requested / taken", Percent(requested, (double)taken * PageSize)),
            ("free pages left (`FreePages`, `PerCpuPages`)", $"{busy.FreePages:N0}, {busy.PerCpuPages:N0}"));
        md.AppendLine();
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>A two-column markdown table (what, value), values right-aligned.</summary>
    private static void Table(StringBuilder md, params (string What, string Value)[] rows)
    {
        md.AppendLine("| what | value |");
        md.AppendLine("|---|---:|");
        foreach ((string what, string value) in rows)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {value} |");
    }

    private static long Taken(ArenaStats s) => s.TotalPages - s.FreePages - s.PerCpuPages;

    private static string Percent(double part, double whole) => whole > 0 ? $"{100 * part / whole:0.0} %" : "-";

    private static string Stop(int done, int wanted, FastBuddyStatus status) => done == wanted ? "" : $", then stopped: {status}";
}
