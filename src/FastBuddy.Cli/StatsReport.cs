namespace FastBuddy.Cli;

// Prints an ArenaStats snapshot: the buddyinfo table, then the policy counters and the per-step counts.
internal static class StatsReport
{
    public static void Print(TextWriter output, string title, BuddyArena arena)
    {
        ArenaStats s = arena.GetStats();
        output.WriteLine($"== {title} ==");
        output.Write(BuddyInfoTable.Render(s, arena.MaxOrder));
        output.WriteLine($"free {s.FreePages} of {s.TotalPages} pages ({Percent(s.FreePages, s.TotalPages)}), " +
                         $"per-cpu {s.PerCpuPages}, memory_pressure {s.MemoryPressure}, inactive_target {s.InactiveTarget}");
        output.WriteLine();
    }

    public static void PrintCounters(TextWriter output, BuddyArena arena)
    {
        ArenaStats s = arena.GetStats();
        AllocationStepCounts steps = s.Steps;
        output.WriteLine("counters:");
        output.WriteLine($"  allocations {s.Allocations}, frees {s.Frees}, failures {s.Failures}, " +
                         $"reclaimed {s.Reclaimed}, laundered {s.Laundered}, memory_pressure {s.MemoryPressure}");
        output.WriteLine($"  steps: fast path {steps.FastPath}, high {steps.High}, low {steps.Low}, min {steps.Min}, " +
                         $"direct reclaim {steps.DirectReclaim}, higher-order reclaim {steps.HigherOrderReclaim}, " +
                         $"final phase {steps.FinalPhase}, failed {steps.Failed}");
        output.WriteLine();
    }

    private static string Percent(long part, long whole)
        => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
