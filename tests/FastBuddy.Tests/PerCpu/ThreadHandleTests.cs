using FastBuddy.Tests.Slab;
using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.PerCpu;

/// <summary>
/// <see cref="ThreadHandle"/>: the arena's fast paths with the thread's magazine held in a local. It serves and
/// frees exactly what the arena's own methods do, rejects the same bad frees with the same statuses, and after
/// the arena's dispose (or without magazines) takes the checked path, never another arena's memory.
/// </summary>
public abstract unsafe class ThreadHandleTests(bool magazines) : SlabSpec(magazines)
{
    [Fact]
    public void ObjectsAndBlocksFromAHandle_AreFreedByTheHandleOrByTheArena_AndAllComeBack()
    {
        using BuddyArena arena = NewArena();
        ThreadHandle h = arena.GetThreadHandle();
        var objects = new List<nint>();
        var blocks = new List<nint>();
        for (int i = 0; i < 2000; i++)
            objects.Add((nint)h.Alloc((nuint)(16 + i % 9 * 120), Mechanism));
        for (int i = 0; i < 64; i++)
            blocks.Add((nint)h.AllocPages(i % 3, Mechanism));
        Assert.DoesNotContain(0, objects);
        Assert.DoesNotContain(0, blocks);
        Assert.Equal(objects.Count, objects.Distinct().Count());
        Assert.Equal(2000, arena.GetStats().SlabObjects);

        for (int i = 0; i < objects.Count; i++)
        {
            if (i % 2 == 0)
                h.Free((void*)objects[i]);
            else
                arena.Free((void*)objects[i]);
        }
        for (int i = 0; i < blocks.Count; i++)
            h.FreePages((void*)blocks[i], i % 3);

        Assert.Equal(0, arena.GetStats().SlabObjects);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void BadFreesThroughAHandle_AreRejectedWithTheArenasStatuses()
    {
        using BuddyArena arena = NewArena();
        ThreadHandle h = arena.GetThreadHandle();
        byte* a = (byte*)h.Alloc(64, Mechanism);
        void* keep = h.Alloc(64, Mechanism);
        void* block = h.AllocPages(1, Mechanism);
        h.Free(a);

        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.GetThreadHandle().Free(a));
        AssertRejected(arena, FastBuddyStatus.NotABlock, () => arena.GetThreadHandle().Free((byte*)keep + 8));
        AssertRejected(arena, FastBuddyStatus.OrderMismatch, () => arena.GetThreadHandle().FreePages(block, 0));
        h.FreePages(block, 1);
        AssertRejected(arena, FastBuddyStatus.DoubleFree, () => arena.GetThreadHandle().FreePages(block, 1));

        h.Free(keep);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AHandleOfADisposedArena_Throws_AndNeverServesTheNextArenasMemory()
    {
        BuddyArena first = NewArena();
        ThreadHandle h = first.GetThreadHandle();
        h.Free(h.Alloc(32, Mechanism));
        first.Dispose();
        using BuddyArena second = NewArena(); // the thread's magazine memory may now serve this one
        void* theirs = second.Alloc(32, Mechanism);
        ArenaStats before = second.GetStats();

        Assert.True(Throws(h, 0) is ObjectDisposedException, "Alloc through a disposed arena's handle");
        Assert.True(Throws(h, 1) is ObjectDisposedException, "AllocPages through a disposed arena's handle");
        Assert.True(Throws(h, 2) is ObjectDisposedException, "Free through a disposed arena's handle");

        Assert.Equal(before.SlabObjects, second.GetStats().SlabObjects);
        Assert.Equal(before.FreePages, second.GetStats().FreePages);
        Assert.Throws<ObjectDisposedException>(() => first.GetThreadHandle());
        second.Free(theirs);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(second);
    }

    private static Exception? Throws(ThreadHandle h, int what)
    {
        try
        {
            if (what == 0)
                h.Alloc(32, Mechanism);
            else if (what == 1)
                h.AllocPages(0, Mechanism);
            else
                h.Free((void*)0x1000);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}

/// <summary>The handle on per-thread magazines.</summary>
public sealed class ThreadHandleTestsWithMagazines() : ThreadHandleTests(magazines: true);

/// <summary>The handle of an arena without magazines: every call takes the checked path, with the same outcomes.</summary>
public sealed class ThreadHandleTestsWithoutMagazines() : ThreadHandleTests(magazines: false);
