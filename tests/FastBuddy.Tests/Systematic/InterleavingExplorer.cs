namespace FastBuddy.Tests.Systematic;

/// <summary>The outcome of an exploration: how many runs, and whether every interleaving was tried.</summary>
internal readonly record struct Exploration(int Runs, bool Complete);

/// <summary>A run broke a promise: the message names the schedule that replays it.</summary>
internal sealed class InterleavingFailure(string message) : Exception(message);

/// <summary>
/// Stateless model checking of a <see cref="Scenario"/>: runs it once per interleaving of its logical threads,
/// depth first over the scheduler's choices, until every interleaving has been tried (or a bound is reached),
/// and stops at the first run whose checks fail, printing the schedule that replays it.
/// </summary>
/// <remarks>
/// A schedule is the list of thread indices chosen at each decision (written "0.1.1.2"). The first choice at a
/// decision is always "the thread that ran last" when it can go on, so the search starts from the runs with the
/// fewest preemptions; an optional preemption bound (as in CHESS) keeps larger scenarios small. The scenario must
/// be deterministic for a given schedule: the explorer checks that every replayed prefix offers the same choices.
/// </remarks>
internal static class InterleavingExplorer
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Tries every interleaving (with at most <paramref name="preemptionBound"/> preemptions, when given).</summary>
    public static Exploration ExploreAll(Func<Scenario> create, int maxRuns = 200_000, int preemptionBound = int.MaxValue)
    {
        var decisions = new List<(int Count, int Chosen)>();
        for (int runs = 1; ; runs++)
        {
            int depth = 0, preemptions = 0;
            var schedule = new List<int>();
            int Choose(IReadOnlyList<int> runnable)
            {
                // runnable[0] is the last thread to run when it can go on: any other choice is a preemption.
                bool canContinue = schedule.Count > 0 && runnable[0] == schedule[^1];
                int count = canContinue && preemptions >= preemptionBound ? 1 : runnable.Count;
                int chosen;
                if (depth < decisions.Count)
                {
                    if (decisions[depth].Count != count)
                        throw new InterleavingFailure($"nondeterministic scenario: decision {depth} of schedule {Format(schedule)} offered {count} choices, earlier {decisions[depth].Count}");
                    chosen = decisions[depth].Chosen;
                }
                else
                {
                    decisions.Add((count, 0));
                    chosen = 0;
                }
                depth++;
                if (canContinue && chosen != 0)
                    preemptions++;
                schedule.Add(runnable[chosen]);
                return runnable[chosen];
            }
            RunOnce(create, Choose, schedule);
            while (decisions.Count > 0 && decisions[^1].Chosen == decisions[^1].Count - 1)
                decisions.RemoveAt(decisions.Count - 1);
            if (decisions.Count == 0)
                return new Exploration(runs, Complete: true);
            if (runs == maxRuns)
                return new Exploration(runs, Complete: false);
            decisions[^1] = (decisions[^1].Count, decisions[^1].Chosen + 1);
        }
    }

    /// <summary>
    /// A bounded random walk: <paramref name="runs"/> runs, each choosing uniformly at every decision from a
    /// generator seeded with <paramref name="seed"/> + the run's number, so that a failure names its seed and its
    /// schedule (replay it with <see cref="Replay"/>). For scenarios too large to explore completely.
    /// </summary>
    public static Exploration ExploreRandom(Func<Scenario> create, int seed, int runs)
    {
        for (int run = 0; run < runs; run++)
        {
            var random = new Random(seed + run);
            var schedule = new List<int>();
            try
            {
                RunOnce(create, runnable =>
                {
                    int next = runnable[random.Next(runnable.Count)];
                    schedule.Add(next);
                    return next;
                }, schedule);
            }
            catch (InterleavingFailure e)
            {
                throw new InterleavingFailure($"random walk seed {seed + run}: {e.Message}");
            }
        }
        return new Exploration(runs, Complete: false);
    }

    /// <summary>Runs one schedule (as printed by a failure); past its end the last thread to run goes on.</summary>
    public static void Replay(Func<Scenario> create, string schedule)
    {
        int[] steps = schedule.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var taken = new List<int>();
        RunOnce(create, runnable =>
        {
            int next = taken.Count < steps.Length ? steps[taken.Count] : runnable[0];
            if (!runnable.Contains(next))
                throw new InterleavingFailure($"schedule {schedule} does not fit: thread {next} cannot run at decision {taken.Count}");
            taken.Add(next);
            return next;
        }, taken);
    }

    private static void RunOnce(Func<Scenario> create, CooperativeRun.Chooser choose, List<int> schedule)
    {
        Scenario scenario = create();
        var run = new CooperativeRun();
        string? failure = run.Run(scenario.Threads, choose, StepTimeout, scenario.OnPoint);
        if (run.LeftThreadsBehind)
        {
            // A thread is stuck inside the arena (perhaps inside its window): disposing would wait for it forever.
            throw new InterleavingFailure($"schedule {Format(schedule)} fails: {failure}{Environment.NewLine}steps: {string.Join(" ", run.Trace)}");
        }
        // The checks and the arena's end run with the same timeout as a step: a broken arena may loop forever in them.
        bool finished = true;
        if (failure is null)
            finished = Bounded("the checks", scenario.Check, ref failure);
        if (finished)
            Bounded("Dispose after the checks", scenario.Dispose, ref failure);
        if (failure is not null)
            throw new InterleavingFailure($"schedule {Format(schedule)} fails: {failure}{Environment.NewLine}steps: {string.Join(" ", run.Trace)}");
    }

    /// <summary>Runs <paramref name="action"/> on a thread of its own; false when it hangs. Its exception (or hang) becomes the failure, unless there is one.</summary>
    private static bool Bounded(string what, Action action, ref string? failure)
    {
        string? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                thrown = e.Message;
            }
        }) { IsBackground = true, Name = "systematic checks" };
        thread.Start();
        bool finished = thread.Join(StepTimeout);
        failure ??= finished ? thrown : $"{what} did not finish within {StepTimeout.TotalSeconds} s";
        return finished;
    }

    private static string Format(List<int> schedule) => string.Join('.', schedule);
}
