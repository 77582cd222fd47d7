using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// A free first tries the slab of the thread's last object free (the magazine's recent slab) and skips the page
/// descriptor and the slab table when it hits. These tests free right after such a free, so that the recent slab
/// is the one the next pointer is checked against: bad pointers are still rejected with their status, a slab that
/// changed hands since is a miss that the checked path serves, and nothing is lost.
/// </summary>
public abstract unsafe class RecentSlabTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void ASecondFreeOfTheObjectJustFreed_IsDoubleFree()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(64, Mechanism);
        void* keep = arena.Alloc(64, Mechanism);
        arena.Free(a);

        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(a));

        arena.Free(keep);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AnInteriorPointerOfTheRecentSlab_IsNotABlock()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(48, Mechanism);
        byte* b = (byte*)arena.Alloc(48, Mechanism);
        arena.Free(a);

        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(b + 8));
        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.Free(b - 16)); // before b: inside a's object

        arena.Free(b);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ObjectsOfOtherClassesAndPageBlocks_FreedInTurn_AreEachFreedOnce()
    {
        using BuddyArena arena = NewArena();
        var held = new List<nint>();
        int[] sizes = [16, 1024, 16, 8192, 100_000, 200, 16];
        for (int round = 0; round < 50; round++)
        {
            foreach (int size in sizes)
                held.Add((nint)arena.Alloc((nuint)size, Mechanism));
        }
        Assert.DoesNotContain(0, held);

        foreach (nint p in held) // each free's slab differs from the previous one's at almost every step
            arena.Free((void*)p);

        Assert.Equal(0, arena.GetStats().SlabObjects);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AFreeIntoTheRecentSlab_AfterTrimLetItGo_IsServedAndLosesNothing()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(128, Mechanism);
        void* b = arena.Alloc(128, Mechanism);
        arena.Free(a); // the slab is recent
        arena.Trim();  // every magazine drained: the slab has no owner now (b keeps it alive)

        arena.Free(b);

        Assert.Equal(0, ClassOf(arena, 128).ObjectsInUse);
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(b));
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AnObjectOfTheRecentSlab_FreedByAnotherThread_IsARemoteFree()
    {
        using BuddyArena arena = NewArena();
        void* a = arena.Alloc(32, Mechanism);
        void* b = arena.Alloc(32, Mechanism);
        arena.Free(a);

        var other = new Thread(() => arena.Free(b)); // its own magazine names no slab: no recent hit there
        other.Start();
        other.Join();

        Assert.Equal(0, ClassOf(arena, 32).ObjectsInUse);
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.Free(b));
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>The recent slab with per-thread magazines (owned slabs).</summary>
public sealed class RecentSlabTestsWithMagazines() : RecentSlabTests(magazines: true);

/// <summary>The same frees without magazines (shared slabs, no recent slab): the same outcomes.</summary>
public sealed class RecentSlabTestsShared() : RecentSlabTests(magazines: false);
