using CsCheck;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>
/// Thousands of random operations (alloc of a random order, free of a random live block, realloc) checked against a
/// reference model of live intervals: no overlap, alignment, exact free page counts, predicted successes, failures and
/// in-place growth, and periodically the exact free areas and merge bitmaps.
/// </summary>
public sealed class RandomSequenceTests
{
    private static void RunRandom(SequenceRunner runner, int seed, int operations, int checkEvery)
    {
        BuddyArena arena = runner.Arena;
        var random = new Random(seed);
        nuint largest = arena.BlockBytes(arena.MaxOrder - 1);
        for (int i = 0; i < operations; i++)
        {
            int dice = random.Next(100);
            if (dice < 45)
                runner.Alloc(random.Next(arena.MaxOrder), random.Next(arena.ZoneCount), zero: random.Next(8) == 0);
            else if (dice < 80)
                runner.FreeAt(random.Next(), byteApi: random.Next(2) == 0);
            else if (dice < 97)
                runner.ReallocAt(random.Next(), (nuint)random.NextInt64(1, (long)largest + 1) >> random.Next(arena.MaxOrder));
            else
                runner.ReallocAt(random.Next(), 0);

            runner.Model.AssertFreePageCount();
            if (i % checkEvery == 0)
                runner.Model.AssertArenaMatches();
        }
        runner.Model.AssertArenaMatches();
    }

    [Fact]
    public void FiveThousandRandomOperations_OnAnOddSizedZone_MatchTheIntervalModel()
    {
        using BuddyArena arena = SingleZone(3 * 64 + 32 + 5, pageSize: 256, maxOrder: 7);
        var runner = new SequenceRunner(arena);
        long[] seeded = ZoneProbe.StatsFreeBlocks(arena);

        RunRandom(runner, seed: 20241125, operations: 5000, checkEvery: 50);
        runner.AssertEveryPathExercised();

        runner.FreeAll();
        Assert.Equal(seeded, ZoneProbe.StatsFreeBlocks(arena));
        runner.Model.AssertArenaMatches();
    }

    [Fact]
    public void FiveThousandRandomOperations_OnThreeZones_MatchTheIntervalModelAndTheZonelists()
    {
        using BuddyArena arena = Zoned(128, 6, 64, 100, 37);
        var runner = new SequenceRunner(arena);
        ArenaStats fresh = arena.GetStats();

        RunRandom(runner, seed: 7, operations: 5000, checkEvery: 50);
        runner.AssertEveryPathExercised();

        runner.FreeAll();
        ArenaStats after = arena.GetStats();
        for (int z = 0; z < arena.ZoneCount; z++)
            Assert.Equal(fresh.Zones[z].FreeBlocks, after.Zones[z].FreeBlocks);
        runner.Model.AssertArenaMatches();
    }

    [Fact]
    public void FiveThousandRandomOperations_WithPerCpuLists_KeepTheAccounting_AndFailOnlyWhenNothingIsFree()
    {
        // Zones large enough for the per-CPU lists to hold blocks (a list holds at most 1/64 of its zone).
        using BuddyArena arena = Zoned(64, 7, perCpuLists: true, 1024 + 64, 2048 + 3);
        var runner = new SequenceRunner(arena, exact: false);
        ArenaStats fresh = arena.GetStats();
        bool sawParked = false;
        var random = new Random(31);
        for (int i = 0; i < 5000; i++)
        {
            int dice = random.Next(100);
            if (dice < 50)
                runner.Alloc(random.Next(4) == 0 ? random.Next(arena.MaxOrder) : random.Next(3), random.Next(2), zero: random.Next(8) == 0);
            else if (dice < 85)
                runner.FreeAt(random.Next(), byteApi: random.Next(2) == 0);
            else
                runner.ReallocAt(random.Next(), (nuint)random.Next(1, 64 << 6));
            runner.Model.AssertFreePageCount(); // free + parked == total - live
            sawParked |= arena.GetStats().PerCpuPages > 0;
            if (i % 100 == 0)
                runner.Model.AssertArenaMatches(); // Validate drains the lists: then the free areas are exact
        }

        Assert.True(sawParked, "the per-CPU lists never held a block: this test did not exercise them");
        Assert.True(runner.AllocFailed > 0 && runner.AllocSucceeded > 0, $"alloc ok {runner.AllocSucceeded}, failed {runner.AllocFailed}");
        runner.FreeAll();
        runner.Model.AssertArenaMatches();
        ArenaStats after = arena.GetStats();
        for (int z = 0; z < arena.ZoneCount; z++)
            Assert.Equal(fresh.Zones[z].FreeBlocks, after.Zones[z].FreeBlocks);
    }

    [Fact]
    public void RandomOperationsWithManySeeds_KeepTheModelAfterEveryStep()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            using BuddyArena arena = SingleZone(48 + 3, pageSize: 64, maxOrder: 5);
            var runner = new SequenceRunner(arena);
            RunRandom(runner, seed, operations: 150, checkEvery: 1);
            runner.FreeAll();
            runner.Model.AssertArenaMatches();
        }
    }

    /// <summary>One generated operation: kind 0 alloc, 1 free, 2 realloc, 3 realloc to 0; a pick; a size or order.</summary>
    private static readonly Gen<(int Kind, int Pick, int Size)[]> Operations =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1000], Gen.Int[1, 8 * 1024]).Array[1, 120];

    [Fact]
    public void GeneratedOperationSequences_KeepTheBuddyInvariants()
    {
        Operations.Sample(ops =>
        {
            using BuddyArena arena = Zoned(64, 6, 40 + 3, 32);
            var runner = new SequenceRunner(arena);
            foreach ((int kind, int pick, int size) in ops)
            {
                switch (kind)
                {
                    case 0: runner.Alloc(size % arena.MaxOrder, pick % arena.ZoneCount, zero: pick % 5 == 0); break;
                    case 1: runner.FreeAt(pick, byteApi: size % 2 == 0); break;
                    case 2: runner.ReallocAt(pick, (nuint)(size % 2048 + 1)); break;
                    default: runner.ReallocAt(pick, 0); break;
                }
                runner.Model.AssertFreePageCount();
            }
            runner.Model.AssertArenaMatches();
            runner.FreeAll();
            runner.Model.AssertArenaMatches();
        }, iter: 300, threads: 1);
    }
}
