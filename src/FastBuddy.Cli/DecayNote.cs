namespace FastBuddy.Cli;

// The one thing a seed does not fix: 2.4's memory_pressure decays by 1/64 once per wall-clock second, and
// inactive_target (pressure / 64) steers how many pages kswapd's passes age. A run whose arena lives less than a
// second never decays and repeats exactly; a longer one says so on the error writer, because it may differ.
internal static class DecayNote
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(1);

    public const string Prefix = "note: the arena lived";

    public static void Check(TimeSpan lived, TextWriter error)
    {
        if (lived >= Limit)
            error.WriteLine($"{Prefix} {lived.TotalSeconds:0.00} s: memory_pressure decayed once a second meanwhile, so this run may differ from another with the same seed");
    }
}
