namespace FastBuddy.Cli;

// The "stats" verb: an arena after a workload, as /proc/buddyinfo, /proc/zoneinfo, /proc/slabinfo and vmstat-like
// counters, or JSON.
internal static class StatsVerb
{
    public static int Run(WorkloadRun run, bool json, TextWriter output, TextWriter error)
    {
        var logger = new TextLogger(error);
        using BuddyArena arena = run.Start(TextWriter.Null, logger);
        ArenaStats stats = arena.GetStats();
        DecayNote.Check(run.Lifetime.Elapsed, error);
        if (json)
        {
            StatsJson.Write(output, "stats", run.Workload, run.Seed, arena.PageSize, arena.MaxOrder, stats, null);
            return 0;
        }
        output.WriteLine($"# fastbuddy stats: {run.Describe()}");
        output.WriteLine("# /proc/buddyinfo: free blocks of order 0, 1, 2, ... per zone");
        ProcReport.PrintBuddyInfo(output, stats);
        output.WriteLine();
        output.WriteLine("# /proc/zoneinfo");
        ProcReport.PrintZoneInfo(output, stats);
        output.WriteLine();
        output.WriteLine("# /proc/slabinfo: the slab caches' size classes that hold slabs (objects up to " +
                         $"{arena.SmallMax} bytes)");
        ProcReport.PrintSlabInfo(output, stats);
        output.WriteLine();
        output.WriteLine("# counters (vmstat-like; step_* = the step of the allocation path that served)");
        ProcReport.PrintVmStat(output, stats);
        return 0;
    }
}
