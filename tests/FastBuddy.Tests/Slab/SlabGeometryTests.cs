using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// SmallMax and the smallest class follow the arena's geometry: classes stop at the first whose slab cannot hold
/// eight objects (wasting at most 1/16) below MaxOrder, and with large pages the tiny classes are left out (a
/// page holds at most 512 objects). Whatever the geometry, SmallMax is an object and SmallMax + 1 a block.
/// </summary>
public abstract unsafe class SlabGeometryTests(bool magazines) : SlabSpec(magazines)
{
    [Theory]
    [InlineData(4096, 11, 32768, 8)]
    [InlineData(4096, 6, 12288, 8)]
    [InlineData(4096, 4, 3072, 8)]
    [InlineData(1024, 7, 6144, 8)]
    [InlineData(512, 7, 3072, 8)]
    [InlineData(65536, 6, 32768, 128)]
    public void SmallMax_AndTheSmallestClass_FollowThePageSizeAndOrders(int pageSize, int maxOrder, int smallMax, int smallest)
    {
        using BuddyArena arena = NewArena(pages: 256, pageSize: pageSize, maxOrder: maxOrder);

        Assert.Equal(smallMax, arena.SmallMax);
        IReadOnlyList<SlabClassStats> classes = arena.GetStats().SlabClasses;
        Assert.Equal(smallest, classes[0].ObjectSize);
        Assert.Equal(smallMax, classes[^1].ObjectSize);
        Assert.All(classes, c => Assert.InRange(c.ObjectsPerSlab, 8, 512));
        Assert.All(classes, c => Assert.True((long)c.PagesPerSlab * pageSize - (long)c.ObjectsPerSlab * c.ObjectSize <= (long)c.PagesPerSlab * pageSize / 16));
        arena.Validate();
    }

    [Theory]
    [InlineData(4096, 6)]
    [InlineData(512, 7)]
    [InlineData(65536, 6)]
    public void SmallMaxIsAnObject_AndOneByteMoreIsABlockOfPages(int pageSize, int maxOrder)
    {
        using BuddyArena arena = NewArena(pages: 256, pageSize: pageSize, maxOrder: maxOrder);
        nuint max = (nuint)arena.SmallMax;

        void* obj = arena.Alloc(max, Mechanism);
        void* block = arena.Alloc(max + 1, Mechanism);

        Assert.Equal(max, arena.UsableSize(obj));
        Assert.Equal(1, arena.GetStats().SlabObjects);
        nuint blockBytes = arena.UsableSize(block);
        Assert.True(blockBytes > max && blockBytes % (nuint)pageSize == 0);
        Assert.Equal(0, (nint)block % (nint)blockBytes);
        arena.Free(obj);
        arena.Free(block);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void WithLargePages_TinyRequestsShareTheSmallestClass()
    {
        using BuddyArena arena = NewArena(pages: 64, pageSize: 65536, maxOrder: 6);
        var objects = new List<nint>();

        for (int bytes = 1; bytes <= 128; bytes += 9)
        {
            void* p = arena.Alloc((nuint)bytes, Mechanism);
            Assert.Equal((nuint)128, arena.UsableSize(p));
            objects.Add((nint)p);
        }

        Assert.Equal(objects.Count, ClassOf(arena, 128).ObjectsInUse);
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>Slab geometry with per-thread magazines.</summary>
public sealed class SlabGeometryTestsWithMagazines() : SlabGeometryTests(magazines: true);

/// <summary>Slab geometry without magazines.</summary>
public sealed class SlabGeometryTestsShared() : SlabGeometryTests(magazines: false);
