using System.Globalization;

namespace FastBuddy.Cli;

// Prints an ArenaStats snapshot: the buddyinfo table and one summary line.
internal static class StatsReport
{
    public static void Print(TextWriter output, string title, ArenaStats s, int maxOrder)
    {
        output.WriteLine($"-- {title}");
        output.Write(BuddyInfoTable.Render(s, maxOrder));
        output.WriteLine($"free {s.FreePages} of {s.TotalPages} pages ({Percent(s.FreePages, s.TotalPages)}), " +
                         $"per-thread {s.PerCpuPages}, memory_pressure {s.MemoryPressure}, inactive_target {s.InactiveTarget}");
    }

    public static void PrintTotals(TextWriter output, ArenaStats s)
    {
        output.WriteLine($"all phases: {s.Allocations} allocations, {s.Frees} frees, {s.Failures} failed; " +
                         $"reclaimed {s.Reclaimed}, laundered {s.Laundered}");
        PhaseCounters.PrintSteps(output, PhaseCounters.StepsOf(s));
    }

    private static string Percent(long part, long whole)
        => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}
