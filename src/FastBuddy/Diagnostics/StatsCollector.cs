using FastBuddy.Buddy;
using FastBuddy.Policy;

namespace FastBuddy.Diagnostics;

/// <summary>Builds <see cref="ArenaStats"/>: each zone is read under its lock, then the zones are summed.</summary>
internal static class StatsCollector
{
    public static ArenaStats Collect(BuddyArena arena)
    {
        AllocationPath policy = arena.Policy;
        policy.Pressure.Decay();
        ReadOnlySpan<Zone> zones = arena.Zones;
        var zoneStats = new ZoneStats[zones.Length];
        var steps = new long[AllocationStepInfo.Count];
        long total = 0, free = 0, parked = 0, active = 0, dirty = 0, clean = 0, frees = 0, reclaimed = 0, laundered = 0;
        long committed = 0, decommitted = 0, decommits = 0;
        for (int i = 0; i < zones.Length; i++)
        {
            steps[(int)AllocationStep.FastPath] += policy.Magazines.ServedBlocks(i);
            frees += policy.Magazines.FreedBlocks(i);
        }
        for (int i = 0; i < zones.Length; i++)
        {
            Zone z = zones[i];
            ZoneAccount account = policy.Account(z);
            var blocks = new long[z.MaxOrder];
            lock (z.Lock)
            {
                for (int order = 0; order < blocks.Length; order++)
                    blocks[order] = z.FreeBlocks(order);
                for (int s = 0; s < steps.Length; s++)
                    steps[s] += account.Steps[s];
                zoneStats[i] = new ZoneStats
                {
                    Name = z.Name,
                    Pages = z.Pages,
                    FreePages = z.FreePages,
                    PerCpuPages = policy.Magazines.ParkedPages(i),
                    PagesMin = z.PagesMin,
                    PagesLow = z.PagesLow,
                    PagesHigh = z.PagesHigh,
                    ActivePages = z.Active.Count,
                    InactiveDirtyPages = z.InactiveDirty.Count,
                    InactiveCleanPages = z.InactiveClean.Count,
                    FreeBlocks = blocks,
                    CommittedBytes = ((long)z.Pages << z.PageShift) - z.Commit.DecommittedBytes,
                    DecommittedBytes = z.Commit.DecommittedBytes,
                    Decommits = z.Commit.Decommits,
                };
                frees += account.Frees;
                reclaimed += account.Reclaimed;
                laundered += account.Laundered;
            }
            ZoneStats zs = zoneStats[i];
            total += zs.Pages;
            free += zs.FreePages;
            parked += zs.PerCpuPages;
            active += zs.ActivePages;
            dirty += zs.InactiveDirtyPages;
            clean += zs.InactiveCleanPages;
            committed += zs.CommittedBytes;
            decommitted += zs.DecommittedBytes;
            decommits += zs.Decommits;
        }
        steps[(int)AllocationStep.Failed] = policy.Failures;
        var failuresByOrder = new long[arena.MaxOrder];
        for (int order = 0; order < failuresByOrder.Length; order++)
            failuresByOrder[order] = policy.FailuresOf(order);
        long allocations = 0;
        for (int s = 0; s < (int)AllocationStep.Failed; s++)
            allocations += steps[s];
        List<SlabClassStats> slabClasses = policy.Slabs?.Stats() ?? [];
        long slabPages = 0, slabObjects = 0, slabBytes = 0;
        foreach (SlabClassStats c in slabClasses)
        {
            slabPages += c.Slabs * c.PagesPerSlab;
            slabObjects += c.ObjectsInUse;
            slabBytes += c.ObjectsInUse * c.ObjectSize;
        }
        return new ArenaStats
        {
            SlabClasses = slabClasses,
            SlabPages = slabPages,
            SlabObjects = slabObjects,
            SlabObjectBytes = slabBytes,
            TotalPages = total,
            FreePages = free,
            PerCpuPages = parked,
            ActivePages = active,
            InactiveDirtyPages = dirty,
            InactiveCleanPages = clean,
            MemoryPressure = policy.Pressure.Pressure,
            InactiveTarget = policy.Pressure.InactiveTarget,
            Allocations = allocations,
            Frees = frees,
            Failures = policy.Failures,
            Reclaimed = reclaimed,
            Laundered = laundered,
            CommittedBytes = committed,
            DecommittedBytes = decommitted,
            Decommits = decommits,
            FailuresByOrder = failuresByOrder,
            KswapdWakeups = policy.Daemon.Wakeups,
            KswapdPasses = policy.Daemon.PassCount,
            FreePagesMin = policy.Pressure.FreePagesMin,
            FreePagesLow = policy.Pressure.FreePagesLow,
            FreePagesHigh = policy.Pressure.FreePagesHigh,
            Steps = new AllocationStepCounts
            {
                FastPath = steps[(int)AllocationStep.FastPath],
                High = steps[(int)AllocationStep.High],
                Low = steps[(int)AllocationStep.Low],
                Min = steps[(int)AllocationStep.Min],
                DirectReclaim = steps[(int)AllocationStep.DirectReclaim],
                HigherOrderReclaim = steps[(int)AllocationStep.HigherOrderReclaim],
                FinalPhase = steps[(int)AllocationStep.FinalPhase],
                Failed = steps[(int)AllocationStep.Failed],
            },
            Zones = zoneStats,
        };
    }
}
