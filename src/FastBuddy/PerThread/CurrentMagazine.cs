using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.PerThread;

/// <summary>
/// The calling thread's magazine of the arena it used last: the one thread-static read at the top of both fast
/// paths (a pointer, so the JIT reads it inline), and the home of the thread's last error once it has one.
/// </summary>
/// <remarks>
/// On CoreCLR for Linux a thread-static read is a call to <c>__tls_get_addr</c> and three dependent loads, and
/// everything a fast path does waits on its result. So the read is paired with a guess: the magazine the process
/// switched to last (<see cref="s_guess"/>, a plain static). The fast path compares the two and returns the guess
/// when they are equal; the CPU predicts that branch and runs ahead on the guess, one load away, while the
/// thread-static read completes beside it. The guess is only ever returned when it equals the thread's own
/// pointer, so it is as safe as that pointer (a stale guess of an exited thread's magazine is never dereferenced
/// unless this thread's magazine now lives at the same address). Threads other than the one that switched last
/// pay one compare.
/// </remarks>
internal static unsafe class CurrentMagazine
{
    [ThreadStatic] private static nint t_magazine; // a Magazine*, as nint so that it can be read volatile

    private static Guess s_guess;

    public static Magazine* Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Magazine* guess = s_guess.Magazine;
            if (guess == (Magazine*)t_magazine)
                return guess;
            return (Magazine*)Volatile.Read(ref t_magazine); // a branch, not a select: the guess must not wait on the read
        }
    }

    /// <summary>Makes <paramref name="next"/> current, carrying the thread's last error over.</summary>
    public static void Switch(Magazine* next)
    {
        Magazine* previous = (Magazine*)t_magazine;
        next->LastError = previous != null ? previous->LastError : (byte)ThreadState.Current.LastErrorWithoutMagazine;
        t_magazine = (nint)next;
        s_guess.Magazine = next;
    }

    /// <summary>The guess on a cache line of its own: written only on a switch, read by every fast path.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Guess
    {
        [FieldOffset(64)] public Magazine* Magazine;
    }
}
