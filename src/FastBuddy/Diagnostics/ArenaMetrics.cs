using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FastBuddy.Diagnostics;

/// <summary>
/// The "FastBuddy" <see cref="Meter"/>: observable instruments over every live arena, read only when a listener
/// collects (nothing is recorded on the allocation path).
/// </summary>
/// <remarks>
/// <para>
/// Each collection of an instrument takes one <see cref="BuddyArena.GetStats"/> snapshot per live arena and
/// reports what that snapshot knows: per-zone values carry a <c>zone</c> tag (the zone's name), and when more than
/// one arena is alive every measurement also carries an <c>arena</c> tag (a number given at creation, 1, 2, ...).
/// Allocations carry a <c>step</c> tag (the step of the allocation path that served them), failures an
/// <c>order</c> tag, LRU pages a <c>list</c> tag, watermarks a <c>watermark</c> tag and free blocks an
/// <c>order</c> tag. The README's "Metrics and logging" section lists every instrument.
/// </para>
/// <para>
/// One instrument is one line of the static constructor: <see cref="ZoneGauge"/> for a value of
/// <see cref="ZoneStats"/>, <see cref="ArenaGauge"/> and <see cref="ArenaCounter"/> for a value of
/// <see cref="ArenaStats"/>, and <see cref="Gauge"/> / <see cref="Counter"/> with a <see cref="Reader"/> for
/// anything tagged further.
/// </para>
/// </remarks>
internal static class ArenaMetrics
{
    public const string MeterName = "FastBuddy";

    private static readonly Meter s_meter = new(MeterName, "0.1.0");
    private static readonly Lock s_lock = new();
    private static readonly List<(int Id, WeakReference<BuddyArena> Arena)> s_arenas = [];
    private static int s_nextId;

    private static readonly (string Name, Func<AllocationStepCounts, long> Read)[] s_steps =
    [
        ("fast_path", s => s.FastPath),
        ("high", s => s.High),
        ("low", s => s.Low),
        ("min", s => s.Min),
        ("direct_reclaim", s => s.DirectReclaim),
        ("higher_order_reclaim", s => s.HigherOrderReclaim),
        ("final_phase", s => s.FinalPhase),
    ];

    private static readonly (string Name, Func<ZoneStats, long> Read)[] s_lists =
    [
        ("active", z => z.ActivePages),
        ("inactive_dirty", z => z.InactiveDirtyPages),
        ("inactive_clean", z => z.InactiveCleanPages),
    ];

    private static readonly (string Name, Func<ZoneStats, long> Read)[] s_watermarks =
    [
        ("min", z => z.PagesMin),
        ("low", z => z.PagesLow),
        ("high", z => z.PagesHigh),
    ];

    /// <summary>Reads one arena's snapshot into measurements.</summary>
    internal delegate void Reader(ArenaStats stats, Recorder into);

    static ArenaMetrics()
    {
        ZoneGauge("fastbuddy.pages.total", "{page}", "Pages in the zone.", z => z.Pages);
        ZoneGauge("fastbuddy.pages.free", "{page}", "Pages in the zone's free areas (not counting per-thread lists).", z => z.FreePages);
        ZoneGauge("fastbuddy.pages.per_cpu", "{page}", "Pages of the zone parked in per-thread lists.", z => z.PerCpuPages);
        Gauge("fastbuddy.lru.pages", "{page}", "Cached pages on the zone's LRU lists (tag list: active, inactive_dirty, inactive_clean).", PerZone(s_lists, "list"));
        Gauge("fastbuddy.watermark", "{page}", "The zone's watermarks (tag watermark: min, low, high).", PerZone(s_watermarks, "watermark"));
        Gauge("fastbuddy.free_blocks", "{block}", "Free blocks of the zone per order (tag order), as /proc/buddyinfo.", FreeBlocks);
        ArenaGauge("fastbuddy.memory_pressure", null, "2.4's memory_pressure: up on allocation and reclaim, down on free, decaying once a second.", s => s.MemoryPressure);
        ArenaGauge("fastbuddy.inactive_target", "{page}", "min(memory_pressure >> 6, total pages / 4).", s => s.InactiveTarget);
        Counter("fastbuddy.allocations", "{allocation}", "Successful allocations by the step that served them (tag step).", Steps);
        Counter("fastbuddy.failures", "{allocation}", "Allocations that returned null, by order (tag order).", Failures);
        ArenaCounter("fastbuddy.frees", "{block}", "Blocks given back by callers.", s => s.Frees);
        ArenaCounter("fastbuddy.reclaimed", "{page}", "Cache pages reclaimed (evicted).", s => s.Reclaimed);
        ArenaCounter("fastbuddy.laundered", "{page}", "Dirty cache pages written back clean.", s => s.Laundered);
        ArenaCounter("fastbuddy.kswapd.wakeups", "{wakeup}", "Wake-ups asked of the background reclaimer (kswapd or kreclaimd).", s => s.KswapdWakeups);
        ArenaCounter("fastbuddy.kswapd.passes", "{pass}", "kswapd passes run.", s => s.KswapdPasses);
        // The slab caches, per size class (tag size), as /proc/slabinfo.
        SlabGauge("fastbuddy.slab.objects", "{object}", "Objects in use per size class (tag size, bytes).", c => c.ObjectsInUse);
        SlabGauge("fastbuddy.slab.free_objects", "{object}", "Free objects in the slabs of each size class (tag size).", c => c.FreeObjects);
        SlabGauge("fastbuddy.slab.slabs", "{slab}", "Slabs alive per size class (tag size).", c => c.Slabs);
        ArenaGauge("fastbuddy.slab.pages", "{page}", "Pages held by slabs.", s => s.SlabPages);
        // Memory and the OS, per zone.
        ZoneGauge("fastbuddy.memory.committed", "By", "Bytes of the zone that may be resident (handed out, or free but touched since last decommitted).", z => z.CommittedBytes);
        ZoneGauge("fastbuddy.memory.decommitted", "By", "Bytes of the zone's free blocks given back to the operating system (or never touched).", z => z.DecommittedBytes);
        Counter("fastbuddy.decommits", "{block}", "Free blocks the decommit step has given back.", (stats, into) =>
        {
            foreach (ZoneStats zone in stats.Zones)
                into.Add(zone.Decommits, zone.Name);
        });
    }

    public static void Register(BuddyArena arena)
    {
        lock (s_lock)
        {
            s_arenas.RemoveAll(e => !e.Arena.TryGetTarget(out _));
            s_arenas.Add((++s_nextId, new WeakReference<BuddyArena>(arena)));
        }
    }

    public static void Unregister(BuddyArena arena)
    {
        lock (s_lock)
            s_arenas.RemoveAll(e => !e.Arena.TryGetTarget(out BuddyArena? a) || ReferenceEquals(a, arena));
    }

    /// <summary>The number an arena's measurements are tagged with (<c>arena</c>) while several arenas are alive.</summary>
    internal static int? IdOf(BuddyArena arena)
    {
        lock (s_lock)
        {
            foreach ((int id, WeakReference<BuddyArena> weak) in s_arenas)
            {
                if (weak.TryGetTarget(out BuddyArena? a) && ReferenceEquals(a, arena))
                    return id;
            }
        }
        return null;
    }

    // ------------------------------------------------------------ instrument kinds

    private static void ZoneGauge(string name, string? unit, string description, Func<ZoneStats, long> read)
        => Gauge(name, unit, description, (stats, into) =>
        {
            foreach (ZoneStats zone in stats.Zones)
                into.Add(read(zone), zone.Name);
        });

    private static void SlabGauge(string name, string? unit, string description, Func<SlabClassStats, long> read)
        => Gauge(name, unit, description, (stats, into) =>
        {
            foreach (SlabClassStats c in stats.SlabClasses)
            {
                if (c.Slabs > 0)
                    into.Add(read(c), tag: "size", tagValue: c.ObjectSize);
            }
        });

    private static void ArenaGauge(string name, string? unit, string description, Func<ArenaStats, long> read)
        => Gauge(name, unit, description, (stats, into) => into.Add(read(stats)));

    private static void ArenaCounter(string name, string? unit, string description, Func<ArenaStats, long> read)
        => Counter(name, unit, description, (stats, into) => into.Add(read(stats)));

    internal static void Gauge(string name, string? unit, string description, Reader read)
        => s_meter.CreateObservableGauge(name, () => Observe(read), unit, description);

    internal static void Counter(string name, string? unit, string description, Reader read)
        => s_meter.CreateObservableCounter(name, () => Observe(read), unit, description);

    // ------------------------------------------------------------ readers tagged further

    private static Reader PerZone((string Name, Func<ZoneStats, long> Read)[] values, string tag) => (stats, into) =>
    {
        foreach (ZoneStats zone in stats.Zones)
        {
            foreach ((string value, Func<ZoneStats, long> read) in values)
                into.Add(read(zone), zone.Name, tag, value);
        }
    };

    private static void FreeBlocks(ArenaStats stats, Recorder into)
    {
        foreach (ZoneStats zone in stats.Zones)
        {
            for (int order = 0; order < zone.FreeBlocks.Count; order++)
                into.Add(zone.FreeBlocks[order], zone.Name, "order", order);
        }
    }

    private static void Steps(ArenaStats stats, Recorder into)
    {
        foreach ((string step, Func<AllocationStepCounts, long> read) in s_steps)
            into.Add(read(stats.Steps), null, "step", step);
    }

    private static void Failures(ArenaStats stats, Recorder into)
    {
        for (int order = 0; order < stats.FailuresByOrder.Count; order++)
            into.Add(stats.FailuresByOrder[order], null, "order", order);
    }

    // ------------------------------------------------------------ collection

    private static List<Measurement<long>> Observe(Reader read)
    {
        var into = new Recorder();
        lock (s_lock)
        {
            int live = 0;
            foreach ((int _, WeakReference<BuddyArena> weak) in s_arenas)
            {
                if (weak.TryGetTarget(out BuddyArena? a) && !a.IsDisposed)
                    live++;
            }
            foreach ((int id, WeakReference<BuddyArena> weak) in s_arenas)
            {
                if (!weak.TryGetTarget(out BuddyArena? arena) || arena.IsDisposed)
                    continue;
                try
                {
                    into.ArenaId = live > 1 ? id : null;
                    read(arena.GetStats(), into);
                }
                catch (ObjectDisposedException)
                {
                    // disposed while we read it: it has nothing more to report
                }
            }
        }
        return into.Measurements;
    }

    /// <summary>Collects one instrument's measurements, adding the arena and zone tags.</summary>
    internal sealed class Recorder
    {
        public List<Measurement<long>> Measurements { get; } = [];

        /// <summary>The arena tag of the measurements being added (null while only one arena is alive).</summary>
        public int? ArenaId { get; set; }

        /// <summary>A measurement tagged with the arena (when several), the zone (when given) and one more tag.</summary>
        public void Add(long value, string? zone = null, string? tag = null, object? tagValue = null)
        {
            var tags = new TagList();
            if (ArenaId is int id)
                tags.Add("arena", id);
            if (zone is not null)
                tags.Add("zone", zone);
            if (tag is not null)
                tags.Add(tag, tagValue);
            Measurements.Add(new Measurement<long>(value, in tags));
        }
    }
}
