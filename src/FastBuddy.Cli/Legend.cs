namespace FastBuddy.Cli;

// How to read the demo's tables, printed once before the first one.
internal static class Legend
{
    public const string Text =
        """
        How to read the tables (one row per zone, like /proc/buddyinfo with the zone's state beside it):
          pages          the zone's size in pages
          free           pages in the zone's free areas (the buddy system's free lists)
          pcp            pages parked in per-thread (per-CPU) lists: freed blocks kept for reuse without a lock;
                         counted neither free nor in use, given back when an allocation would fail or on Validate()
          min low high   the zone's watermarks pages_min, pages_low, pages_high: step 1 (the fast path) needs
                         free >= low; steps 2-4 need free + inactive_clean above high, low, then min; only
                         memory-management (MemAlloc) callers may take the last pages_min / 4
          active dirty clean
                         page-cache pages on the zone's active, inactive_dirty and inactive_clean lists
          oN             free blocks of order N (2^N contiguous pages, aligned to their size)
        Counters per phase are what that phase did (the difference of the arena's counters before and after it):
          step 1 fast path .. step 4 min  the step of the allocation path that served each allocation
          direct reclaim                  a clean cache page handed straight to an order-0 caller
          step 5 higher-order reclaim     a block assembled by laundering and reclaiming clean pages
          step 6 final phase              atomic, MemAlloc and higher-order callers that fell through
          step 7 failed                   the allocation returned null (and "N-order allocation failed" is logged)
          reclaimed / laundered           cache pages evicted through their owner / dirty pages written back clean
        """;
}
