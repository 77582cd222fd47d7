using FastBuddy.Tests.PolicySupport;
using Xunit.Abstractions;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Owner callbacks racing the host's CacheRemove: with kswapd/kreclaimd in the background, direct reclaim in an
/// allocating thread and two threads taking the same pages back, exactly one of {CacheRemove returned true, Evict}
/// happens to every cached page.
/// </summary>
public sealed unsafe class CacheRaceTests(ITestOutputHelper output)
{
    /// <summary>CacheRemove from one of two racing removers: the other one may have taken the page back already.</summary>
    private static bool TryRemove(BuddyArena arena, nint page)
    {
        try
        {
            return arena.CacheRemove((void*)page);
        }
        catch (FastBuddyException e) when (e.Status == FastBuddyStatus.InvalidArgument)
        {
            return false; // not in the cache: the other remover won
        }
    }

    [Fact]
    public void CacheRemoveRacingReclaim_ExactlyOneOfRemoveOrEvictPerPage()
    {
        const int iterations = 30;
        const int cachedPages = 96;
        long totalRemoved = 0, totalEvicted = 0;
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            var owner = new RecordingOwner { OnEvict = _ => Thread.SpinWait(200) };
            BuddyArena arena = Create(background: true, allocWait: TimeSpan.FromMilliseconds(20), perCpuPages: 64);
            var removed = new int[cachedPages];
            List<nint> cached;
            try
            {
                List<nint> held = ArenaState.DrainTo(arena, 30);
                cached = held.Take(cachedPages).ToList();
                ArenaState.CacheExisting(arena, owner, cached, dirty: false);
                ArenaState.AgeToInactive(arena);

                using var start = new Barrier(4);
                var failures = new List<Exception>();
                void Run(Action body) { try { start.SignalAndWait(); body(); } catch (Exception e) { lock (failures) failures.Add(e); } }

                var threads = new[]
                {
                    new Thread(() => Run(() =>
                    {
                        // Direct reclaim (NoIo) and atomic allocations that push the zone below pages_min (kreclaimd).
                        for (int i = 0; i < 80; i++)
                            arena.AllocPages(0, i % 3 == 0 ? AllocFlags.Atomic : AllocFlags.NoIo);
                    })),
                    new Thread(() => Run(() =>
                    {
                        for (int i = 0; i < cachedPages; i++)
                        {
                            if (TryRemove(arena, cached[i]))
                                Interlocked.Increment(ref removed[i]);
                            Thread.SpinWait(300);
                        }
                    })),
                    new Thread(() => Run(() =>
                    {
                        for (int i = cachedPages - 1; i >= 0; i--)
                        {
                            if (TryRemove(arena, cached[i]))
                                Interlocked.Increment(ref removed[i]);
                            Thread.SpinWait(300);
                        }
                    })),
                    new Thread(() => Run(() =>
                    {
                        var random = new Random(iteration);
                        for (int i = 0; i < 200; i++)
                        {
                            try
                            {
                                arena.CacheTouch((void*)cached[random.Next(cachedPages)]);
                            }
                            catch (FastBuddyException)
                            {
                                // removed or reclaimed meanwhile: no longer a cached page
                            }
                        }
                    })),
                };
                foreach (Thread t in threads)
                    t.Start();
                foreach (Thread t in threads)
                    Assert.True(t.Join(TimeSpan.FromSeconds(10)), "a racing thread hung");
                Assert.Empty(failures);
                arena.Validate();
            }
            finally
            {
                arena.Dispose(); // joins the reclaimer thread: every Evict it started has been recorded
            }

            for (int i = 0; i < cachedPages; i++)
            {
                int evicted = owner.EvictionsOf(cached[i]);
                Assert.True(removed[i] + evicted == 1,
                    $"iteration {iteration}, page {i}: CacheRemove returned true {removed[i]} times, Evict called {evicted} times");
            }
            totalRemoved += removed.Sum();
            totalEvicted += owner.EvictCount;
        }
        output.WriteLine($"{iterations} iterations x {cachedPages} pages: {totalRemoved} taken back by CacheRemove, {totalEvicted} evicted");
    }
}
