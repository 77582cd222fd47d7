using System.Diagnostics;
using FastBuddy.Tests.PolicySupport;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>The out-of-memory handler: asked once before a call fails; may free memory and ask for one retry.</summary>
public sealed unsafe class OutOfMemoryHandlerTests
{
    private sealed class Handler
    {
        public readonly List<(int Order, AllocFlags Flags, long ElapsedMs)> Calls = [];
        public Func<bool> Body = () => false;
        public Stopwatch Clock = Stopwatch.StartNew();

        public bool Invoke(BuddyArena arena, int order, AllocFlags flags)
        {
            Calls.Add((order, flags, Clock.ElapsedMilliseconds));
            return Body();
        }
    }

    [Fact]
    public void Handler_IsAskedOnce_MayFreeMemory_AndTheRetrySucceeds()
    {
        var handler = new Handler();
        using BuddyArena arena = Create(outOfMemory: handler.Invoke);
        List<nint> held = ArenaState.DrainTo(arena, Min);
        handler.Body = () =>
        {
            arena.FreePages((void*)held[0], 0);
            return true;
        };
        StepCounts before = StepCounts.Read(arena);

        void* p = arena.AllocPages(0, AllocFlags.NoFs);

        Assert.True(p != null);
        Assert.Equal([(0, AllocFlags.NoFs)], handler.Calls.Select(c => (c.Order, c.Flags)));
        Assert.Equal(StepCounts.Of(min: 1), StepCounts.Read(arena) - before);
        Assert.Equal(FastBuddyStatus.Ok, BuddyArena.LastError);
        Assert.Equal(Min, ArenaState.Free(arena));
        arena.Validate();
    }

    [Fact]
    public void Handler_AskingForARetryWithoutFreeing_IsAskedOnlyOnce_ThenTheCallFails()
    {
        var handler = new Handler { Body = () => true };
        using BuddyArena arena = Create(outOfMemory: handler.Invoke);
        ArenaState.DrainTo(arena, Floor);
        StepCounts before = StepCounts.Read(arena);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);

        Assert.Single(handler.Calls);
        Assert.Equal(StepCounts.Of(failed: 1), StepCounts.Read(arena) - before);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }

    [Fact]
    public void Handler_ReturningFalse_TheCallFailsWithoutRetry()
    {
        var handler = new Handler { Body = () => false };
        using BuddyArena arena = Create(outOfMemory: handler.Invoke);
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(2, AllocFlags.Atomic) == null);

        Assert.Equal([(2, AllocFlags.Atomic)], handler.Calls.Select(c => (c.Order, c.Flags)));
        Assert.Equal(1, arena.GetStats().Failures);
        arena.Validate();
    }

    [Fact]
    public void Handler_IsNotAskedWhenTheAllocationSucceeds()
    {
        var handler = new Handler();
        using BuddyArena arena = Create(outOfMemory: handler.Invoke);
        ArenaState.DrainTo(arena, Min + 1);

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) != null);
        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) != null);

        Assert.Empty(handler.Calls);
        arena.Validate();
    }

    [Fact]
    public void Handler_ForAnFsCaller_IsAskedAtTheDeadline()
    {
        var handler = new Handler();
        using BuddyArena arena = Create(outOfMemory: handler.Invoke, allocWait: TimeSpan.FromMilliseconds(100));
        ArenaState.DrainTo(arena, Min);
        handler.Clock.Restart();

        Assert.True(arena.AllocPages(0, AllocFlags.Kernel) == null);

        var call = Assert.Single(handler.Calls);
        Assert.True(call.ElapsedMs >= 95, $"asked after {call.ElapsedMs} ms");
        arena.Validate();
    }
}
