using System.Diagnostics;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Policy;

/// <summary>
/// kswapd's decommit step: gives free blocks that have stayed free for <see cref="ArenaOptions.DecommitAfter"/>
/// back to the operating system, so that the resident size falls after a burst.
/// </summary>
/// <remarks>
/// 2.4 had no such step (its free pages were the machine's own); in user space a free page the arena holds is
/// memory no one else can use. Each run walks the free areas of the decommit orders (those of at least the
/// zone's <see cref="CommitMap.UnitOrder"/>) under the zone lock, stamping blocks seen free and collecting those
/// free long enough and not yet decommitted; then it decommits them one at a time, each under the zone lock after
/// checking that the block is still that free block and still due, so that <c>madvise</c> never hits an allocated
/// page and an allocation waits for at most one block's madvise. Blocks stay on their free lists: an allocation
/// takes one as usual, clears its marks, and its pages are faulted in again, zero. Runs are serialised; a run that
/// finds another under way returns at once.
/// </remarks>
internal sealed unsafe class DecommitStep
{
    private readonly BuddyArena _arena;
    private readonly Zone[] _zones;
    private readonly long _ageTicks;
    private readonly Lock _running = new();
    private readonly List<(int Page, int Order)> _due = [];

    private DecommitStep(BuddyArena arena, Zone[] zones, TimeSpan after)
    {
        _arena = arena;
        _zones = zones;
        _ageTicks = (long)(after.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>The step for an arena whose options turn decommit on, else null.</summary>
    public static DecommitStep? Create(BuddyArena arena, Zone[] zones)
        => arena.Options.DecommitAfter is TimeSpan after ? new DecommitStep(arena, zones, after) : null;

    /// <summary>One run over every zone. Returns the bytes decommitted.</summary>
    public long Run()
    {
        if (!_running.TryEnter())
            return 0;
        try
        {
            long total = 0;
            long now = Stopwatch.GetTimestamp();
            foreach (Zone zone in _zones)
            {
                if (zone.Commit.CanDecommit && !_arena.IsDisposed)
                    total += RunZone(zone, now);
            }
            return total;
        }
        finally
        {
            _running.Exit();
        }
    }

    private long RunZone(Zone zone, long now)
    {
        _due.Clear();
        lock (zone.Lock)
        {
            for (int order = zone.Commit.UnitOrder; order < zone.MaxOrder; order++)
                CollectDue(zone, order, now);
        }
        long blocks = 0, bytes = 0, committed = 0;
        foreach ((int page, int order) in _due)
        {
            lock (zone.Lock)
            {
                // Disposal marks the arena before it unmaps a zone under this lock: never madvise a released range.
                if (_arena.IsDisposed || !IsFreeBlock(zone, page, order) || !IsDue(zone, page, order, now))
                    continue;
                if (zone.Commit.Decommit(zone.Address(page), page, order))
                {
                    blocks++;
                    bytes += 1L << (order + zone.PageShift);
                }
                committed = ((long)zone.Pages << zone.PageShift) - zone.Commit.DecommittedBytes;
            }
        }
        ILogger? logger = _arena.Logger;
        if (blocks > 0 && logger is not null && logger.IsEnabled(LogLevel.Information))
            ArenaLog.Decommitted(logger, zone.Name, blocks, bytes, committed);
        return bytes;
    }

    /// <summary>Walks free area <paramref name="order"/>: stamps every block, keeps the due ones. Zone lock held.</summary>
    private void CollectDue(Zone zone, int order, long now)
    {
        int head = zone.FreeListHead(order);
        if (head == PageList.Nil)
            return;
        int page = head;
        do
        {
            if (IsDue(zone, page, order, now))
                _due.Add((page, order));
            page = zone.Desc[page].Next;
        }
        while (page != head);
    }

    private bool IsDue(Zone zone, int page, int order, long now)
        => now - zone.Commit.FreeSince(page, order, now) >= _ageTicks && !zone.Commit.IsDecommitted(page, order);

    private static bool IsFreeBlock(Zone zone, int page, int order)
    {
        ref PageDescriptor d = ref zone.Desc[page];
        return (d.Flags & PageFlags.FreeHead) != 0 && d.Order == order;
    }
}
