using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.PerThread;

/// <summary>
/// The calling thread's magazine of the arena it used last: the one thread-static read at the top of both fast
/// paths (a pointer, so the JIT reads it inline), and the home of the thread's last error once it has one.
/// </summary>
/// <remarks>
/// On CoreCLR for Linux a thread-static read is a call to <c>__tls_get_addr</c> and three dependent loads, and
/// everything a fast path does waits on its result. So the read is paired with guesses, plain words compared with
/// it: first the magazine the process switched to last (one load from a constant address, the shortest chain, right
/// for a single busy thread), then the magazine that a thread running in the same 64 KiB of stack addresses
/// switched to last, from a table of <see cref="GuessSlots"/> words indexed by the stack address (threads have
/// disjoint stacks, so each of a few busy threads finds its own guess there, a shift and a mask further away). A
/// guess is returned when it equals the thread-static; the CPU predicts those branches (each core its own) and runs
/// ahead on the guess while the thread-static read completes beside it. A guess is only ever returned when it
/// equals the thread's own pointer, so it is as safe as that pointer: a guess of another thread (two stacks 32 MiB
/// apart, a stale entry of an exited thread) costs one compare and is never dereferenced.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class CurrentMagazine
{
    [ThreadStatic] private static nint t_magazine; // a Magazine*, as nint so that it can be read volatile

    /// <summary>Guess slots: one per 64 KiB of stack address, modulo 32 MiB.</summary>
    private const int GuessSlots = 512;

    private const int GranuleShift = 16;

    private static Guess s_guess;

    public static Magazine* Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Magazine* last = s_guess.Magazine;
            if (last == (Magazine*)t_magazine)
                return last;
            Magazine* near = GuessTable.Slots[StackGranule()];
            if (near == (Magazine*)t_magazine)
                return near;
            return (Magazine*)Volatile.Read(ref t_magazine); // a branch, not a select: the guesses must not wait on the read
        }
    }

    /// <summary>Makes <paramref name="next"/> current, carrying the thread's last error over.</summary>
    public static void Switch(Magazine* next)
    {
        Magazine* previous = (Magazine*)t_magazine;
        next->LastError = previous != null ? previous->LastError : (byte)ThreadState.Current.LastErrorWithoutMagazine;
        t_magazine = (nint)next;
        PlantGuess(next);
    }

    /// <summary>
    /// Makes <paramref name="m"/> the last switch's guess and the guess of the calling thread's stack slots: the
    /// slot of this frame and the one above it, since the fast paths run in shallower frames (higher addresses).
    /// Tests call it with another thread's magazine, as a switch of a thread with a colliding stack would.
    /// </summary>
    internal static void PlantGuess(Magazine* m)
    {
        s_guess.Magazine = m;
        nuint g = StackGranule();
        GuessTable.Slots[g] = m;
        GuessTable.Slots[(g + 1) & (GuessSlots - 1)] = m;
    }

    /// <summary>The calling thread's guess slot: its stack address in 64 KiB granules, modulo the table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint StackGranule()
    {
        byte probe;
        return ((nuint)(&probe) >> GranuleShift) & (GuessSlots - 1);
    }

    /// <summary>The last switch's guess on a cache line of its own: written only on a switch, read by every fast path.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Guess
    {
        [FieldOffset(64)] public Magazine* Magazine;
    }

    /// <summary>
    /// The guess table, in a class of its own: a static readonly pointer, so tier-1 code holds its address as a
    /// constant, and <see cref="CurrentMagazine"/> keeps no static constructor (which would lengthen its
    /// thread-static read). Written only by <see cref="Switch"/>.
    /// </summary>
    private static class GuessTable
    {
        public static readonly Magazine** Slots = New();

        private static Magazine** New()
        {
            var table = (Magazine**)NativeMemory.AlignedAlloc(GuessSlots * (nuint)sizeof(Magazine*), 64);
            NativeMemory.Clear(table, GuessSlots * (nuint)sizeof(Magazine*));
            return table;
        }
    }
}
