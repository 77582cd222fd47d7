using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Systematic;

/// <summary>
/// Routes the library's schedule points (<see cref="SchedulePoints"/>) to a handler of the calling thread, so
/// that tests using them run in parallel with every other test: a thread without a handler passes straight on.
/// </summary>
internal static class PointHooks
{
    [ThreadStatic] private static Action<string>? t_handler;

    private static readonly Action<string> s_route = Reach;

    /// <summary>Runs <paramref name="handler"/> at every point the calling thread reaches, until disposed.</summary>
    public static Scope OnThisThread(Action<string> handler)
    {
        Interlocked.CompareExchange(ref SchedulePoints.Hook, s_route, null);
        Action<string>? previous = t_handler;
        t_handler = handler;
        return new Scope(previous);
    }

    /// <summary>A point reached by test code (inside an owner callback, between host steps).</summary>
    public static void Reach(string point) => t_handler?.Invoke(point);

    /// <summary>Runs <paramref name="action"/> the first time the calling thread reaches <paramref name="point"/>.</summary>
    public static Scope Once(string point, Action action)
    {
        bool fired = false;
        return OnThisThread(p =>
        {
            if (fired || p != point)
                return;
            fired = true;
            action();
        });
    }

    public readonly struct Scope(Action<string>? previous) : IDisposable
    {
        public void Dispose() => t_handler = previous;
    }
}
