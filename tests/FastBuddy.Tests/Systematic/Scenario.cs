namespace FastBuddy.Tests.Systematic;

/// <summary>
/// What one systematic run executes: a few logical threads on a fresh arena, and the checks that must hold once
/// they have all finished. A scenario is built anew for every run (same setup, same threads).
/// </summary>
internal sealed class Scenario(BuddyArena arena) : IDisposable
{
    public BuddyArena Arena { get; } = arena;

    public List<(string Name, Action Body)> Threads { get; } = [];

    /// <summary>Throws (an xunit assertion) when the run broke a promise; runs after every thread finished.</summary>
    public Action Check { get; set; } = () => { };

    /// <summary>Called (on the thread that reached it) at every point a logical thread reaches, before it pauses.</summary>
    public Action<string>? OnPoint { get; set; }

    public Scenario Thread(string name, Action body)
    {
        Threads.Add((name, body));
        return this;
    }

    public void Dispose() => Arena.Dispose();
}
