using System.Diagnostics;
using FastBuddy.Tests.PolicySupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>Evict is final even when it throws; code inside owner callbacks allocates as MemAlloc.</summary>
public sealed unsafe class OwnerCallbackTests
{
    [Fact]
    public void EvictThrowing_IsStillFinal_ThePageIsReclaimedAndTheExceptionLogged()
    {
        var logger = new TestLogger();
        var owner = new RecordingOwner { OnEvict = _ => throw new InvalidOperationException("owner bug") };
        using BuddyArena arena = Create(logger: logger);
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        ArenaStats before = arena.GetStats();

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal([(nint)p], owner.Evicted);
        ArenaStats after = arena.GetStats();
        Assert.Equal(StepCounts.Of(directReclaim: 1), StepCounts.From(after.Steps) - StepCounts.From(before.Steps));
        Assert.Equal(before.Reclaimed + 1, after.Reclaimed);
        Assert.False(arena.CacheRemove(p));
        LogEntry error = Assert.Single(logger.At(LogLevel.Error));
        Assert.Contains("Evict", error.Message);
        Assert.IsType<InvalidOperationException>(error.Exception);
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void EvictThrowing_DuringARefill_ThePageStillGoesToTheFreeArea()
    {
        var logger = new TestLogger();
        var owner = new RecordingOwner { OnEvict = _ => throw new InvalidOperationException("owner bug") };
        using BuddyArena arena = Create(logger: logger);
        List<nint> cached = ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, Low - 5);

        arena.Balance(); // kreclaimd's refill: clean pages into the free area up to pages_low

        Assert.Equal(5, owner.EvictCount);
        Assert.Equal(Low, ArenaState.Free(arena));
        Assert.Equal(5, logger.At(LogLevel.Error).Count);
        Assert.All(owner.Evicted, e => Assert.False(arena.CacheRemove((void*)e)));
        Assert.Equal(25, cached.Count(c => arena.CacheRemove((void*)c)));
        arena.Validate();
    }

    [Fact]
    public void AllocationInsideEvict_IsMemAlloc_AndMayTakeTheLastReserve()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 60);
        ArenaState.DrainTo(arena, 2); // below the floor (4): only MemAlloc may rmqueue here
        nint inner = 0;
        FastBuddyStatus innerStatus = FastBuddyStatus.Corrupt;
        long freeInside = -1;
        owner.OnEvict = _ =>
        {
            inner = (nint)arena.AllocPages(0, AllocFlags.Kernel);
            innerStatus = BuddyArena.LastError;
            freeInside = ArenaState.Free(arena);
        };
        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null); // outside a callback: refused at the floor
        StepCounts before = StepCounts.Read(arena);

        void* outer = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.True(outer != null);
        Assert.True(inner != 0);
        Assert.NotEqual((nint)outer, inner);
        Assert.Equal(FastBuddyStatus.Ok, innerStatus);
        Assert.Equal(1, freeInside);              // rmqueue below pages_min / 4: only MemAlloc may
        Assert.Equal(1, owner.EvictCount);        // the inner request reclaimed nothing (MemAlloc never reclaims)
        Assert.Equal(StepCounts.Of(high: 1, directReclaim: 1), StepCounts.Read(arena) - before);
        arena.Validate();
    }

    [Fact]
    public void AllocationInsideWriteback_IsMemAlloc_AndNeverWaits()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create(allocWait: TimeSpan.FromSeconds(5));
        ArenaState.MakeDirtyInactive(arena, owner, 4);
        ArenaState.DrainTo(arena, 0);
        var innerResults = new List<nint>();
        long innerMs = 0;
        owner.OnWriteback = _ =>
        {
            var clock = Stopwatch.StartNew();
            innerResults.Add((nint)arena.AllocPages(0, AllocFlags.Kernel)); // nothing free: fails, at once
            innerMs = Math.Max(innerMs, clock.ElapsedMilliseconds);
            return false;
        };

        Assert.True(arena.AllocPages(0, AllocFlags.NoFs) == null);

        Assert.NotEmpty(innerResults);
        Assert.All(innerResults, r => Assert.Equal(0, r));
        Assert.True(innerMs < 500, $"an allocation inside Writeback took {innerMs} ms");
        arena.Validate();
    }
    [Fact]
    public void CacheRemoveInsideEvict_ReturnsFalse_TheEvictionIsFinal()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);
        var removeResults = new List<bool>();
        owner.OnEvict = page => removeResults.Add(arena.CacheRemove((void*)page));

        void* p = arena.AllocPages(0, AllocFlags.Kernel);

        Assert.True(p != null);
        Assert.Equal([false], removeResults);
        Assert.Equal(29, arena.GetStats().InactiveCleanPages);
        arena.Validate();
    }
}
