using FastBuddy.Tests.Diagnostics;
using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>The slab gauges of the "FastBuddy" meter report the per-class statistics, tagged with the class size.</summary>
public sealed unsafe class SlabMetricsTests
{
    [Fact]
    public void SlabGauges_ReportEachClassInUse_TaggedWithItsSize()
    {
        using BuddyArena arena = TestArenas.SingleZone(1024, perCpuLists: true);
        var objects = new List<nint>();
        for (int i = 0; i < 20; i++)
            objects.Add((nint)arena.Alloc(48, AllocFlags.MemAlloc));
        for (int i = 0; i < 3; i++)
            objects.Add((nint)arena.Alloc(5000, AllocFlags.MemAlloc));
        ArenaStats stats = arena.GetStats();

        IReadOnlyList<MeterSample> m = MeterReader.Read(arena);

        foreach (SlabClassStats c in stats.SlabClasses.Where(c => c.Slabs > 0))
        {
            Assert.Equal(c.ObjectsInUse, m.Value("fastbuddy.slab.objects", tag: "size", tagValue: c.ObjectSize));
            Assert.Equal(c.FreeObjects, m.Value("fastbuddy.slab.free_objects", tag: "size", tagValue: c.ObjectSize));
            Assert.Equal(c.Slabs, m.Value("fastbuddy.slab.slabs", tag: "size", tagValue: c.ObjectSize));
        }
        Assert.Equal(20, m.Value("fastbuddy.slab.objects", tag: "size", tagValue: 48));
        Assert.Equal(3, m.Value("fastbuddy.slab.objects", tag: "size", tagValue: 5120));
        Assert.Equal(stats.SlabPages, m.Value("fastbuddy.slab.pages"));
        Assert.DoesNotContain(m, s => s.Instrument == "fastbuddy.slab.objects" && Equals(s.Tag("size"), 64)); // no slab, no line
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}
