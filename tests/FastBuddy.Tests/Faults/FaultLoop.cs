using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Faults;

/// <summary>
/// SQLite's OOM-injection loop: runs an operation with its Nth call of one fault point failing, for N = 1, 2, ...
/// until a run sees no fault, and hands each run's outcome to a check.
/// </summary>
internal static class FaultLoop
{
    /// <summary>A run: the plan that was armed and the exception the operation threw (null when it succeeded).</summary>
    public readonly record struct Run(int N, FaultInjection.Plan Plan, Exception? Error);

    /// <summary>Runs until no fault fires; returns how many runs failed (always at least one for a point on the path).</summary>
    public static int Walk(FaultPoint point, Action operation, Action<Run> check, int limit = 1000)
    {
        for (int n = 1; n <= limit; n++)
        {
            Exception? error = null;
            using FaultInjection.Plan plan = FaultInjection.Arm(point, n);
            try
            {
                operation();
            }
            catch (Exception e)
            {
                error = e;
            }
            check(new Run(n, plan, error));
            if (!plan.Fired)
                return n - 1;
        }
        throw new InvalidOperationException($"{point}: the operation still met a fault after {limit} runs.");
    }
}
