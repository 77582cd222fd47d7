namespace FastBuddy.Cli;

// The arena as Linux shows a machine's memory: /proc/buddyinfo (free blocks per order, one line per zone) and
// /proc/zoneinfo (each zone's free pages, watermarks and LRU lists), /proc/slabinfo (the slab caches' size classes
// that hold slabs), then the policy's counters as vmstat-like name/value lines.
internal static class ProcReport
{
    public static void PrintBuddyInfo(TextWriter output, ArenaStats stats)
    {
        foreach (ZoneStats z in stats.Zones)
        {
            output.Write($"Node 0, zone {z.Name,8} ");
            foreach (long blocks in z.FreeBlocks)
                output.Write($"{blocks,7}");
            output.WriteLine();
        }
    }

    public static void PrintZoneInfo(TextWriter output, ArenaStats stats)
    {
        foreach (ZoneStats z in stats.Zones)
        {
            output.WriteLine($"Node 0, zone {z.Name,8}");
            output.WriteLine($"  pages free     {z.FreePages}");
            output.WriteLine($"        min      {z.PagesMin}");
            output.WriteLine($"        low      {z.PagesLow}");
            output.WriteLine($"        high     {z.PagesHigh}");
            output.WriteLine($"        spanned  {z.Pages}");
            output.WriteLine($"        present  {z.Pages}");
            output.WriteLine($"    nr_free_pages        {z.FreePages}");
            output.WriteLine($"    nr_per_cpu_pages     {z.PerCpuPages}");
            output.WriteLine($"    nr_active            {z.ActivePages}");
            output.WriteLine($"    nr_inactive_dirty    {z.InactiveDirtyPages}");
            output.WriteLine($"    nr_inactive_clean    {z.InactiveCleanPages}");
        }
    }

    // One line per size class that holds slabs (classes without any are left out, unlike Linux, to keep it short).
    public static void PrintSlabInfo(TextWriter output, ArenaStats stats)
    {
        output.WriteLine("# name        <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> <slabs> <spare>");
        foreach (SlabClassStats c in stats.SlabClasses)
        {
            if (c.Slabs == 0)
                continue;
            output.WriteLine($"{"size-" + c.ObjectSize,-12} {c.ObjectsInUse,13} {c.ObjectsInUse + c.FreeObjects,10} " +
                             $"{c.ObjectSize,9} {c.ObjectsPerSlab,12} {c.PagesPerSlab,14} {c.Slabs,7} {c.SpareSlabs,7}");
        }
    }

    public static void PrintVmStat(TextWriter output, ArenaStats s)
    {
        output.WriteLine($"nr_free_pages {s.FreePages}");
        output.WriteLine($"nr_per_cpu_pages {s.PerCpuPages}");
        output.WriteLine($"nr_slab_pages {s.SlabPages}");
        output.WriteLine($"nr_slab_objects {s.SlabObjects}");
        output.WriteLine($"memory_pressure {s.MemoryPressure}");
        output.WriteLine($"inactive_target {s.InactiveTarget}");
        output.WriteLine($"pgalloc {s.Allocations}");
        output.WriteLine($"pgfree {s.Frees}");
        output.WriteLine($"pgalloc_failed {s.Failures}");
        output.WriteLine($"pgreclaimed {s.Reclaimed}");
        output.WriteLine($"pglaundered {s.Laundered}");
        long[] steps = PhaseCounters.StepsOf(s);
        for (int i = 0; i < steps.Length; i++)
            output.WriteLine($"step_{PhaseCounters.StepNames[i]} {steps[i]}");
    }
}
