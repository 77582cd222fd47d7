using System.Collections.Concurrent;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Bytes;

/// <summary>Runs under the zone lock from several threads: no block is handed out twice, a racing free wins once.</summary>
public sealed unsafe class LargeRunConcurrencyTests
{
    private const int MaxOrder = 4;
    private const int BlockPages = 1 << (MaxOrder - 1);
    private const int Pages = 32 * BlockPages;
    private const int Block = BlockPages * 4096;

    [Fact]
    public void TwoThreadsRacingToFreeOneRun_ExactlyOneWins_AndTheOtherIsDoubleFree()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder, perCpuLists: true);
        for (int round = 0; round < 100; round++)
        {
            nint p = (nint)arena.Alloc(3 * Block, Mechanism);
            var statuses = new ConcurrentBag<FastBuddyStatus>();
            Concurrently.Run(2, _ =>
            {
                try
                {
                    arena.Free((void*)p);
                    statuses.Add(FastBuddyStatus.Ok);
                }
                catch (FastBuddyException e)
                {
                    statuses.Add(e.Status);
                }
            });
            Assert.Equal([FastBuddyStatus.Ok, FastBuddyStatus.DoubleFree], statuses.Order());
        }
        Assert.Equal(Pages, arena.GetStats().FreePages);
        arena.Validate();
    }

    [Fact]
    public void ThreadsAllocatingRunsAndPages_NeverShareMemory_AndKeepTheirData()
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder, perCpuLists: true);
        Concurrently.Run(4, t =>
        {
            var random = new Random(t);
            for (int i = 0; i < 300; i++)
            {
                bool run = t % 2 == 0;
                nuint bytes = run ? (nuint)(random.Next(2, 5) * Block - random.Next(Block - 1)) : (nuint)(4096 << random.Next(MaxOrder));
                void* p = arena.Alloc(bytes, Mechanism);
                if (p == null)
                    continue;
                nuint size = arena.UsableSize(p);
                ulong seed = Patterns.Seed(t, i);
                Patterns.Fill(p, size, seed);
                Thread.Yield();
                Patterns.AssertIntact(p, size, seed);
                arena.Free(p);
            }
        });
        arena.Validate();
        Assert.Equal(Pages, arena.GetStats().FreePages);
    }
}
