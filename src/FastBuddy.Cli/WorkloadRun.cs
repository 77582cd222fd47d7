namespace FastBuddy.Cli;

// What the stats and map verbs were asked for: an arena and the workload to run on it before looking.
internal sealed record WorkloadRun(ArenaShape Shape, string Workload, int Seed, int Steps, int Requests)
{
    // Runs the phases the workload names (kswapd's pass after each, as in the demo) and leaves their blocks held,
    // so that what is looked at afterwards is the arena in the middle of that workload.
    public BuddyArena Start(TextWriter notes, TextLogger logger)
    {
        Lifetime.Restart();
        BuddyArena arena = Shape.Create(logger);
        try
        {
            var workload = new Workload(arena, Seed, notes);
            foreach (Phase phase in Phases.Upto(Workload, Steps, Requests))
            {
                phase.Run(workload);
                arena.Balance();
            }
            return arena;
        }
        catch
        {
            arena.Dispose();
            throw;
        }
    }

    // Since the arena was created: see DecayNote.
    public System.Diagnostics.Stopwatch Lifetime { get; } = new();

    public string Describe() => $"{Shape.Describe()}; workload {Workload}, seed {Seed}";
}
