using System.Runtime.CompilerServices;

namespace FastBuddy.PerThread;

/// <summary>
/// The calling thread's magazine of the arena it used last: the one thread-static read at the top of both fast
/// paths (a pointer, so the JIT reads it inline), and the home of the thread's last error once it has one.
/// </summary>
internal static unsafe class CurrentMagazine
{
    [ThreadStatic] private static Magazine* t_magazine;

    public static Magazine* Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => t_magazine;
    }

    /// <summary>Makes <paramref name="next"/> current, carrying the thread's last error over.</summary>
    public static void Switch(Magazine* next)
    {
        Magazine* previous = t_magazine;
        next->LastError = previous != null ? previous->LastError : (byte)ThreadState.Current.LastErrorWithoutMagazine;
        t_magazine = next;
    }
}
