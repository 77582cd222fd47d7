using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Realloc of objects: in place while the size keeps its class, a move (contents kept as far as they fit in the
/// new object's usable size) across classes and between objects and page blocks; and the Zero flag, which hands out zeroed usable bytes.
/// </summary>
public abstract unsafe class ObjectReallocTests(bool magazines) : SlabSpec(magazines)
{
    [Theory]
    [InlineData(100, 97)]
    [InlineData(100, 104)]
    [InlineData(1000, 961)]
    [InlineData(28673, 30720)]
    [InlineData(32767, 32768)]
    public void ReallocWithinTheClass_ReturnsTheSamePointer_AndChangesNothing(int bytes, int resized)
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc((nuint)bytes, Mechanism);
        nuint usable = arena.UsableSize(p);
        Patterns.Fill(p, usable, 7);
        arena.Validate();
        string before = Describe(arena);

        void* q = arena.Realloc(p, (nuint)resized, Mechanism);

        Assert.True(q == p);
        Assert.Equal(usable, arena.UsableSize(q));
        Patterns.AssertIntact(q, usable, 7);
        arena.Validate();
        Assert.Equal(before, Describe(arena));
        arena.Free(q);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Theory]
    [InlineData(24, 200)]
    [InlineData(200, 24)]
    [InlineData(1000, 20000)]
    [InlineData(20000, 1000)]
    public void ReallocAcrossClasses_MovesIntoTheNewClass_KeepingTheContents(int bytes, int resized)
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc((nuint)bytes, Mechanism);
        nuint oldUsable = arena.UsableSize(p);
        Patterns.Fill(p, oldUsable, 8);

        void* q = arena.Realloc(p, (nuint)resized, Mechanism);

        Assert.True(q != null && q != p);
        nuint newUsable = arena.UsableSize(q);
        Assert.Equal(1, ClassOf(arena, (int)newUsable).ObjectsInUse);
        Assert.Equal(0, ClassOf(arena, (int)oldUsable).ObjectsInUse); // the old object is freed
        Patterns.AssertIntact(q, Math.Min(oldUsable, newUsable), 8); // as much as fits, not only the size asked for
        Patterns.Fill(q, newUsable, 9); // all of the new class is writable
        arena.Free(q);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ReallocOfAnObjectAboveSmallMax_MovesIntoABlockOfPages_AndBackIntoAnObject()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(3000, Mechanism);
        Patterns.Fill(p, 3072, 10);

        void* block = arena.Realloc(p, 100_000, Mechanism); // 25 pages: a block of 32

        Assert.True(block != null && block != p);
        Assert.Equal(arena.BlockBytes(5), arena.UsableSize(block));
        Assert.Equal(0, (nint)block % (nint)arena.BlockBytes(5));
        Assert.Equal(0, arena.GetStats().SlabObjects);
        Patterns.AssertIntact(block, 3072, 10);
        Patterns.Fill(block, arena.BlockBytes(5), 11);

        void* back = arena.Realloc(block, 500, Mechanism);

        Assert.True(back != null && back != block);
        Assert.Equal((nuint)512, arena.UsableSize(back));
        Assert.Equal(1, ClassOf(arena, 512).ObjectsInUse);
        Patterns.AssertIntact(back, 512, 11); // all that fits in the new object
        AssertBlockFreed(arena, block);
        arena.Free(back);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ReallocOfAPageBlockToASmallSize_MovesIntoAnObject_AndFreesTheBlock()
    {
        using BuddyArena arena = NewArena();
        void* block = arena.AllocPages(2, Mechanism);
        Patterns.Fill(block, arena.BlockBytes(2), 12);

        void* q = arena.Realloc(block, 4000, Mechanism);

        Assert.True(q != block);
        Assert.Equal((nuint)4096, arena.UsableSize(q));
        Patterns.AssertIntact(q, 4096, 12);
        AssertBlockFreed(arena, block);
        arena.Free(q);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ReallocThatCannotMove_ReturnsNull_AndLeavesTheObjectIntact()
    {
        using BuddyArena arena = NewArena(pages: 64, maxOrder: 7); // SmallMax 12 KiB, largest block 64 pages
        void* p = arena.Alloc(1000, Mechanism);
        Patterns.Fill(p, 1024, 13);
        var held = new List<nint>();
        for (void* b; (b = arena.AllocPages(0, Mechanism)) != null;)
            held.Add((nint)b);

        void* q = arena.Realloc(p, 2 * (nuint)arena.PageSize, Mechanism);

        Assert.True(q == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        Assert.Equal((nuint)1024, arena.UsableSize(p));
        Patterns.AssertIntact(p, 1024, 13);
        foreach (nint b in held)
            arena.FreePages((void*)b, 0);
        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(1000)]
    [InlineData(32768)]
    public void AllocWithZero_GivesAnObjectWhoseWholeUsableSizeIsZero_EvenWhereAFreedObjectLeftData(int bytes)
    {
        using BuddyArena arena = NewArena();
        void* dirty = arena.Alloc((nuint)bytes, Mechanism);
        void* neighbour = arena.Alloc((nuint)bytes, Mechanism);
        nuint usable = arena.UsableSize(dirty);
        Patterns.FillBytes(dirty, usable, 0xCD);
        arena.Free(dirty);

        void* p = arena.Alloc((nuint)bytes, Mechanism | AllocFlags.Zero);

        Assert.True(p == dirty); // the lowest free object: the one just dirtied
        Patterns.AssertAllBytes(p, usable, 0);
        arena.Free(p);
        arena.Free(neighbour);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ReallocWithZero_AcrossClasses_ZeroesEverythingPastTheOldObject()
    {
        using BuddyArena arena = NewArena();
        void* scratch = arena.Alloc(1000, Mechanism); // dirty the 1 KiB class's first object, then free it
        Patterns.FillBytes(scratch, 1024, 0xEE);
        arena.Free(scratch);
        void* p = arena.Alloc(100, Mechanism);
        Patterns.FillBytes(p, 104, 0x42);

        void* q = arena.Realloc(p, 1000, Mechanism | AllocFlags.Zero);

        Assert.True(q == scratch);
        Patterns.AssertAllBytes(q, 104, 0x42);
        Patterns.AssertAllBytes((byte*)q + 104, 1024 - 104, 0);
        arena.Free(q);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    /// <summary>The block is no longer live: freeing it again is a double free, and no page is leaked.</summary>
    private static void AssertBlockFreed(BuddyArena arena, void* block)
    {
        FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.UsableSize(block));
        Assert.Equal(FastBuddyStatus.DoubleFree, ex.Status);
    }
}

/// <summary>Object Realloc with per-thread magazines (owned slabs).</summary>
public sealed class ObjectReallocTestsWithMagazines() : ObjectReallocTests(magazines: true);

/// <summary>Object Realloc without magazines (shared slabs).</summary>
public sealed class ObjectReallocTestsShared() : ObjectReallocTests(magazines: false);
