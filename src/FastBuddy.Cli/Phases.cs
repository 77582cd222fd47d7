namespace FastBuddy.Cli;

// The demo's phases in order. A --workload choice runs the phases up to and including the one it names; kswapd's
// pass (BuddyArena.Balance) runs after each phase, the fixed points that replace the background thread.
internal static class Phases
{
    // The --workload choice that runs no phase at all.
    public const string Fresh = "fresh";

    public static IReadOnlyList<Phase> Create(int churnSteps, int requests) =>
    [
        new("churn", "churn: a mixed workload",
            $"{churnSteps} random steps: page blocks of orders 0-9 (mostly small; Kernel, NoIo or Atomic; 15 % of them " +
            "on the DMA zonelist), byte allocations (objects from the slab caches up to 32 KiB, page blocks above), " +
            "reallocs and frees, keeping at most half the arena in use. " +
            "Memory is plentiful, so step 1 (the fast path, through the per-thread lists) serves nearly everything.",
            w => w.Churn(churnSteps)),
        new("cache", "page cache: a file cache fills the arena",
            "Trim() first gives back what the churn left idle (parked blocks, this thread's slabs, empty slabs), so " +
            "that every page not in use is free. A file cache then reads pages until the arena's free pages are down " +
            "to freepages.high: every page goes on its " +
            "zone's active list, every third one dirty, every fourth one touched again. kswapd's pass then finds a " +
            "shortage: refill_inactive ages the pages and moves the old ones to inactive_dirty, page_launder moves the " +
            "clean ones on to inactive_clean; dirty ones wait there until free pages run short, when page_launder writes " +
            "them back (laundered) in the next phases.",
            w => w.FillCache()),
        new("fragment", "fragmentation: step 5 assembles a block",
            "A driver takes every free page of zone 0 one by one as memory-management code (MemAlloc, which may take " +
            "the zone's last pages; free + inactive_clean pages keep steps 2-3 open) and gives back every other page. " +
            $"The zone then has free pages but no two free neighbours: {requests} two-page requests find no order-1 " +
            "block in steps 1-4, and step 5 launders and reclaims clean cache pages until a freed page merges with " +
            "its buddy.",
            w => w.Fragment(requests)),
        new("pressure", "pressure: down to step 7",
            "Order-0 Kernel allocations until the policy refuses one: with the zones near pages_min, steps 2-4 serve " +
            "while free + inactive_clean pages stay above the watermarks, direct reclaim hands clean cache pages " +
            "straight to the caller, kswapd's passes launder the rest; when nothing is left the request fails " +
            "(step 7, logged). Atomic requests (an interrupt handler) follow: they may not wait or reclaim, step 6 " +
            "serves them down to pages_min / 4, then they fail too.",
            w => w.Pressure()),
    ];

    // Every --workload choice, fewest phases first.
    public static string[] Choices => [Fresh, .. Create(0, 0).Select(p => p.Name)];

    // The phases a --workload choice runs.
    public static IReadOnlyList<Phase> Upto(string workload, int churnSteps, int requests)
    {
        IReadOnlyList<Phase> all = Create(churnSteps, requests);
        int count = workload == Fresh ? 0 : all.Select(p => p.Name).ToList().IndexOf(workload) + 1;
        return all.Take(count).ToArray();
    }
}
