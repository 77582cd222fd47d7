namespace FastBuddy.Cli;

// Where a running phase reports how far it is: the live view (or its plain-text fallback) listens.
internal interface IPhaseProgress
{
    // Called often from the phase's own loop; a listener decides how often to redraw.
    void Report(long done, long total);
}

// No listener: --live off, --json, and the map and stats verbs.
internal sealed class SilentProgress : IPhaseProgress
{
    public static readonly SilentProgress Instance = new();

    public void Report(long done, long total)
    {
    }
}
