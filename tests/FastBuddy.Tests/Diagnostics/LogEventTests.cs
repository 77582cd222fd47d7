using FastBuddy.Tests.PolicySupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Diagnostics;

/// <summary>
/// The arena's log events and their fixed ids (README, "Metrics and logging"): step 7's failure, the out-of-memory
/// handler, owner callbacks that throw, the reclaimer thread's start and stop; and nothing on the fast path.
/// </summary>
public sealed unsafe class LogEventTests
{
    [Fact]
    public void Step7_LogsEvent1_AsAWarning_WithTheSeedsMessage()
    {
        var logger = new TestLogger();
        using BuddyArena arena = Create(logger: logger);
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(2, AllocFlags.Atomic) == null);

        LogEntry entry = Assert.Single(logger.Entries);
        Assert.Equal((LogLevel.Warning, 1, "AllocationFailed"), (entry.Level, entry.EventId.Id, entry.EventId.Name));
        Assert.StartsWith("2-order allocation failed", entry.Message);
        arena.Validate();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OutOfMemoryHandler_LogsEvent4_WithItsAnswer(bool retry)
    {
        var logger = new TestLogger();
        using BuddyArena arena = Create(logger: logger, outOfMemory: (_, _, _) => retry);
        ArenaState.DrainTo(arena, Floor);

        Assert.True(arena.AllocPages(1, AllocFlags.Atomic) == null);

        LogEntry asked = Assert.Single(logger.Entries, e => e.EventId.Id == 4);
        Assert.Equal((LogLevel.Information, "OutOfMemoryHandlerCalled"), (asked.Level, asked.EventId.Name));
        Assert.Contains("1-order allocation", asked.Message);
        Assert.Contains($"returned {retry}", asked.Message);
        Assert.Equal(1, logger.Entries.Count(e => e.EventId.Id == 1)); // asked once, then the call failed
        arena.Validate();
    }

    [Fact]
    public void ThrowingEvict_LogsEvent5_AsAnError_WithTheException()
    {
        var logger = new TestLogger();
        var owner = new RecordingOwner { OnEvict = _ => throw new InvalidOperationException("owner bug") };
        using BuddyArena arena = Create(logger: logger);
        ArenaState.MakeCleanInactive(arena, owner, 30);
        ArenaState.DrainTo(arena, 20);

        void* p = arena.AllocPages(0, AllocFlags.Kernel); // direct reclaim: Evict runs and throws

        LogEntry entry = Assert.Single(logger.Entries);
        Assert.Equal((LogLevel.Error, 5, "CallbackFailed"), (entry.Level, entry.EventId.Id, entry.EventId.Name));
        Assert.Contains("Evict", entry.Message);
        Assert.IsType<InvalidOperationException>(entry.Exception);
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void ThrowingWriteback_LogsEvent5_NamingWriteback()
    {
        var logger = new TestLogger();
        var owner = new RecordingOwner { OnWriteback = _ => throw new IOException("disk gone") };
        using BuddyArena arena = Create(logger: logger);
        ArenaState.AddToCache(arena, owner, 4, dirty: true);
        ArenaState.AgeToInactive(arena);
        ArenaState.DrainTo(arena, Low - 5);

        arena.Policy.Reclaimer.Launder(mayIo: true);

        Assert.NotEmpty(logger.Entries);
        Assert.All(logger.Entries, e => Assert.Equal((5, LogLevel.Error), (e.EventId.Id, e.Level)));
        Assert.Contains("Writeback", logger.Entries[0].Message);
        Assert.IsType<IOException>(logger.Entries[0].Exception);
        arena.Validate();
    }

    [Fact]
    public void ReclaimerThread_LogsEvent2_WhenItStarts_AndEvent3_WhenTheArenaIsDisposed()
    {
        var logger = new TestLogger();
        BuddyArena arena = Create(background: true, logger: logger);
        ArenaState.DrainTo(arena, Min - 1); // below pages_min: the next allocation wakes kreclaimd, starting the thread
        arena.AllocPages(0, AllocFlags.Atomic);
        Assert.Equal([2], logger.Entries.Select(e => e.EventId.Id));

        arena.Dispose();

        Assert.Equal([2, 3], logger.Entries.Select(e => e.EventId.Id));
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Debug, e.Level));
        Assert.Equal(["ReclaimerStarted", "ReclaimerStopped"], logger.Entries.Select(e => e.EventId.Name));
    }

    [Fact]
    public void WithoutABackgroundThread_NoReclaimerEventIsLogged()
    {
        var logger = new TestLogger();
        BuddyArena arena = Create(logger: logger);
        arena.Balance();

        arena.Dispose();

        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void SuccessfulAllocationsAndFrees_LogNothing()
    {
        var logger = new TestLogger();
        using BuddyArena arena = Create(logger: logger, perCpuPages: 64);

        for (int i = 0; i < 1000; i++)
        {
            void* p = arena.AllocPages(i % 3, AllocFlags.Kernel);
            arena.FreePages(p, i % 3);
        }

        Assert.Empty(logger.Entries);
        arena.Validate();
    }
}
