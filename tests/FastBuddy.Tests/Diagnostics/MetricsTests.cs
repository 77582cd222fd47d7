using FastBuddy.Tests.PolicySupport;
using FastBuddy.Diagnostics;
using FastBuddy.Tests.TestSupport;
using ArenaState = FastBuddy.Tests.PolicySupport.ArenaState;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Diagnostics;

/// <summary>
/// The "FastBuddy" meter, read through a <see cref="System.Diagnostics.Metrics.MeterListener"/>: every instrument
/// reports what <see cref="BuddyArena.GetStats"/> knows, per zone where the value is per zone.
/// </summary>
public sealed unsafe class MetricsTests
{
    private static BuddyArena TwoZones(bool background = false)
        => CreateZones(background, ("DMA", 128, 8, 16, 24), ("Normal", 256, 16, 32, 48));

    [Fact]
    public void PagesTotalFreeAndPerCpu_AreReportedPerZone_TaggedWithTheZoneName()
    {
        using BuddyArena arena = TwoZones();
        void* dma = arena.AllocPages(2, AllocFlags.Atomic, 0);
        void* normal = arena.AllocPages(3, AllocFlags.Atomic);
        ArenaStats stats = arena.GetStats();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        foreach (ZoneStats zone in stats.Zones)
        {
            Assert.Equal(zone.Pages, m.Value("fastbuddy.pages.total", zone.Name));
            Assert.Equal(zone.FreePages, m.Value("fastbuddy.pages.free", zone.Name));
            Assert.Equal(zone.PerCpuPages, m.Value("fastbuddy.pages.per_cpu", zone.Name));
        }
        Assert.Equal(128 - 4, m.Value("fastbuddy.pages.free", "DMA"));
        Assert.Equal(256 - 8, m.Value("fastbuddy.pages.free", "Normal"));
        arena.FreePages(dma, 2);
        arena.FreePages(normal, 3);
        arena.Validate();
    }

    [Fact]
    public void PerCpuPages_ShowPagesParkedInTheThreadsLists()
    {
        using BuddyArena arena = Create(perCpuPages: 64);
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        arena.FreePages(p, 0);
        ArenaStats stats = arena.GetStats();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        Assert.True(stats.PerCpuPages > 0);
        Assert.Equal(stats.PerCpuPages, m.Value("fastbuddy.pages.per_cpu", "Normal"));
        Assert.Equal(stats.FreePages, m.Value("fastbuddy.pages.free", "Normal"));
        arena.Validate();
    }

    [Fact]
    public void LruLists_AreReportedPerZoneAndList()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 5);
        ArenaState.AddToCache(arena, owner, 3, dirty: true);
        ArenaState.AgeToInactive(arena); // the 3 dirty pages go to inactive_dirty
        ArenaState.AddToCache(arena, owner, 2, dirty: false); // 2 new ones stay active
        ZoneStats zone = ArenaState.Stats(arena);

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        Assert.Equal((2, 3, 5), (zone.ActivePages, zone.InactiveDirtyPages, zone.InactiveCleanPages));
        Assert.Equal(2, m.Value("fastbuddy.lru.pages", "Normal", "list", "active"));
        Assert.Equal(3, m.Value("fastbuddy.lru.pages", "Normal", "list", "inactive_dirty"));
        Assert.Equal(5, m.Value("fastbuddy.lru.pages", "Normal", "list", "inactive_clean"));
    }

    [Fact]
    public void WatermarksAndFreeBlocks_AreReportedPerZone()
    {
        using BuddyArena arena = TwoZones();
        void* p = arena.AllocPages(0, AllocFlags.Atomic, 0);
        ArenaStats stats = arena.GetStats();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        Assert.Equal(8, m.Value("fastbuddy.watermark", "DMA", "watermark", "min"));
        Assert.Equal(32, m.Value("fastbuddy.watermark", "Normal", "watermark", "low"));
        Assert.Equal(48, m.Value("fastbuddy.watermark", "Normal", "watermark", "high"));
        foreach (ZoneStats zone in stats.Zones)
        {
            for (int order = 0; order < zone.FreeBlocks.Count; order++)
                Assert.Equal(zone.FreeBlocks[order], m.Value("fastbuddy.free_blocks", zone.Name, "order", order));
        }
        Assert.Equal(1, m.Value("fastbuddy.free_blocks", "DMA", "order", 0)); // the split left one single page
        arena.FreePages(p, 0);
    }

    [Fact]
    public void Allocations_AreTaggedWithTheStepThatServedThem()
    {
        using BuddyArena arena = Create();
        List<nint> held = ArenaState.DrainTo(arena, Low - 1); // below pages_low: step 1 refuses, step 4 (min) serves
        long fastBefore = arena.GetStats().Steps.FastPath;

        void* p = arena.AllocPages(0, AllocFlags.Atomic);

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);
        ArenaStats stats = arena.GetStats();
        Assert.True(p != null);
        Assert.Equal(1, m.Value("fastbuddy.allocations", tag: "step", tagValue: "min"));
        Assert.Equal(fastBefore, m.Value("fastbuddy.allocations", tag: "step", tagValue: "fast_path"));
        Assert.Equal(0, m.Value("fastbuddy.allocations", tag: "step", tagValue: "final_phase"));
        Assert.Equal(stats.Allocations, m.Where(s => s.Instrument == "fastbuddy.allocations").Sum(s => s.Value));
        Assert.Equal(7, m.Count(s => s.Instrument == "fastbuddy.allocations"));
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void Failures_AreTaggedWithTheOrderThatFailed()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(3, AllocFlags.Atomic) == null);
        Assert.True(arena.AllocPages(3, AllocFlags.Atomic) == null);
        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);
        Assert.Equal(2, m.Value("fastbuddy.failures", tag: "order", tagValue: 3));
        Assert.Equal(1, m.Value("fastbuddy.failures", tag: "order", tagValue: 0));
        Assert.Equal(0, m.Value("fastbuddy.failures", tag: "order", tagValue: 1));
        Assert.Equal(arena.MaxOrder, m.Count(s => s.Instrument == "fastbuddy.failures"));
        Assert.Equal([1, 0, 0, 2, 0, 0, 0, 0, 0], arena.GetStats().FailuresByOrder);
        arena.Validate();
    }

    [Fact]
    public void PressureReclaimAndLaundering_MatchGetStats()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.AddToCache(arena, owner, 4, dirty: true);
        ArenaState.AgeToInactive(arena);
        ArenaState.DrainTo(arena, Low - 5);
        arena.Balance(); // refills the free area from clean pages (reclaimed) and launders the dirty ones
        ArenaStats stats = arena.GetStats();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        Assert.True(stats.Reclaimed > 0);
        Assert.True(stats.MemoryPressure > 0);
        Assert.Equal(stats.Reclaimed, m.Value("fastbuddy.reclaimed"));
        Assert.Equal(stats.Laundered, m.Value("fastbuddy.laundered"));
        Assert.Equal(stats.Frees, m.Value("fastbuddy.frees"));
        Assert.Equal(stats.MemoryPressure, m.Value("fastbuddy.memory_pressure"));
        Assert.Equal(stats.InactiveTarget, m.Value("fastbuddy.inactive_target"));
    }

    [Fact]
    public void KswapdPasses_CountEveryPass_AndWakeupsStayZeroWithoutABackgroundThread()
    {
        using BuddyArena arena = Create();

        arena.Balance();
        arena.Balance();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);
        Assert.Equal(2, m.Value("fastbuddy.kswapd.passes"));
        Assert.Equal(0, m.Value("fastbuddy.kswapd.wakeups"));
        Assert.Equal(2, arena.GetStats().KswapdPasses);
    }

    [Fact]
    public void KswapdWakeups_CountWakeupsOfTheBackgroundThread()
    {
        using BuddyArena arena = Create(background: true);
        ArenaState.DrainTo(arena, Min - 1); // below pages_min: the next allocation's step 1 wakes kreclaimd

        arena.AllocPages(0, AllocFlags.Atomic);

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);
        Assert.True(m.Value("fastbuddy.kswapd.wakeups") >= 1);
        Assert.True(arena.GetStats().KswapdWakeups >= 1);
    }

    [Fact]
    public void SeveralArenas_EachMeasurementCarriesItsArenaTag()
    {
        using BuddyArena a = TestArenas.SingleZone(64, maxOrder: 6);
        using BuddyArena b = TestArenas.SingleZone(128, maxOrder: 6);

        IReadOnlyList<MeterSample> all = MeterReader.ReadAll();

        int idA = ArenaMetrics.IdOf(a)!.Value, idB = ArenaMetrics.IdOf(b)!.Value;
        Assert.NotEqual(idA, idB);
        Assert.All(all, s => Assert.NotNull(s.Tag("arena")));
        Assert.Equal(64, Assert.Single(all, s => s.Instrument == "fastbuddy.pages.total" && Equals(s.Tag("arena"), idA)).Value);
        Assert.Equal(128, Assert.Single(all, s => s.Instrument == "fastbuddy.pages.total" && Equals(s.Tag("arena"), idB)).Value);
    }

    [Fact]
    public void ADisposedArena_IsNoLongerReported()
    {
        BuddyArena gone = TestArenas.SingleZone(64, maxOrder: 6);
        int id = ArenaMetrics.IdOf(gone)!.Value;

        gone.Dispose();

        Assert.DoesNotContain(MeterReader.ReadAll(), s => Equals(s.Tag("arena"), id));
        Assert.Null(ArenaMetrics.IdOf(gone));
    }
}
