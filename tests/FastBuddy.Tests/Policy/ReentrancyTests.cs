using FastBuddy.Tests.PolicySupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// Host code the arena calls on its failure path (the out-of-memory handler, the logger) may allocate from the
/// same arena; when that nested allocation fails too, it does not call them again (no unbounded nesting).
/// </summary>
public sealed unsafe class ReentrancyTests
{
    /// <summary>Nested calls past this depth would have recursed until the stack overflowed; the test stops there.</summary>
    private const int Cutoff = 4;

    [Fact]
    public void AnOutOfMemoryHandler_WhoseOwnAllocationFails_IsNotCalledAgainNested()
    {
        int depth = 0, deepest = 0, calls = 0;
        BuddyArena? arena = null;
        bool Handler(BuddyArena a, int order, AllocFlags flags)
        {
            calls++;
            depth++;
            deepest = Math.Max(deepest, depth);
            if (depth < Cutoff)
                Assert.True(a.AllocPages(0, AllocFlags.Atomic) == null); // fails as well
            depth--;
            return false;
        }
        using (arena = Create(outOfMemory: Handler))
        {
            ArenaState.DrainTo(arena, Floor);

            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);

            Assert.Equal(1, deepest);
            Assert.Equal(1, calls);
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
            // The guard is per call: the next failing allocation asks the handler again.
            Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);
            Assert.Equal(2, calls);
            arena.Validate();
        }
    }

    private sealed class AllocatingLogger : ILogger
    {
        public BuddyArena? Arena;
        public int Depth, Deepest, Warnings;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.Warning)
                return;
            Warnings++;
            Depth++;
            Deepest = Math.Max(Deepest, Depth);
            if (Depth < Cutoff)
                Arena!.AllocPages(0, AllocFlags.Atomic); // a logger that buffers its message in the arena: fails too
            Depth--;
        }
    }

    [Fact]
    public void ALogger_WhoseOwnAllocationFails_IsNotCalledAgainNested()
    {
        var logger = new AllocatingLogger();
        using BuddyArena arena = Create(logger: logger);
        logger.Arena = arena;
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(0, AllocFlags.Atomic) == null);

        Assert.Equal(1, logger.Deepest);
        Assert.Equal(1, logger.Warnings);
        Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
        arena.Validate();
    }
}
