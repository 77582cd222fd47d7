using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// Two threads free the same block at the same instant, thousands of times: exactly one free may succeed, the other
/// must be refused as a double free, and the arena must stay sound. Runs alone (no other test class in parallel) so
/// that the threads really overlap on a small machine.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed unsafe class RacingFreeTests
{
    /// <summary>Busy-waits (yielding only now and then) so that a released thread runs at once.</summary>
    private static void SpinUntil(ref int value, int expected)
    {
        for (int spins = 1; Volatile.Read(ref value) != expected; spins++)
        {
            if (spins % 20_000 == 0)
                Thread.Yield();
            else
                Thread.SpinWait(1);
        }
    }

    /// <summary>
    /// Round after round, thread 0 allocates one block and every thread frees it at the same moment (released by a
    /// spinning start signal, which lines the threads up far more tightly than a kernel wait).
    /// </summary>
    private static void RaceFrees(BuddyArena arena, int order, int threads, int rounds)
    {
        long total = arena.GetStats().TotalPages;
        int successes = 0, doubleFrees = 0, finished = 0, phase = 0, spinning = 0;
        nint block = 0;

        Concurrently.Run(threads, t =>
        {
            for (int round = 1; round <= rounds; round++)
            {
                if (t == 0)
                {
                    // Wait for the previous round to end and for every other thread to spin on this one, then go.
                    SpinUntil(ref finished, (round - 1) * threads);
                    block = (nint)arena.AllocPages(order, Mechanism);
                    SpinUntil(ref spinning, round * (threads - 1));
                    Volatile.Write(ref phase, round);
                }
                else
                {
                    Interlocked.Increment(ref spinning);
                    SpinUntil(ref phase, round);
                }
                try
                {
                    arena.FreePages((void*)block, order);
                    Interlocked.Increment(ref successes);
                }
                catch (FastBuddyException ex) when (ex.Status == FastBuddyStatus.DoubleFree)
                {
                    Interlocked.Increment(ref doubleFrees);
                }
                Interlocked.Increment(ref finished);
            }
        });

        arena.Validate();
        Assert.Equal(rounds, successes);
        Assert.Equal(rounds * (threads - 1), doubleFrees);
        Assert.Equal(total, arena.GetStats().FreePages);
    }

    [Fact]
    public void RacingFreesOfOneBlock_ExactlyOneSucceeds_TheOthersAreDoubleFree()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 5);

        RaceFrees(arena, order: 2, threads: 2, rounds: 5000);
    }

    [Fact]
    public void RacingFreesOfOneBlock_WithPerCpuLists_ExactlyOneSucceeds_TheOthersAreDoubleFree()
    {
        using BuddyArena arena = SingleZone(4096, maxOrder: 11, perCpuLists: true);

        RaceFrees(arena, order: 0, threads: 2, rounds: 25000);
    }
}
