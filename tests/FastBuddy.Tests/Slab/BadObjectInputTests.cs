using System.Runtime.InteropServices;
using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Bad frees and lookups of objects are refused in O(1) with the page layer's statuses, and change nothing: the
/// arena validates and every page and slab counter is as it was.
/// </summary>
public abstract unsafe class BadObjectInputTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void FreeingAnObjectTwice_IsDoubleFree()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(100, Mechanism);
        void* neighbour = arena.Alloc(100, Mechanism); // keeps the slab alive once p is freed
        arena.Free(p);

        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p));

        arena.Free(neighbour);
        SlabProbeAll(arena);
    }

    [Fact]
    public void ASecondFreeRightAfterTheFirst_IsDoubleFree_AndTheObjectIsHandedOutOnlyOnce()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(64, Mechanism);
        void* neighbour = arena.Alloc(64, Mechanism);

        arena.Free(p); // the owner's fast path with magazines: no drain in between
        FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.Free(p));

        Assert.Equal(FastBuddyStatus.DoubleFree, ex.Status);
        Assert.Equal(1, ClassOf(arena, 64).ObjectsInUse);
        void* a = arena.Alloc(64, Mechanism);
        void* b = arena.Alloc(64, Mechanism);
        Assert.True(a != b && a != neighbour && b != neighbour);
        Assert.True(a == p || b == p);
        foreach (void* q in new[] { (nint)a, (nint)b, (nint)neighbour })
            arena.Free(q);
        SlabProbeAll(arena);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(47)]
    public void FreeOfAPointerInsideAnObject_IsNotABlock(int offset)
    {
        using BuddyArena arena = NewArena();
        byte* p = (byte*)arena.Alloc(48, Mechanism);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(p + offset));

        Assert.Equal((nuint)48, arena.UsableSize(p));
        arena.Free(p);
        SlabProbeAll(arena);
    }

    [Fact]
    public void FreeOfTheAddressOnePastAnObject_IsTheNextObject_SoWhileThatIsFreeItIsDoubleFree()
    {
        using BuddyArena arena = NewArena();
        byte* p = (byte*)arena.Alloc(48, Mechanism);
        Assert.Equal(1, ClassOf(arena, 48).ObjectsInUse); // p is the first object of a fresh slab; the next one is free

        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(p + 48));

        arena.Free(p);
        SlabProbeAll(arena);
    }

    [Fact]
    public void FreeOfTheAddressOnePastTheLastObjectOfASlab_InTheSlabsUnusedTail_IsNotABlock()
    {
        using BuddyArena arena = NewArena();
        int perSlab = ClassOf(arena, 48).ObjectsPerSlab; // 85 objects of 48 bytes leave 16 bytes of a page unused
        Assert.Equal(1, ClassOf(arena, 48).PagesPerSlab);
        var objects = new List<nint>();
        for (int i = 0; i < perSlab; i++)
            objects.Add((nint)arena.Alloc(48, Mechanism));
        Assert.Equal(1, ClassOf(arena, 48).Slabs);
        nint last = objects.Max();
        Assert.True(4096 - (last & 4095) - 48 > 0);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free((void*)(last + 48)));

        foreach (nint p in objects)
            arena.Free((void*)p);
        SlabProbeAll(arena);
    }

    [Fact]
    public void FreePagesOfAnObject_IsNotABlock_WhateverTheOrder()
    {
        using BuddyArena arena = NewArena();
        SlabClassStats cls = ClassOf(arena, 2048);
        void* first = arena.Alloc(2048, Mechanism); // the first object of a fresh slab starts at its first page
        void* second = arena.Alloc(2048, Mechanism);
        Assert.Equal(0, (nint)first % 4096);
        int slabOrder = System.Numerics.BitOperations.Log2((uint)cls.PagesPerSlab);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(first, 0));
        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(first, slabOrder));
        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.FreePages(second, 0));

        arena.Free(first);
        arena.Free(second);
        SlabProbeAll(arena);
    }

    [Fact]
    public void CacheAddOfASlabPage_IsNotABlock()
    {
        using BuddyArena arena = NewArena();
        void* first = arena.Alloc(4096, Mechanism); // page-aligned, and its slab's first page
        Assert.Equal(0, (nint)first % 4096);
        var owner = new RecordingOwner();

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.CacheAdd(first, owner));

        Assert.Equal(0, arena.GetStats().ActivePages);
        arena.Free(first);
        SlabProbeAll(arena);
    }

    [Fact]
    public void UsableSizeOfAFreedObject_IsDoubleFree_AndOfAnInteriorPointer_NotABlock()
    {
        using BuddyArena arena = NewArena();
        byte* p = (byte*)arena.Alloc(200, Mechanism);
        void* neighbour = arena.Alloc(200, Mechanism);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.UsableSize(p + 16));
        arena.Free(p);
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.UsableSize(p));
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.AsSpan(p));

        arena.Free(neighbour);
        SlabProbeAll(arena);
    }

    [Fact]
    public void ReallocOfAFreedObject_IsDoubleFree_AndOfAnInteriorPointer_NotABlock()
    {
        using BuddyArena arena = NewArena();
        byte* p = (byte*)arena.Alloc(200, Mechanism);
        void* neighbour = arena.Alloc(200, Mechanism);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Realloc(p + 8, 500, Mechanism));
        arena.Free(p);
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Realloc(p, 500, Mechanism));
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Realloc(p, 200, Mechanism)); // same class too

        arena.Free(neighbour);
        SlabProbeAll(arena);
    }

    [Fact]
    public void FreeOfAnObjectOfAnotherArena_IsNotOwned()
    {
        using BuddyArena arena = NewArena();
        using BuddyArena other = NewArena();
        void* foreign = other.Alloc(64, Mechanism);
        void* native = NativeMemory.Alloc(64);
        try
        {
            AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.Free(foreign));
            AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.Free(native));
            AssertRejected(arena, FastBuddyStatus.NotOwned, () => arena.UsableSize(foreign));
        }
        finally
        {
            NativeMemory.Free(native);
        }
        other.Free(foreign);
        SlabProbeAll(other);
        SlabProbeAll(arena);
    }

    [Fact]
    public void AFreeFromAnotherThread_ThenAnyFreeOfTheSameObject_IsDoubleFree()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(128, Mechanism);
        void* neighbour = arena.Alloc(128, Mechanism);
        FastBuddyStatus second = FastBuddyStatus.Ok;

        var other = new Thread(() =>
        {
            arena.Free(p); // with magazines: into the remote bitmap, not folded in yet
            try
            {
                arena.Free(p);
            }
            catch (FastBuddyException e)
            {
                second = e.Status;
            }
        });
        other.Start();
        other.Join();

        Assert.Equal(FastBuddyStatus.DoubleFree, second);
        FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.Free(p)); // the owner's free sees it too
        Assert.Equal(FastBuddyStatus.DoubleFree, ex.Status);
        Assert.Equal(1, ClassOf(arena, 128).ObjectsInUse);
        arena.Free(neighbour);
        SlabProbeAll(arena);
    }

    private static void SlabProbeAll(BuddyArena arena) => TestSupport.SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
}

/// <summary>Bad object input with per-thread magazines (owned slabs).</summary>
public sealed class BadObjectInputTestsWithMagazines() : BadObjectInputTests(magazines: true);

/// <summary>Bad object input without magazines (shared slabs).</summary>
public sealed class BadObjectInputTestsShared() : BadObjectInputTests(magazines: false);
