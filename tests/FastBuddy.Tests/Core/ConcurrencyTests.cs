using System.Collections.Concurrent;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// Four threads at once: every block carries a pattern specific to its thread and block, checked before it is freed,
/// so any block handed out twice or overlapping another shows up; at the end nothing is lost. These arenas keep the
/// default per-CPU lists (as users get them); Validate drains them, after which every page must be free again (once
/// the empty spare slabs the byte API's objects left are reaped).
/// </summary>
public sealed unsafe class ConcurrencyTests
{
    private const int Threads = 4;

    private static void AssertNothingLost(BuddyArena arena, ArenaStats fresh)
    {
        // Objects are freed too: empty slabs may stay as spares until memory pressure reaps them; reap them here.
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
        SlabProbe.ReapSpares(arena);
        arena.Validate();
        ArenaStats after = arena.GetStats();
        Assert.Equal(0, after.SlabPages);
        Assert.Equal(after.TotalPages, after.FreePages);
        for (int z = 0; z < arena.ZoneCount; z++)
            Assert.Equal(fresh.Zones[z].FreeBlocks, after.Zones[z].FreeBlocks);
        BuddyModel.AssertArenaState(arena, []);
    }

    [Fact]
    public void FourThreadsAllocatingAndFreeingRandomOrders_NeverShareMemory_AndLoseNothing()
    {
        using BuddyArena arena = SingleZone(8192, pageSize: 1024, maxOrder: 7, perCpuLists: true);
        ArenaStats fresh = arena.GetStats();
        long allocated = 0;

        Concurrently.Run(Threads, t =>
        {
            var random = new Random(1000 + t);
            var live = new List<LiveBlock>();
            long n = 0, mine = 0;
            for (int op = 0; op < 4000; op++)
            {
                if (live.Count < 40 && (live.Count == 0 || random.Next(100) < 55))
                {
                    int order = random.Next(6);
                    void* p = arena.AllocPages(order, AllocFlags.Kernel);
                    if (p == null)
                    {
                        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
                        continue;
                    }
                    nuint bytes = arena.BlockBytes(order);
                    Assert.Equal((nuint)0, (nuint)p % bytes);
                    Assert.True(arena.Owns(p));
                    ulong seed = Patterns.Seed(t, n++);
                    Patterns.Fill(p, bytes, seed);
                    live.Add(new LiveBlock((nint)p, order, seed));
                    mine++;
                }
                else
                {
                    int i = random.Next(live.Count);
                    LiveBlock b = live[i];
                    live[i] = live[^1];
                    live.RemoveAt(live.Count - 1);
                    Patterns.AssertIntact((void*)b.Address, arena.BlockBytes(b.Order), b.Seed);
                    arena.FreePages((void*)b.Address, b.Order);
                }
            }
            foreach (LiveBlock b in live)
            {
                Patterns.AssertIntact((void*)b.Address, arena.BlockBytes(b.Order), b.Seed);
                arena.FreePages((void*)b.Address, b.Order);
            }
            Interlocked.Add(ref allocated, mine);
        });

        AssertNothingLost(arena, fresh);
        ArenaStats after = arena.GetStats();
        Assert.Equal(allocated, after.Allocations);
        Assert.Equal(allocated, after.Frees);
    }

    [Fact]
    public void BlocksAndObjectsFreedByAnotherThread_AreAllReturned_Intact()
    {
        using BuddyArena arena = SingleZone(4096, pageSize: 1024, maxOrder: 6, perCpuLists: true);
        ArenaStats fresh = arena.GetStats();
        var handoff = new ConcurrentQueue<LiveBlock>();
        int producersDone = 0;

        Concurrently.Run(Threads, t =>
        {
            if (t < 2)
            {
                var random = new Random(t);
                for (long n = 0; n < 3000; n++)
                {
                    nuint bytes = (nuint)random.Next(1, 16 * 1024);
                    void* p = arena.Alloc(bytes, AllocFlags.Kernel);
                    if (p == null)
                    {
                        Thread.Yield();
                        continue;
                    }
                    nuint usable = arena.UsableSize(p);
                    Assert.True(usable >= bytes);
                    ulong seed = Patterns.Seed(t, n);
                    Patterns.Fill(p, usable, seed);
                    handoff.Enqueue(new LiveBlock((nint)p, (int)usable, seed)); // Order holds the byte size here
                }
                Interlocked.Increment(ref producersDone);
            }
            else
            {
                while (Volatile.Read(ref producersDone) < 2 || !handoff.IsEmpty)
                {
                    if (!handoff.TryDequeue(out LiveBlock b))
                    {
                        Thread.Yield();
                        continue;
                    }
                    Patterns.AssertIntact((void*)b.Address, (nuint)b.Order, b.Seed);
                    arena.Free((void*)b.Address);
                }
            }
        });

        Assert.True(handoff.IsEmpty);
        AssertNothingLost(arena, fresh);
    }

    [Fact]
    public void FourThreadsReallocatingTheirOwnBlocks_KeepTheirData()
    {
        using BuddyArena arena = SingleZone(4096, pageSize: 512, maxOrder: 7, perCpuLists: true);
        ArenaStats fresh = arena.GetStats();

        Concurrently.Run(Threads, t =>
        {
            var random = new Random(50 + t);
            var live = new List<LiveBlock>();
            long n = 0;
            for (int op = 0; op < 3000; op++)
            {
                int dice = random.Next(3);
                if (live.Count == 0 || (dice == 0 && live.Count < 30))
                {
                    void* p = arena.Alloc((nuint)random.Next(1, 8192), AllocFlags.Kernel);
                    if (p == null)
                        continue;
                    nuint usable = arena.UsableSize(p);
                    ulong seed = Patterns.Seed(t, n++);
                    Patterns.Fill(p, usable, seed);
                    live.Add(new LiveBlock((nint)p, (int)usable, seed)); // Order holds the byte size here
                }
                else
                {
                    int i = random.Next(live.Count);
                    LiveBlock b = live[i];
                    Patterns.AssertIntact((void*)b.Address, (nuint)b.Order, b.Seed);
                    if (dice == 1)
                    {
                        arena.Free((void*)b.Address);
                        live[i] = live[^1];
                        live.RemoveAt(live.Count - 1);
                        continue;
                    }
                    nuint bytes = (nuint)random.Next(1, 32 * 1024);
                    void* q = arena.Realloc((void*)b.Address, bytes, AllocFlags.Kernel);
                    if (q == null)
                        continue; // the old block is still ours and intact
                    nuint usable = arena.UsableSize(q);
                    Patterns.AssertIntact(q, Math.Min(usable, (nuint)b.Order), b.Seed);
                    ulong seed = Patterns.Seed(t, n++);
                    Patterns.Fill(q, usable, seed);
                    live[i] = new LiveBlock((nint)q, (int)usable, seed);
                }
            }
            foreach (LiveBlock b in live)
            {
                Patterns.AssertIntact((void*)b.Address, (nuint)b.Order, b.Seed);
                arena.Free((void*)b.Address);
            }
        });

        AssertNothingLost(arena, fresh);
    }

    [Fact]
    public void FourThreadsOnDifferentZonelists_StayWithinTheirZonelists_AndLoseNothing()
    {
        using BuddyArena arena = Zoned(1024, 6, perCpuLists: true, 4096, 4096, 4096, 4096);
        ArenaStats fresh = arena.GetStats();

        Concurrently.Run(Threads, t =>
        {
            var random = new Random(77 + t);
            var live = new List<LiveBlock>();
            for (long n = 0; n < 2500; n++)
            {
                if (live.Count < 40 && (live.Count == 0 || random.Next(2) == 0))
                {
                    int order = random.Next(6);
                    void* p = arena.AllocPages(order, Mechanism, t);
                    if (p == null)
                        continue;
                    Assert.InRange(ZoneProbe.ZoneIndexOf(arena, p), 0, t);
                    ulong seed = Patterns.Seed(t, n);
                    Patterns.Fill(p, arena.BlockBytes(order), seed);
                    live.Add(new LiveBlock((nint)p, order, seed));
                }
                else
                {
                    int i = random.Next(live.Count);
                    LiveBlock b = live[i];
                    live[i] = live[^1];
                    live.RemoveAt(live.Count - 1);
                    Patterns.AssertIntact((void*)b.Address, arena.BlockBytes(b.Order), b.Seed);
                    arena.FreePages((void*)b.Address, b.Order);
                }
            }
            foreach (LiveBlock b in live)
                arena.FreePages((void*)b.Address, b.Order);
        });

        AssertNothingLost(arena, fresh);
    }
}
