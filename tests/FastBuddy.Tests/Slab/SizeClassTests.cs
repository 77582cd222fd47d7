using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// The size classes: every request up to SmallMax gets an object of the smallest class that holds it, aligned as
/// promised, wholly writable and overlapping no other; above 64 bytes a request loses less than 1/8 to rounding;
/// a million 32-byte objects fit in a 64 MiB arena.
/// </summary>
public abstract unsafe class SizeClassTests(bool magazines) : SlabSpec(magazines)
{
    [Theory]
    [MemberData(nameof(ClassSizes))]
    public void ObjectsOfAClass_HaveTheClassSize_ItsAlignment_AndTheirOwnWritableBytes(int size)
    {
        using BuddyArena arena = NewArena();
        SlabClassStats cls = ClassOf(arena, size);
        int count = cls.ObjectsPerSlab + 1; // one more than a slab holds: a second slab
        var objects = new nint[count];

        for (int i = 0; i < count; i++)
        {
            void* p = arena.Alloc((nuint)size, Mechanism);
            Assert.True(p != null);
            Assert.Equal((nuint)size, arena.UsableSize(p));
            Assert.Equal(0, (nint)p % AlignmentOf(size));
            Patterns.Fill(p, (nuint)size, Patterns.Seed(size, i)); // every usable byte is the caller's
            objects[i] = (nint)p;
        }

        for (int i = 0; i < count; i++)
            Patterns.AssertIntact((void*)objects[i], (nuint)size, Patterns.Seed(size, i)); // nobody overlaps anybody
        nint[] sorted = [.. objects];
        Array.Sort(sorted);
        for (int i = 1; i < count; i++)
            Assert.True(sorted[i - 1] + size <= sorted[i], $"objects at 0x{sorted[i - 1]:x} and 0x{sorted[i]:x} overlap");
        cls = ClassOf(arena, size);
        Assert.Equal((count, 2L), (cls.ObjectsInUse, cls.Slabs));
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Theory]
    [MemberData(nameof(ClassSizes))]
    public void ARequestOneByteBelowAClassSize_UsesThatClass_AndOneByteAbove_TheNextClassOrABlock(int size)
    {
        using BuddyArena arena = NewArena();
        int below = size - 1, above = size + 1;

        void* p = arena.Alloc((nuint)below, Mechanism);
        void* q = arena.Alloc((nuint)above, Mechanism);

        Assert.Equal((nuint)size, arena.UsableSize(p));
        nuint next = arena.UsableSize(q);
        if (size < arena.SmallMax)
        {
            Assert.True(next > (nuint)size);
            Assert.Equal(1, ClassOf(arena, (int)next).ObjectsInUse); // the next class up, not some larger one
            Assert.Equal(2, arena.GetStats().SlabObjects);
        }
        else
        {
            Assert.Equal(arena.BlockBytes(4), next); // 32 KiB + 1: a block of 16 pages
            Assert.Equal(0, (nint)q % (nint)next);
            Assert.Equal(1, arena.GetStats().SlabObjects);
        }
        Patterns.Fill(p, (nuint)size, 1);
        Patterns.Fill(q, next, 2);
        Patterns.AssertIntact(p, (nuint)size, 1);
        arena.Free(p);
        arena.Free(q);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void EverySizeAbove64Bytes_LosesLessThanAnEighthToItsClass()
    {
        using BuddyArena arena = NewArena();
        Assert.Equal(32 * 1024, arena.SmallMax);

        for (int size = 65; size <= arena.SmallMax; size++)
        {
            void* p = arena.Alloc((nuint)size, Mechanism);
            nuint usable = arena.UsableSize(p);
            Assert.True(usable >= (nuint)size);
            Assert.True(((double)usable / size) - 1 < 1.0 / 8, $"{size} bytes get a {usable}-byte object");
            arena.Free(p);
        }
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void EverySizeUpTo64Bytes_GetsTheNextMultipleOf8()
    {
        using BuddyArena arena = NewArena();

        for (int size = 1; size <= 64; size++)
        {
            void* p = arena.Alloc((nuint)size, Mechanism);
            Assert.Equal((nuint)((size + 7) & ~7), arena.UsableSize(p));
            arena.Free(p);
        }
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AMillion32ByteObjects_FitInA64MiBArena()
    {
        using BuddyArena arena = NewArena(pages: 16384); // 64 MiB
        const int Count = 1_000_000;
        var objects = new nint[Count];

        for (int i = 0; i < Count; i++)
        {
            void* p = arena.Alloc(32, Mechanism);
            Assert.True(p != null, $"object {i} of {Count} failed ({BuddyArena.LastError})");
            *(int*)p = i;
            objects[i] = (nint)p;
        }

        ArenaStats stats = arena.GetStats();
        Assert.Equal(Count, stats.SlabObjects);
        Assert.Equal(32L * Count, stats.SlabObjectBytes);
        Assert.True(stats.SlabPages * 4096 < 64L << 20);
        for (int i = 0; i < Count; i++)
            Assert.Equal(i, *(int*)objects[i]);
        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>The size classes with per-thread magazines (owned slabs).</summary>
public sealed class SizeClassTestsWithMagazines() : SizeClassTests(magazines: true);

/// <summary>The size classes without magazines (shared slabs).</summary>
public sealed class SizeClassTestsShared() : SizeClassTests(magazines: false);
