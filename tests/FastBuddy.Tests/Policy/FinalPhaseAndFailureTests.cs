using FastBuddy.Tests.PolicySupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Step 6 (the final phase: atomic callers, higher orders that fell through, MemAlloc callers; only MemAlloc takes
/// the last quarter of pages_min) and step 7 (failure: null, NoMemory, counted, logged).
/// </summary>
public sealed unsafe class FinalPhaseAndFailureTests
{
    [Fact]
    public void Step6_AtomicCaller_GetsPagesDownToTheFloorThenNull()
    {
        using BuddyArena arena = Create();
        int served = 0;
        while (arena.AllocPages(0, AllocFlags.Atomic) != null)
            served++;

        Assert.Equal(Pages - Floor, served);
        Assert.Equal(Floor, ArenaState.Free(arena));
        // 256..32 free: fast path (225); 31..17: above min (15); 16..5: final phase (12); at 4: failure.
        Assert.Equal(StepCounts.Of(fastPath: 225, min: 15, finalPhase: 12, failed: 1), StepCounts.Read(arena));
        arena.Validate();
    }

    [Fact]
    public void Step6_MemAllocCaller_TakesEverythingDownToZero()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Floor);
        StepCounts before = StepCounts.Read(arena);

        for (long i = 0; i < Floor; i++)
            Assert.True(arena.AllocPages(0, AllocFlags.MemAlloc) != null);
        Assert.Equal(0, ArenaState.Free(arena));
        Assert.True(arena.AllocPages(0, AllocFlags.MemAlloc) == null);

        Assert.Equal(StepCounts.Of(finalPhase: Floor, failed: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void Step6_AtomicHigherOrder_StopsWhereTheBlockWouldCrossTheFloor()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Floor + 2); // an order-1 block leaves exactly the floor
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(1, AllocFlags.Atomic);
        Assert.True(p != null);
        Assert.True(arena.AllocPages(1, AllocFlags.Atomic) == null);

        Assert.Equal(StepCounts.Of(finalPhase: 1, failed: 1), StepCounts.Read(arena) - before);
        Assert.Equal(Floor, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Step7_Failure_ReturnsNullWithNoMemoryAndIsCounted()
    {
        using BuddyArena arena = Create();
        ArenaState.DrainTo(arena, Floor);
        ArenaStats before = arena.GetStats();

        void* p = arena.AllocPages(0, AllocFlags.Atomic);

        Assert.True(p == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        ArenaStats after = arena.GetStats();
        Assert.Equal(StepCounts.Of(failed: 1), StepCounts.From(after.Steps) - StepCounts.From(before.Steps));
        Assert.Equal(before.Failures + 1, after.Failures);
        Assert.Equal(before.Allocations, after.Allocations);
        Assert.Equal(before.FreePages, after.FreePages);
        arena.Validate();
    }

    [Fact]
    public void Step7_Failure_LogsAWarningNamingTheOrder()
    {
        var logger = new TestLogger();
        using BuddyArena arena = Create(logger: logger);
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);
        Assert.True(arena.AllocPages(3, AllocFlags.Atomic) == null);

        IReadOnlyList<LogEntry> warnings = logger.At(LogLevel.Warning);
        Assert.Equal(2, warnings.Count);
        Assert.Contains("0-order allocation failed", warnings[0].Message);
        Assert.Contains("3-order allocation failed", warnings[1].Message);
        arena.Validate();
    }

    [Fact]
    public void Step7_LastError_IsOkAgainAfterTheNextSuccess()
    {
        using BuddyArena arena = Create();
        List<nint> held = ArenaState.DrainTo(arena, Floor);
        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);

        arena.FreePages((void*)held[0], 0);
        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void Step7_AtomicFailure_DoesNotWaitOrTouchTheCache()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        ArenaState.MakeDirtyInactive(arena, owner, 8);
        ArenaState.DrainTo(arena, Floor);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);

        Assert.True(clock.ElapsedMilliseconds < 1000, $"took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(0, owner.WritebackCount);
        Assert.Equal(0, owner.EvictCount);
        arena.Validate();
    }
}
