namespace FastBuddy.Cli;

// The "demo" command: a two-zone arena with background reclaim, a mixed workload, page-cache pressure, and the
// arena's state before, under pressure and after everything is given back.
internal static class Demo
{
    private const nuint MiB = 1 << 20;

    public static int Run(TextWriter output, int seed, int steps)
    {
        var options = new ArenaOptions
        {
            PageSize = 4096,
            BackgroundReclaim = true,
            Zones = { new ZoneOptions("DMA", 16 * MiB), new ZoneOptions("Normal", 48 * MiB) },
        };
        using var arena = new BuddyArena(options);
        output.WriteLine($"fastbuddy demo: 64 MiB arena, zones DMA 16 MiB + Normal 48 MiB, {arena.PageSize}-byte pages, " +
                         $"{arena.MaxOrder} orders, background reclaim on, seed {seed}");
        output.WriteLine();
        StatsReport.Print(output, "fresh arena", arena);

        long totalPages = arena.GetStats().TotalPages;
        var workload = new Workload(arena, seed, output);
        workload.Churn(steps, totalPages);
        workload.FillCache((int)(totalPages / 4));
        workload.Pressure();
        output.WriteLine();

        StatsReport.Print(output, "under pressure", arena);
        StatsReport.PrintCounters(output, arena);
        ArenaStats pressured = arena.GetStats();
        output.WriteLine($"workload: {workload.PageAllocations} page allocations, {workload.ByteAllocations} byte allocations, " +
                         $"{workload.Reallocations} reallocs, {workload.Frees} frees, {workload.VerifiedBlocks} blocks verified");
        output.WriteLine($"failed allocations: {workload.FailedAllocations}" +
                         string.Concat(workload.FailureReasons.Select(kv => $", {kv.Key} x{kv.Value}")));
        output.WriteLine($"page owner: {workload.Owner.Evictions} Evict calls (arena reclaimed {pressured.Reclaimed}), " +
                         $"{workload.Owner.Writebacks} Writeback calls (arena laundered {pressured.Laundered})");
        if (pressured.Reclaimed == 0)
            output.WriteLine("note: the pressure phase reclaimed no cache page");
        output.WriteLine();

        arena.Validate();
        workload.ReleaseAll();
        output.WriteLine($"released everything ({workload.CacheRemoved} pages taken back out of the cache)");
        ArenaStats final = WaitForAllFree(arena);
        StatsReport.Print(output, "after release", arena);
        StatsReport.PrintCounters(output, arena);
        arena.Validate(); // (also drains the per-CPU lists back into the free areas)
        if (final.FreePages + final.PerCpuPages != final.TotalPages)
            throw new InvalidOperationException(
                $"{final.TotalPages - final.FreePages - final.PerCpuPages} pages are neither free nor held by anyone after the release.");
        output.WriteLine("validate: ok");
        return 0;
    }

    // Reclaimer threads may still be finishing an eviction (the page reaches the free area just after Evict).
    private static ArenaStats WaitForAllFree(BuddyArena arena)
    {
        ArenaStats stats = arena.GetStats();
        for (int i = 0; i < 100 && stats.FreePages + stats.PerCpuPages != stats.TotalPages; i++)
        {
            Thread.Sleep(10);
            stats = arena.GetStats();
        }
        return stats;
    }
}
