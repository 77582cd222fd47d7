using System.Collections.Concurrent;
using FastBuddy.Tests.TestSupport;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Objects freed by other threads than the ones that allocated them: producers allocate and fill, consumers check
/// and free through a queue; nothing is lost, no object is handed out twice, and at the end every object is free.
/// A thread that exits while it owns slabs gives them back at the next Balance.
/// </summary>
public abstract unsafe class CrossThreadTests(bool magazines) : SlabSpec(magazines)
{
    private readonly record struct Handoff(nint Address, int Bytes, ulong Seed);

    [Fact]
    public void ObjectsFreedByConsumerThreads_AllComeBackIntact_AndNoneIsLost()
    {
        using BuddyArena arena = NewArena();
        var queue = new ConcurrentQueue<Handoff>();
        const int Producers = 2, PerProducer = 20_000;
        int producersDone = 0;
        long consumed = 0;

        Concurrently.Run(4, t =>
        {
            if (t < Producers)
            {
                var random = new Random(100 + t);
                for (int n = 0; n < PerProducer; n++)
                {
                    int bytes = random.Next(4) == 0 ? random.Next(1, 4096) : random.Next(1, 256);
                    void* p = arena.Alloc((nuint)bytes, Mechanism);
                    Assert.True(p != null);
                    nuint usable = arena.UsableSize(p);
                    ulong seed = Patterns.Seed(t, n);
                    Patterns.Fill(p, usable, seed);
                    queue.Enqueue(new Handoff((nint)p, (int)usable, seed));
                }
                Interlocked.Increment(ref producersDone);
            }
            else
            {
                while (Volatile.Read(ref producersDone) < Producers || !queue.IsEmpty)
                {
                    if (!queue.TryDequeue(out Handoff h))
                    {
                        Thread.Yield();
                        continue;
                    }
                    Patterns.AssertIntact((void*)h.Address, (nuint)h.Bytes, h.Seed);
                    arena.Free((void*)h.Address);
                    Interlocked.Increment(ref consumed);
                }
            }
        });

        Assert.Equal(Producers * PerProducer, consumed);
        Assert.Equal(0, arena.GetStats().SlabObjects); // remote frees not yet folded in count as freed
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AnObjectFreedByAnotherThread_IsAllocatedAgainByItsOwner()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(64, Mechanism);
        void* keep = arena.Alloc(64, Mechanism);

        var other = new Thread(() => arena.Free(p));
        other.Start();
        other.Join();

        Assert.Equal(1, ClassOf(arena, 64).ObjectsInUse);
        var again = new List<nint>();
        int perSlab = ClassOf(arena, 64).ObjectsPerSlab;
        for (int i = 0; i < perSlab - 1; i++) // the rest of the slab, including p once the owner folds the remote free
            again.Add((nint)arena.Alloc(64, Mechanism));
        Assert.Contains((nint)p, again);
        Assert.Equal(1, ClassOf(arena, 64).Slabs);
        Assert.Equal(again.Count, again.Distinct().Count());
        foreach (nint q in again)
            arena.Free((void*)q);
        arena.Free(keep);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ThreadsFreeingEachOthersObjects_AtOnce_LoseNothing()
    {
        using BuddyArena arena = NewArena();
        const int Threads = 4, Rounds = 200, Batch = 64;
        var slots = new ConcurrentQueue<Handoff>[Threads];
        for (int t = 0; t < Threads; t++)
            slots[t] = new ConcurrentQueue<Handoff>();

        Concurrently.Run(Threads, t =>
        {
            var random = new Random(7 + t);
            for (int round = 0; round < Rounds; round++)
            {
                for (int i = 0; i < Batch; i++)
                {
                    int bytes = random.Next(1, 600);
                    void* p = arena.Alloc((nuint)bytes, Mechanism);
                    ulong seed = Patterns.Seed(t, round * Batch + i);
                    Patterns.Fill(p, arena.UsableSize(p), seed);
                    slots[(t + 1) % Threads].Enqueue(new Handoff((nint)p, (int)arena.UsableSize(p), seed));
                }
                while (slots[t].TryDequeue(out Handoff h))
                {
                    Patterns.AssertIntact((void*)h.Address, (nuint)h.Bytes, h.Seed);
                    arena.Free((void*)h.Address);
                }
            }
        });

        foreach (ConcurrentQueue<Handoff> q in slots)
        {
            while (q.TryDequeue(out Handoff h))
            {
                Patterns.AssertIntact((void*)h.Address, (nuint)h.Bytes, h.Seed);
                arena.Free((void*)h.Address);
            }
        }
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AThreadThatExits_OwningEmptySlabs_GivesThemBackAtTheNextBalance()
    {
        using BuddyArena arena = NewArena();
        int[] sizes = [16, 208, 3072]; // class sizes

        var worker = new Thread(() =>
        {
            foreach (int size in sizes)
            {
                void* p = arena.Alloc((nuint)size, Mechanism);
                arena.Free(p); // the slab stays the thread's current one, empty
            }
        });
        worker.Start();
        worker.Join();
        foreach (int size in sizes)
        {
            SlabClassStats cls = ClassOf(arena, size);
            // With magazines the dead thread still owns it; shared slabs are the class's as soon as they empty.
            Assert.Equal((1L, Magazines ? 0L : 1L), (cls.Slabs, cls.SpareSlabs));
        }

        arena.Balance();

        foreach (int size in sizes)
        {
            SlabClassStats cls = ClassOf(arena, size);
            // With magazines the dead thread's empty slabs went straight back to the buddy system (not kept as
            // spares); a shared slab was the class's spare all along.
            long left = Magazines ? 0 : 1;
            Assert.Equal((left, left, 0L), (cls.Slabs, cls.SpareSlabs, cls.ObjectsInUse));
        }
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ObjectsOfAThreadThatExited_CanBeFreedByAnother_AndTheirSlabsComeBack()
    {
        using BuddyArena arena = NewArena();
        var objects = new List<nint>();

        var worker = new Thread(() =>
        {
            for (int i = 0; i < 300; i++)
                objects.Add((nint)arena.Alloc((nuint)(8 + i % 50 * 8), Mechanism));
        });
        worker.Start();
        worker.Join();
        arena.Balance();
        Assert.Equal(300, arena.GetStats().SlabObjects);

        foreach (nint p in objects)
            arena.Free((void*)p);

        Assert.Equal(0, arena.GetStats().SlabObjects);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>Cross-thread frees with per-thread magazines (remote bitmaps).</summary>
public sealed class CrossThreadTestsWithMagazines() : CrossThreadTests(magazines: true);

/// <summary>Cross-thread frees without magazines (shared slabs under the class lock).</summary>
public sealed class CrossThreadTestsShared() : CrossThreadTests(magazines: false);
