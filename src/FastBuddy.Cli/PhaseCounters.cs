namespace FastBuddy.Cli;

// What one phase did: the difference of the arena's cumulative counters between its start and its end.
internal sealed record PhaseCounters(
    string Phase,
    long Allocations,
    long Frees,
    long Failures,
    long Reclaimed,
    long Laundered,
    long[] Steps)
{
    // The names of the step counters, in ArenaStats.Steps order (also the JSON property names).
    public static readonly string[] StepNames =
        ["fast_path", "high", "low", "min", "direct_reclaim", "higher_order_reclaim", "final_phase", "failed"];

    // What each step counter means, for the legend.
    public static readonly string[] StepLabels =
    [
        "step 1 fast path", "step 2 high", "step 3 low", "step 4 min", "direct reclaim",
        "step 5 higher-order reclaim", "step 6 final phase", "step 7 failed",
    ];

    public static PhaseCounters Between(string phase, ArenaStats before, ArenaStats after)
    {
        long[] a = StepsOf(after), b = StepsOf(before);
        var steps = new long[a.Length];
        for (int i = 0; i < steps.Length; i++)
            steps[i] = a[i] - b[i];
        return new PhaseCounters(phase, after.Allocations - before.Allocations, after.Frees - before.Frees,
            after.Failures - before.Failures, after.Reclaimed - before.Reclaimed, after.Laundered - before.Laundered, steps);
    }

    public static long[] StepsOf(ArenaStats stats)
    {
        AllocationStepCounts s = stats.Steps;
        return [s.FastPath, s.High, s.Low, s.Min, s.DirectReclaim, s.HigherOrderReclaim, s.FinalPhase, s.Failed];
    }

    // One line per kind: the steps that served this phase's allocations, then reclaim and laundering.
    public void Print(TextWriter output)
    {
        output.WriteLine($"this phase: {Allocations} allocations, {Frees} frees, {Failures} failed; " +
                         $"reclaimed {Reclaimed} cache pages, laundered {Laundered}");
        PrintSteps(output, Steps);
    }

    // "served by:" and the eight step counters, over two lines.
    public static void PrintSteps(TextWriter output, long[] steps)
    {
        var parts = new List<string>();
        for (int i = 0; i < steps.Length; i++)
            parts.Add($"{StepLabels[i]} {steps[i]}");
        output.WriteLine("  served by: " + string.Join(", ", parts[..4]) + ",");
        output.WriteLine("             " + string.Join(", ", parts[4..]));
    }
}
