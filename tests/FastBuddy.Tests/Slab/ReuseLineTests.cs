using FastBuddy.PerThread;
using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// The reuse line: per size class, up to seven objects of the thread's current slab that it freed last. The next
/// allocation of the class takes the latest of them instead of the lowest free bit of the bitmap. They stay free in
/// the bitmap, so every check on a free is the bitmap's, and whoever takes from the bitmap by another route (a
/// flagged allocation, a drain) forgets the line first. These tests hold the line to that: latest first, never an
/// object handed out twice, bad frees still rejected, and a corrupt line reported by Validate.
/// </summary>
public abstract unsafe class ReuseLineTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void ObjectsFreedInTurn_ComeBackLatestFirst()
    {
        using BuddyArena arena = NewArena();
        var held = new nint[5];
        for (int i = 0; i < held.Length; i++)
            held[i] = (nint)arena.Alloc(48, Mechanism);
        foreach (nint p in held)
            arena.Free((void*)p);

        var again = new nint[5];
        for (int i = 0; i < again.Length; i++)
            again[i] = (nint)arena.Alloc(48, Mechanism);

        if (Magazines)
            Assert.Equal(held.Reverse(), again);
        else
            Assert.Equal(held.Order(), again.Order()); // shared slabs: the same objects, in the bitmap's order
        foreach (nint p in again)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void TwentyObjectsFreedAndTakenAgain_AreTwentyDistinctObjects()
    {
        using BuddyArena arena = NewArena();
        var first = new HashSet<nint>();
        for (int i = 0; i < 20; i++)
            first.Add((nint)arena.Alloc(16, Mechanism));
        foreach (nint p in first)
            arena.Free((void*)p);

        var second = new HashSet<nint>();
        for (int i = 0; i < 20; i++)
            Assert.True(second.Add((nint)arena.Alloc(16, Mechanism)), "an object was handed out twice");

        Assert.Equal(20, ClassOf(arena, 16).ObjectsInUse);
        Assert.Subset(first, second); // the line's seven first, then the bitmap's lowest: the same twenty
        foreach (nint p in second)
            arena.Free((void*)p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ASecondFreeOfAnObjectOnTheLine_IsDoubleFree_AndTheLineStaysSound()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(256, Mechanism);
        void* b = arena.Alloc(256, Mechanism);
        arena.Free(a);
        arena.Free(b);

        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(a));
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(b));

        void* c = arena.Alloc(256, Mechanism);
        void* d = arena.Alloc(256, Mechanism);
        Assert.NotEqual((nint)c, (nint)d);
        arena.Free(c);
        arena.Free(d);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AFlaggedAllocation_TakingFromTheBitmap_NeverHandsOutAnObjectTheLineStillNames()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(64, Mechanism);
        void* b = arena.Alloc(64, Mechanism);
        arena.Free(b);
        arena.Free(a); // the line names b, then a

        // Zero is not a fast-path flag: the checked path takes the bitmap's lowest free object (a).
        byte* zeroed = (byte*)arena.Alloc(64, Mechanism | AllocFlags.Zero);
        void* next = arena.Alloc(64, Mechanism);
        void* third = arena.Alloc(64, Mechanism);

        Assert.Equal(3, new HashSet<nint> { (nint)zeroed, (nint)next, (nint)third }.Count);
        for (int i = 0; i < 64; i++)
            Assert.Equal(0, zeroed[i]);
        arena.Free(zeroed);
        arena.Free(next);
        arena.Free(third);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ADrainBetweenFreeAndAllocation_ForgetsTheLine_AndLosesNothing()
    {
        using BuddyArena arena = NewArena();
        void* keep = arena.Alloc(32, Mechanism);
        void* a = arena.Alloc(32, Mechanism);
        arena.Free(a);

        arena.Trim(); // every magazine drained: the slab leaves the thread, the line is forgotten

        void* b = arena.Alloc(32, Mechanism);
        void* c = arena.Alloc(32, Mechanism);
        Assert.Equal(3, new HashSet<nint> { (nint)keep, (nint)b, (nint)c }.Count);
        arena.Free(keep);
        arena.Free(b);
        arena.Free(c);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>The reuse line with per-thread magazines (only they have reuse lines).</summary>
public sealed unsafe class ReuseLineTestsWithMagazines() : ReuseLineTests(magazines: true)
{
    [Fact]
    public void ALineNamingAnObjectInUse_IsReportedByValidate()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(80, Mechanism);
        void* b = arena.Alloc(80, Mechanism);
        arena.Free(a);

        // Corrupt the line by hand: it names b, which is in use.
        nuint* line = Magazine.Reuse(CurrentMagazine.Value, FastBuddy.Slab.SizeClasses.Of(80));
        Assert.Equal(1u, (uint)line[0]);
        line[1] = (nuint)b;

        var e = Assert.Throws<FastBuddyException>(arena.Validate);
        Assert.Equal(FastBuddyStatus.Corrupt, e.Status);
        Assert.Contains("reuse line", e.Message);
    }
}

/// <summary>The same sequences without magazines (no line): the same objects, nothing lost.</summary>
public sealed class ReuseLineTestsShared() : ReuseLineTests(magazines: false);
