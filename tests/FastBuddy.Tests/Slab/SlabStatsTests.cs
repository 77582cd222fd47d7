using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// The per-class statistics (like /proc/slabinfo): objects in use, slabs, spare slabs and free objects follow every
/// allocation and free, and pages held by slabs count as pages taken from the arena.
/// </summary>
public abstract unsafe class SlabStatsTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void OneObject_TakesOneSlab_WhoseOtherObjectsAreFree()
    {
        using BuddyArena arena = NewArena();
        ArenaStats fresh = arena.GetStats();

        void* p = arena.Alloc(256, Mechanism);

        ArenaStats s = arena.GetStats();
        SlabClassStats cls = ClassOf(arena, 256);
        Assert.Equal((256, 16, 1), (cls.ObjectSize, cls.ObjectsPerSlab, cls.PagesPerSlab));
        Assert.Equal((1L, 0L, 1L, 15L), (cls.Slabs, cls.SpareSlabs, cls.ObjectsInUse, cls.FreeObjects));
        Assert.Equal((1L, 256L, 1L), (s.SlabObjects, s.SlabObjectBytes, s.SlabPages));
        Assert.Equal(fresh.FreePages - 1, s.FreePages + s.PerCpuPages); // the slab's page is taken from the arena
        Assert.All(s.SlabClasses.Where(c => c.ObjectSize != 256), c => Assert.Equal(0, c.Slabs));
        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void OneObjectMoreThanASlabHolds_TakesASecondSlab()
    {
        using BuddyArena arena = NewArena();
        int perSlab = ClassOf(arena, 1024).ObjectsPerSlab;
        var objects = new List<nint>();

        for (int i = 0; i <= perSlab; i++)
            objects.Add((nint)arena.Alloc(1024, Mechanism));

        SlabClassStats cls = ClassOf(arena, 1024);
        Assert.Equal((2L, (long)perSlab + 1, (long)perSlab - 1), (cls.Slabs, cls.ObjectsInUse, cls.FreeObjects));
        Assert.Equal(2L * cls.PagesPerSlab, arena.GetStats().SlabPages);
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void FreeingObjects_LowersObjectsInUse_AndRaisesFreeObjects_OneForOne()
    {
        using BuddyArena arena = NewArena();
        var objects = new List<nint>();
        for (int i = 0; i < 10; i++)
            objects.Add((nint)arena.Alloc(40, Mechanism));

        for (int i = 0; i < 10; i++)
        {
            arena.Free((void*)objects[i]);
            SlabClassStats cls = ClassOf(arena, 40);
            Assert.Equal(9 - i, cls.ObjectsInUse);
            Assert.Equal(cls.ObjectsPerSlab - (9 - i), cls.FreeObjects);
            Assert.Equal(1, cls.Slabs);
        }
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void EmptySlabs_BeyondTwoSparesPerClass_GoBackToTheBuddySystem()
    {
        using BuddyArena arena = NewArena();
        ArenaStats fresh = arena.GetStats();
        SlabClassStats cls = ClassOf(arena, 4096);
        var objects = new List<nint>();
        for (int i = 0; i < 5 * cls.ObjectsPerSlab; i++)
            objects.Add((nint)arena.Alloc(4096, Mechanism));
        Assert.Equal(5, ClassOf(arena, 4096).Slabs);

        foreach (nint p in objects)
            arena.Free((void*)p);
        arena.Validate(); // drains: a thread's current slab goes back to the class too

        cls = ClassOf(arena, 4096);
        Assert.Equal((2L, 2L, 0L), (cls.Slabs, cls.SpareSlabs, cls.ObjectsInUse));
        ArenaStats s = arena.GetStats();
        Assert.Equal(2L * cls.PagesPerSlab, s.SlabPages);
        Assert.Equal(fresh.TotalPages, s.FreePages + s.PerCpuPages + s.SlabPages);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ReapingTheSpares_GivesTheirPagesBack_AndTheFreeAreasAreAsAtTheStart()
    {
        using BuddyArena arena = NewArena(pages: 1024);
        ArenaStats fresh = arena.GetStats();
        var objects = new List<nint>();
        foreach (int size in new[] { 16, 100, 1000, 5000, 32768 })
        {
            for (int i = 0; i < 40; i++)
                objects.Add((nint)arena.Alloc((nuint)size, Mechanism));
        }
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
        long spares = SlabProbe.SparePages(arena.GetStats());
        Assert.True(spares > 0);

        Assert.Equal(spares, SlabProbe.ReapSpares(arena));

        arena.Validate();
        ArenaStats s = arena.GetStats();
        Assert.Equal((0L, 0L), (s.SlabPages, SlabProbe.SparePages(s)));
        Assert.Equal(s.TotalPages, s.FreePages);
        Assert.Equal(fresh.Zones[0].FreeBlocks, s.Zones[0].FreeBlocks);
    }
}

/// <summary>Slab statistics with per-thread magazines (owned slabs).</summary>
public sealed class SlabStatsTestsWithMagazines() : SlabStatsTests(magazines: true);

/// <summary>Slab statistics without magazines (shared slabs).</summary>
public sealed class SlabStatsTestsShared() : SlabStatsTests(magazines: false);
