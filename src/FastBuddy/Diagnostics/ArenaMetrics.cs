using System.Diagnostics.Metrics;

namespace FastBuddy.Diagnostics;

/// <summary>
/// The "FastBuddy" <see cref="Meter"/>: observable gauges over every live arena, tagged with the arena's id, read
/// only when a listener collects (nothing is recorded on the allocation path).
/// </summary>
internal static class ArenaMetrics
{
    public const string MeterName = "FastBuddy";

    private static readonly Meter s_meter = new(MeterName, "0.1.0");
    private static readonly Lock s_lock = new();
    private static readonly List<(int Id, WeakReference<BuddyArena> Arena)> s_arenas = [];
    private static int s_nextId;

    static ArenaMetrics()
    {
        s_meter.CreateObservableGauge("fastbuddy.pages.free", () => Observe(s => s.FreePages), "{page}", "Pages in the free areas.");
        s_meter.CreateObservableGauge("fastbuddy.pages.total", () => Observe(s => s.TotalPages), "{page}", "Pages in the arena.");
        s_meter.CreateObservableGauge("fastbuddy.pages.cached", () => Observe(s => s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages), "{page}", "Pages in the page cache.");
        s_meter.CreateObservableGauge("fastbuddy.memory_pressure", () => Observe(s => s.MemoryPressure), null, "2.4's memory_pressure.");
        s_meter.CreateObservableCounter("fastbuddy.allocations", () => Observe(s => s.Allocations), "{allocation}", "Successful allocations.");
        s_meter.CreateObservableCounter("fastbuddy.failures", () => Observe(s => s.Failures), "{allocation}", "Allocations that returned null.");
        s_meter.CreateObservableCounter("fastbuddy.reclaimed", () => Observe(s => s.Reclaimed), "{page}", "Cache pages reclaimed.");
        s_meter.CreateObservableCounter("fastbuddy.laundered", () => Observe(s => s.Laundered), "{page}", "Dirty cache pages written back.");
        RegisterMemoryInstruments();
    }

    // ---------------------------------------------------------------- memory and the OS (per zone)

    private static void RegisterMemoryInstruments()
    {
        s_meter.CreateObservableGauge("fastbuddy.memory.committed", () => ObserveZones(z => z.CommittedBytes), "By",
            "Bytes of the zone that may be resident (handed out, or free but touched since last decommitted).");
        s_meter.CreateObservableGauge("fastbuddy.memory.decommitted", () => ObserveZones(z => z.DecommittedBytes), "By",
            "Bytes of the zone's free blocks given back to the operating system (or never touched).");
        s_meter.CreateObservableCounter("fastbuddy.decommits", () => ObserveZones(z => z.Decommits), "{block}",
            "Free blocks the decommit step has given back.");
    }

    /// <summary>One measurement per zone of every live arena, tagged with the arena's id and the zone's name.</summary>
    private static IEnumerable<Measurement<long>> ObserveZones(Func<ZoneStats, long> read)
    {
        List<Measurement<long>> result = [];
        lock (s_lock)
        {
            foreach ((int id, WeakReference<BuddyArena> weak) in s_arenas)
            {
                if (!weak.TryGetTarget(out BuddyArena? arena) || arena.IsDisposed)
                    continue;
                try
                {
                    foreach (ZoneStats zone in arena.GetStats().Zones)
                        result.Add(new Measurement<long>(read(zone),
                            new KeyValuePair<string, object?>("arena", id), new KeyValuePair<string, object?>("zone", zone.Name)));
                }
                catch (ObjectDisposedException)
                {
                    // disposed while we read it
                }
            }
        }
        return result;
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

    private static IEnumerable<Measurement<long>> Observe(Func<ArenaStats, long> read)
    {
        List<Measurement<long>> result = [];
        lock (s_lock)
        {
            foreach ((int id, WeakReference<BuddyArena> weak) in s_arenas)
            {
                if (!weak.TryGetTarget(out BuddyArena? arena) || arena.IsDisposed)
                    continue;
                try
                {
                    result.Add(new Measurement<long>(read(arena.GetStats()), new KeyValuePair<string, object?>("arena", id)));
                }
                catch (ObjectDisposedException)
                {
                    // disposed while we read it
                }
            }
        }
        return result;
    }
}
