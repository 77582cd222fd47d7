using FastBuddy.PerThread;
using FastBuddy.Tests.PolicySupport;
using FastBuddy.Tests.TestSupport;
using ArenaState = FastBuddy.Tests.PolicySupport.ArenaState;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.PerCpu;

/// <summary>
/// The per-thread layer under pressure and at the arena's end: what the out-of-memory handler frees is seen by the
/// retry, host pages are not evicted while blocks sit idle in magazines, a call racing Dispose never gets memory
/// that is gone, and a drain does not wait forever for a thread stuck inside its window.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed unsafe class MagazineTrustTests
{
    [Fact]
    public void PagesFreedByTheOutOfMemoryHandler_AreSeenByItsRetry()
    {
        var held = new List<nint>();
        int calls = 0;
        bool armed = false;
        using BuddyArena arena = Create(perCpuPages: 256, outOfMemory: (a, order, flags) =>
        {
            if (!armed)
                return false;
            calls++;
            for (int i = 0; i < 8; i++)
                a.FreePages((void*)held[held.Count - 1 - i], 0);
            held.RemoveRange(held.Count - 8, 8);
            return true;
        });
        void* p;
        while ((p = arena.AllocPages(0, AllocFlags.MemAlloc)) != null)
            held.Add((nint)p);
        armed = true;

        void* q = arena.AllocPages(0, AllocFlags.Atomic);

        Assert.True(q != null, "the handler freed 8 pages and asked for a retry, which did not see them");
        Assert.Equal(1, calls);
        arena.FreePages(q, 0);
        foreach (nint h in held)
            arena.FreePages((void*)h, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void NoHostPageIsEvicted_WhileFreePagesSitIdleInOtherThreadsMagazines()
    {
        // 1024 pages: each magazine keeps up to 16 order-0 pages; 8 idle threads park 16 each.
        using BuddyArena arena = Create(pages: 1024, perCpuPages: 256);
        List<nint> held = ArenaState.TakeFromZone(arena, 1024 - 128);
        using var parked = new CountdownEvent(8);
        using var finish = new ManualResetEventSlim();
        var threads = new List<Thread>();
        for (int t = 0; t < 8; t++)
        {
            List<nint> mine = held.GetRange(t * 16, 16);
            var thread = new Thread(() =>
            {
                foreach (nint page in mine)
                    arena.FreePages((void*)page, 0);
                parked.Signal();
                finish.Wait(TimeSpan.FromSeconds(20)); // idle, alive
            });
            threads.Add(thread);
            thread.Start();
        }
        Assert.True(parked.Wait(TimeSpan.FromSeconds(10)));
        held.RemoveRange(0, 128);
        Assert.Equal(128, arena.GetStats().PerCpuPages);
        var owner = new RecordingOwner();
        List<nint> cache = ArenaState.MakeCleanInactive(arena, owner, 44);
        held.AddRange(ArenaState.TakeFromZone(arena, Min));

        var got = new List<nint>();
        for (int i = 0; i < 64; i++)
        {
            void* p = arena.AllocPages(0, AllocFlags.NoIo);
            Assert.True(p != null);
            got.Add((nint)p);
        }

        finish.Set();
        threads.ForEach(t => t.Join());
        Assert.Equal(0, owner.EvictCount);
        Assert.Equal(44, arena.GetStats().InactiveCleanPages);
        foreach (nint p in cache)
            Assert.True(arena.CacheRemove((void*)p));
        foreach (nint p in got.Concat(held).Concat(cache))
            arena.FreePages((void*)p, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void CallsRacingDispose_CompleteBeforeTheMemoryGoes_OrFailCleanly()
    {
        for (int round = 0; round < 20; round++)
        {
            var arena = BuddyArena.Create(16 << 20);
            int disposed = 0, lateSuccesses = 0, unexpected = 0;
            using var started = new CountdownEvent(2);
            var workers = new Thread[2];
            for (int w = 0; w < workers.Length; w++)
            {
                workers[w] = new Thread(() =>
                {
                    started.Signal();
                    try
                    {
                        while (true)
                        {
                            bool after = Volatile.Read(ref disposed) != 0;
                            // Zero and Realloc touch the block inside the call: released memory would fault here.
                            void* p = arena.AllocPages(0, AllocFlags.Kernel | AllocFlags.Zero);
                            void* q = arena.AllocPages(0);
                            if (after && (p != null || q != null))
                                Interlocked.Increment(ref lateSuccesses);
                            if (p != null)
                                arena.FreePages(p, 0);
                            if (q != null)
                                arena.FreePages(q, 0);
                            void* r = arena.Alloc(5000);
                            r = arena.Realloc(r, 20000);
                            arena.Free(r);
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref unexpected);
                    }
                });
                workers[w].Start();
            }
            started.Wait();
            Thread.Sleep(2);
            arena.Dispose();
            Volatile.Write(ref disposed, 1);
            foreach (Thread t in workers)
                Assert.True(t.Join(TimeSpan.FromSeconds(10)));
            Assert.Equal(0, lateSuccesses);
            Assert.Equal(0, unexpected);
        }
    }

    [Fact]
    public void ADrain_DoesNotWaitForever_ForAThreadStuckInsideItsWindow()
    {
        using BuddyArena arena = BuddyArena.Create(16 << 20);
        Magazine* stuck = null;
        using var ready = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var owner = new Thread(() =>
        {
            arena.FreePages(arena.AllocPages(0), 0); // a magazine with a parked page
            stuck = arena.ThreadMagazine();
            Volatile.Write(ref stuck->InUse, 1); // as if suspended inside a pop
            ready.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            Volatile.Write(ref stuck->InUse, 0);
        });
        owner.Start();
        ready.Wait();

        using var drained = new ManualResetEventSlim();
        var drainer = new Thread(() =>
        {
            arena.Policy.Magazines.DrainAll();
            drained.Set();
        }) { IsBackground = true };
        drainer.Start();
        bool finished = drained.Wait(TimeSpan.FromSeconds(10));

        release.Set();
        owner.Join();
        Assert.True(finished, "the drain is still waiting for the stuck thread");
        arena.Validate();
    }
}
