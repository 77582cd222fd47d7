using FastBuddy.Buddy;
using FastBuddy.Tests.PolicySupport;
using Microsoft.Extensions.Logging;
using static FastBuddy.Tests.PolicySupport.PolicyArena;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// page_launder through the allocation path: dirty pages are written back (owner's Writeback) before they can be
/// evicted, only by callers allowed to do I/O; Writeback's outcomes (clean, still dirty, throw).
/// </summary>
public sealed unsafe class LaunderingTests
{
    /// <summary>40 dirty pages on inactive_dirty, no clean ones, and the zone at pages_min.</summary>
    private static (BuddyArena Arena, RecordingOwner Owner, List<nint> Dirty) Setup(TestLogger? logger = null, TimeSpan? allocWait = null)
    {
        var owner = new RecordingOwner();
        BuddyArena arena = Create(logger: logger, allocWait: allocWait);
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 40);
        ArenaState.DrainTo(arena, Min);
        return (arena, owner, dirty);
    }

    [Theory]
    [InlineData(AllocFlags.Kernel)]
    [InlineData(AllocFlags.NoFs)]
    public void IoCaller_WritesDirtyPagesBackBeforeEvictingThem(AllocFlags flags)
    {
        var (arena, owner, dirty) = Setup();
        using (arena)
        {
            ArenaStats before = arena.GetStats();

            void* p = arena.AllocPages(0, flags);

            Assert.True(p != null);
            ArenaStats after = arena.GetStats();
            Assert.True(owner.WritebackCount > 0);
            Assert.True(owner.EvictCount > 0);
            Assert.Equal(owner.WritebackCount, after.Laundered - before.Laundered);
            Assert.Equal(owner.EvictCount, after.Reclaimed - before.Reclaimed);
            IReadOnlyList<CallbackEvent> events = owner.Events;
            foreach (CallbackEvent evict in events.Where(e => e.Kind == CallbackKind.Evict))
            {
                Assert.Contains(evict.Page, dirty);
                Assert.Contains(events, e => e.Kind == CallbackKind.Writeback && e.Page == evict.Page && e.Sequence < evict.Sequence);
            }
            // Without a background thread the pass ran on the caller's thread.
            Assert.All(events, e => Assert.Equal(Environment.CurrentManagedThreadId, e.ThreadId));
            arena.Validate();
        }
    }

    [Fact]
    public void NoIoCaller_NeverCallsWriteback()
    {
        var (arena, owner, _) = Setup();
        using (arena)
        {
            ArenaStats before = arena.GetStats();

            void* p = arena.AllocPages(0, AllocFlags.NoIo);

            Assert.True(p == null);
            ArenaStats after = arena.GetStats();
            Assert.Equal(0, owner.WritebackCount);
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(before.Laundered, after.Laundered);
            Assert.Equal(40, after.InactiveDirtyPages);
            Assert.Equal(0, after.InactiveCleanPages);
            arena.Validate();
        }
    }

    [Fact]
    public void WritebackReturningFalse_KeepsThePageDirty_AndItIsRetriedLater()
    {
        var (arena, owner, dirty) = Setup();
        using (arena)
        {
            owner.OnWriteback = _ => false;
            ArenaStats before = arena.GetStats();

            Assert.True(arena.AllocPages(0, AllocFlags.NoFs) == null);

            ArenaStats after = arena.GetStats();
            Assert.True(owner.WritebackCount > 0);
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(before.Laundered, after.Laundered);
            Assert.Equal(40, after.InactiveDirtyPages);
            Assert.Equal(0, after.InactiveCleanPages);
            Assert.All(dirty, d => Assert.True((ArenaState.FlagsOf(arena, d) & PageFlags.Dirty) != 0));

            // Retried later: once the owner can write the pages, the same request succeeds.
            owner.OnWriteback = null;
            Assert.True(arena.AllocPages(0, AllocFlags.NoFs) != null);
            Assert.True(arena.GetStats().Laundered > after.Laundered);
            arena.Validate();
        }
    }

    [Fact]
    public void WritebackThrowing_SendsThePageBackToActive()
    {
        var logger = new TestLogger();
        var owner = new RecordingOwner { OnWriteback = _ => throw new InvalidOperationException("disk on fire") };
        using BuddyArena arena = Create(logger: logger);
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 4);
        ArenaState.DrainTo(arena, Min); // a free shortage, so that page_launder's pass 1 writes back
        Assert.True(arena.Policy.Pressure.FreeShortage() > 0);

        arena.Policy.Reclaimer.Launder(mayIo: true);

        Assert.Equal(4, owner.WritebackCount);
        ZoneStats zone = ArenaState.Stats(arena);
        Assert.Equal(4, zone.ActivePages);
        Assert.Equal(0, zone.InactiveDirtyPages);
        Assert.Equal(0, zone.InactiveCleanPages);
        Assert.All(dirty, d =>
        {
            Assert.Equal(PageFlags.OnActive, ArenaState.ListOf(arena, d));
            Assert.True((ArenaState.FlagsOf(arena, d) & PageFlags.Dirty) != 0);
        });
        Assert.Equal(0, arena.GetStats().Laundered);
        IReadOnlyList<LogEntry> errors = logger.At(LogLevel.Error);
        Assert.Equal(4, errors.Count);
        Assert.All(errors, e => Assert.IsType<InvalidOperationException>(e.Exception));
        arena.Validate();
    }

    [Fact]
    public void WritebackThrowing_DuringAnAllocation_LeavesTheArenaConsistent()
    {
        var logger = new TestLogger();
        var (arena, owner, dirty) = Setup(logger);
        using (arena)
        {
            owner.OnWriteback = _ => throw new IOException("no disk");

            Assert.True(arena.AllocPages(0, AllocFlags.NoFs) == null);

            Assert.True(owner.WritebackCount > 0);
            Assert.Equal(0, owner.EvictCount);
            Assert.Equal(owner.WritebackCount, logger.At(LogLevel.Error).Count);
            Assert.Contains("Writeback", logger.At(LogLevel.Error)[0].Message);
            ZoneStats zone = ArenaState.Stats(arena);
            Assert.Equal(40, zone.ActivePages + zone.InactiveDirtyPages);
            Assert.Equal(0, zone.InactiveCleanPages);
            arena.Validate();
            // Every page is still the host's: it can take them all back and free them.
            foreach (nint d in dirty)
            {
                Assert.True(arena.CacheRemove((void*)d));
                arena.FreePages((void*)d, 0);
            }
            arena.Validate();
        }
    }
    [Fact]
    public void CacheMarkDirtyDuringWriteback_TheStaleResultIsIgnored_AndThePageStaysDirty()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 1);
        ArenaState.DrainTo(arena, Min);
        owner.OnWriteback = page =>
        {
            arena.CacheMarkDirty((void*)page); // the owner changes the page while it is being written
            return true;
        };

        arena.Policy.Reclaimer.Launder(mayIo: true);

        Assert.True(owner.WritebackCount > 0);
        Assert.Equal(0, arena.GetStats().Laundered);
        Assert.Equal(0, arena.GetStats().InactiveCleanPages);
        Assert.Equal(PageFlags.Dirty, ArenaState.FlagsOf(arena, dirty[0]) & PageFlags.Dirty);
        Assert.Equal(PageFlags.OnInactiveDirty, ArenaState.ListOf(arena, dirty[0]));
        arena.Validate();
    }

    [Fact]
    public void CacheRemoveDuringWriteback_ReturnsTrueAtOnce_AndTheResultIsIgnored()
    {
        var owner = new RecordingOwner();
        using BuddyArena arena = Create();
        List<nint> dirty = ArenaState.MakeDirtyInactive(arena, owner, 1);
        ArenaState.DrainTo(arena, Min);
        bool removed = false;
        owner.OnWriteback = page =>
        {
            removed = arena.CacheRemove((void*)page);
            return true;
        };

        arena.Policy.Reclaimer.Launder(mayIo: true);

        Assert.True(removed);
        Assert.Equal(1, owner.WritebackCount);
        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.ActivePages + s.InactiveDirtyPages + s.InactiveCleanPages);
        Assert.Equal(0, s.Laundered);
        arena.FreePages((void*)dirty[0], 0); // the host's page again, an ordinary allocated page
        arena.Validate();
    }
}
