using System.Diagnostics;
using FastBuddy.Tests.PolicySupport;
using Xunit.Abstractions;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// A simulated file cache under memory pressure: blocks are read and written through arena pages, dirty pages are
/// written back to a byte-array disk by the arena's laundering, clean ones are evicted; every read, periodic
/// checks and a final flush compare each block with the last content written: no data lost, none stale.
/// </summary>
public sealed unsafe class FileCacheScenarioTests(ITestOutputHelper output)
{
    private const int PageSize = 512;

    private static BuddyArena CreateArena(bool background, int perCpuPages, int pages = 128)
        => PolicyArena.Create(pages: pages, min: 8, low: 16, high: 24, background: background,
            allocWait: TimeSpan.FromMilliseconds(200), pageSize: PageSize, perCpuPages: perCpuPages);

    private static byte[][] NewDisk(int blocks, Random random)
    {
        var disk = new byte[blocks][];
        for (int b = 0; b < blocks; b++)
        {
            disk[b] = new byte[PageSize];
            random.NextBytes(disk[b]);
        }
        return disk;
    }

    /// <summary>
    /// Runs <paramref name="operations"/> random operations on blocks [first, first + count): 45 % reads, 45 %
    /// writes (70 % of them on a hot set of 40 blocks) and 10 % order-2 scratch buffers. Returns the number of
    /// reads that did not return the last content written.
    /// </summary>
    private static int Workload(BuddyArena arena, SimulatedFileCache cache, byte[][] expected, int first, int count,
        int operations, int seed, Action<int>? checkpoint = null)
    {
        var random = new Random(seed);
        var buffer = new byte[PageSize];
        int stale = 0;
        for (int op = 0; op < operations; op++)
        {
            int block = first + (random.Next(10) < 7 ? random.Next(Math.Min(40, count)) : random.Next(count));
            int kind = random.Next(20);
            if (kind < 9)
            {
                cache.Read(block, buffer);
                if (!buffer.AsSpan().SequenceEqual(expected[block]))
                    stale++;
            }
            else if (kind < 18)
            {
                random.NextBytes(buffer);
                buffer[0] = (byte)block;
                cache.Write(block, buffer);
                buffer.CopyTo(expected[block], 0);
            }
            else
            {
                void* scratch = arena.AllocPages(2, AllocFlags.Kernel);
                if (scratch != null)
                    arena.FreePages(scratch, 2);
            }
            checkpoint?.Invoke(op);
        }
        return stale;
    }

    private void Print(string title, BuddyArena arena, SimulatedFileCache cache, long elapsedMs)
    {
        ArenaStats s = arena.GetStats();
        output.WriteLine($"{title} ({elapsedMs} ms)");
        output.WriteLine($"  Steps: {StepCounts.From(s.Steps)}");
        output.WriteLine($"  Reclaimed {s.Reclaimed}, Laundered {s.Laundered}, Allocations {s.Allocations}, Frees {s.Frees}, "
            + $"Failures {s.Failures}, MemoryPressure {s.MemoryPressure}");
        output.WriteLine($"  cache: {cache}");
    }

    [Fact]
    public void FileCache_UnderMemoryPressure_NeverLosesOrServesStaleData()
    {
        const int blocks = 300;
        var random = new Random(2024);
        byte[][] disk = NewDisk(blocks, random);
        byte[][] expected = disk.Select(b => (byte[])b.Clone()).ToArray();
        using BuddyArena arena = CreateArena(background: false, perCpuPages: 0);
        var cache = new SimulatedFileCache(arena, disk);
        // Memory the program holds besides the cache: the cache must live in what is left.
        var anonymous = new List<nint>();
        for (int i = 0; i < 24; i++)
            anonymous.Add((nint)arena.AllocPages(0));
        var clock = Stopwatch.StartNew();

        int stale = Workload(arena, cache, expected, 0, blocks, operations: 20000, seed: 7, checkpoint: op =>
        {
            if (op % 2000 != 1999)
                return;
            for (int b = 0; b < blocks; b++)
                Assert.True(cache.Holds(b, expected[b]), $"block {b} differs from its last write after {op + 1} operations");
            arena.Validate();
        });

        Print("single thread, no background reclaim", arena, cache, clock.ElapsedMilliseconds);
        Assert.Equal(0, stale);
        Assert.Equal(0, cache.DirtyEvictions);
        ArenaStats s = arena.GetStats();
        Assert.True(s.Reclaimed > 100, "the cache was not under pressure");
        Assert.True(s.Laundered > 100, "dirty pages were not written back by the arena");
        Assert.Equal(cache.Evictions, s.Reclaimed);
        Assert.True(cache.CachedBlocks < 128);

        cache.Flush();
        for (int b = 0; b < blocks; b++)
            Assert.True(disk[b].AsSpan().SequenceEqual(expected[b]), $"block {b} on disk differs from its last write");
        arena.Validate();
        foreach (nint p in anonymous)
            arena.FreePages((void*)p, 0);
        Assert.Equal(s.TotalPages, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void FileCache_TwoThreadsWithBackgroundReclaim_NeverLoseOrServeStaleData()
    {
        const int blocksPerThread = 150;
        var random = new Random(99);
        byte[][] disk = NewDisk(2 * blocksPerThread, random);
        byte[][] expected = disk.Select(b => (byte[])b.Clone()).ToArray();
        using BuddyArena arena = CreateArena(background: true, perCpuPages: 64) /* per-CPU lists on, as by default */;
        var cache = new SimulatedFileCache(arena, disk);
        var stale = new int[2];
        var failures = new Exception?[2];
        var clock = Stopwatch.StartNew();

        var workers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                stale[t] = Workload(arena, cache, expected, t * blocksPerThread, blocksPerThread, operations: 15000, seed: 100 + t);
            }
            catch (Exception e)
            {
                failures[t] = e;
            }
        })).ToArray();
        foreach (Thread w in workers)
            w.Start();
        foreach (Thread w in workers)
            Assert.True(w.Join(TimeSpan.FromSeconds(20)), "a worker hung");

        Print("two threads, background reclaim, per-CPU lists", arena, cache, clock.ElapsedMilliseconds);
        Assert.Equal([null, null], failures);
        Assert.Equal([0, 0], stale);
        Assert.Equal(0, cache.DirtyEvictions);
        Assert.True(arena.GetStats().Reclaimed > 0);
        arena.Validate();

        cache.Flush();
        for (int b = 0; b < disk.Length; b++)
            Assert.True(disk[b].AsSpan().SequenceEqual(expected[b]), $"block {b} on disk differs from its last write");
        arena.Validate();
    }
}
