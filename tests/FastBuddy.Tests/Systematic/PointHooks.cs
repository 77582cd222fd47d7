using FastBuddy.Diagnostics;

namespace FastBuddy.Tests.Systematic;

/// <summary>
/// Routes the library's schedule points (<see cref="SchedulePoints"/>) to a handler of the calling thread, so
/// that tests using them run in parallel with every other test: a thread without a handler passes straight on.
/// </summary>
internal static class PointHooks
{
    /// <summary>What a thread's handler gets at each point: its name, its kind and the lock it is about to take.</summary>
    public delegate void Handler(string point, PointKind kind, Lock? taking);

    [ThreadStatic] private static Handler? t_handler;

    private static readonly Action<string, PointKind, Lock?> s_route = Route;

    /// <summary>Runs <paramref name="handler"/> at every point the calling thread reaches, until disposed.</summary>
    public static Scope OnThisThread(Handler handler)
    {
        Interlocked.CompareExchange(ref SchedulePoints.Hook, s_route, null);
        Handler? previous = t_handler;
        t_handler = handler;
        return new Scope(previous);
    }

    private static void Route(string point, PointKind kind, Lock? taking) => t_handler?.Invoke(point, kind, taking);

    /// <summary>A point reached by test code (inside an owner callback, between host steps).</summary>
    public static void Reach(string point) => t_handler?.Invoke(point, PointKind.Step, null);

    /// <summary>One turn of a wait loop in test code (a logical thread waiting for another one's step).</summary>
    public static void Spin(string point) => t_handler?.Invoke(point, PointKind.Spin, null);

    /// <summary>Runs <paramref name="action"/> the first time the calling thread reaches <paramref name="point"/>.</summary>
    public static Scope Once(string point, Action action)
    {
        bool fired = false;
        return OnThisThread((p, _, _) =>
        {
            if (fired || p != point)
                return;
            fired = true;
            action();
        });
    }

    public readonly struct Scope(Handler? previous) : IDisposable
    {
        public void Dispose() => t_handler = previous;
    }
}
