namespace FastBuddy.Cli;

// What the demo verb was asked for.
internal sealed record DemoSettings(ArenaShape Shape, int Seed, int Steps, int Requests, bool Json, string Live);

// The "demo" verb: the seed's policy told phase by phase on a two-zone arena. Each phase says what it does, runs
// under the live view, then kswapd's pass runs (a fixed point: there is no background thread, so one seed gives
// one run) and the phase's counters, the buddyinfo table, the watermarks and the LRU lists are shown. At the end
// everything is given back, Validate() drains the per-thread lists, Trim() gives back the slab caches' spare slabs,
// and the final table must show every page free.
internal static class Demo
{
    public static int Run(DemoSettings settings, TextWriter output, TextWriter error)
    {
        bool story = !settings.Json;
        TextWriter narration = story ? output : TextWriter.Null;
        // While a phase runs the live view owns the screen: the workload's notes and the arena's log wait here.
        var phaseLog = new StringWriter();
        var logger = new TextLogger(story ? phaseLog : error);
        var lifetime = System.Diagnostics.Stopwatch.StartNew();
        using BuddyArena arena = settings.Shape.Create(logger);
        int maxOrder = arena.MaxOrder;

        narration.WriteLine($"fastbuddy demo: {settings.Shape.Describe()}, seed {settings.Seed}");
        narration.WriteLine("kswapd's pass (Balance) runs after each phase instead of on a background thread.");
        narration.WriteLine();
        narration.WriteLine(Legend.Text);
        StatsReport.Print(narration, "fresh arena", arena.GetStats(), maxOrder);

        LiveView live = story ? LiveView.Choose(settings.Live, output, arena) : new NoLiveView();
        var workload = new Workload(arena, settings.Seed, phaseLog);
        IReadOnlyList<Phase> phases = Phases.Create(settings.Steps, settings.Requests);
        var counters = new List<PhaseCounters>();
        for (int i = 0; i < phases.Count; i++)
        {
            Phase phase = phases[i];
            narration.WriteLine();
            narration.WriteLine($"== phase {i + 1} of {phases.Count + 1}: {phase.Title}");
            narration.WriteLine(TextWrap.Wrap(phase.Story, 110, "   "));
            ArenaStats before = arena.GetStats();
            live.Run(phase, i + 1, phases.Count + 1, workload);
            arena.Balance();
            Flush(phaseLog, narration);
            ArenaStats after = arena.GetStats();
            PhaseCounters done = PhaseCounters.Between(phase.Name, before, after);
            counters.Add(done);
            if (story)
                Report(narration, done, after, arena, maxOrder);
        }
        int exit = Release(settings, output, error, narration, arena, workload, counters, phases.Count + 1);
        DecayNote.Check(lifetime.Elapsed, error);
        return exit;
    }

    private static void Report(TextWriter output, PhaseCounters done, ArenaStats after, BuddyArena arena, int maxOrder)
    {
        done.Print(output);
        StatsReport.Print(output, $"after {done.Phase}", after, maxOrder);
        WatermarkChart.Print(output, after);
        LruReport.Print(output, arena.GetPageMap());
    }

    private static int Release(DemoSettings settings, TextWriter output, TextWriter error, TextWriter narration,
        BuddyArena arena, Workload workload, List<PhaseCounters> counters, int number)
    {
        narration.WriteLine();
        narration.WriteLine($"== phase {number} of {number}: release");
        narration.WriteLine(TextWrap.Wrap(
            "Every block, pressure page and driver page is freed and the cache takes its remaining pages back out. " +
            "Freed small blocks first land in this thread's per-thread lists (pcp): Validate() returns them to the " +
            "buddy system, where they merge, and Trim() gives back the empty slabs the slab caches keep as spares, " +
            "before the final table is drawn.", 110, "   "));
        ArenaStats before = arena.GetStats();
        workload.ReleaseAll();
        ArenaStats parked = arena.GetStats();
        narration.WriteLine($"released everything ({workload.CacheRemoved} pages taken back out of the cache); " +
                            $"per-thread lists hold {parked.PerCpuPages} pages before the drain");
        arena.Validate();
        arena.Trim();
        ArenaStats final = arena.GetStats();
        PhaseCounters done = PhaseCounters.Between("release", before, final);
        counters.Add(done);
        if (!settings.Json)
        {
            done.Print(narration);
            StatsReport.Print(narration, "after release (per-thread lists drained by Validate, spare slabs by Trim)", final, arena.MaxOrder);
            StatsReport.PrintTotals(narration, final);
            narration.WriteLine($"workload: {workload.PageAllocations} page allocations, {workload.ByteAllocations} byte " +
                                $"allocations, {workload.Reallocations} reallocs, {workload.Frees} frees, " +
                                $"{workload.VerifiedBlocks} blocks verified; page owner saw {workload.Owner.Evictions} " +
                                $"Evict and {workload.Owner.Writebacks} Writeback calls");
            narration.WriteLine($"refused requests: {workload.FailedAllocations}" +
                                string.Concat(workload.FailureReasons.Select(kv => $", {kv.Key} x{kv.Value}")));
        }
        if (final.FreePages != final.TotalPages)
        {
            error.WriteLine($"fastbuddy: {final.TotalPages - final.FreePages} pages are neither free nor held after the release");
            return 3;
        }
        narration.WriteLine("validate: ok, every page is free again");
        if (settings.Json)
            StatsJson.Write(output, "demo", "demo", settings.Seed, arena.PageSize, arena.MaxOrder, final, counters);
        return 0;
    }

    private static void Flush(StringWriter buffer, TextWriter output)
    {
        output.Write(buffer.ToString());
        buffer.GetStringBuilder().Clear();
    }
}
