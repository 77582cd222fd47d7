using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// A bounded single-producer / single-consumer ring of pointers: the producer thread pushes the objects it
/// allocated, the consumer thread pops and frees them. Lock-free, no allocation after construction.
/// </summary>
/// <remarks>
/// The slots are native memory; the two indices are free-running counters, each written by one side only and
/// published with a release store (Volatile.Write). Each side keeps a private copy of the other side's index and
/// reads the shared one again only when the copy says the ring looks full (producer) or empty (consumer), so that in
/// steady state the two cores exchange the slot lines and rarely the index lines. The two indices and the two
/// private copies have 128 bytes each (a cache line and its prefetch pair), so no side's write evicts a line the
/// other side is reading for a different reason. A side that must wait spins, then yields (never sleeps: a 1 ms
/// sleep would dominate the figure).
/// </remarks>
internal sealed unsafe class HandoffRing : IDisposable
{
    private const int Line = 128;
    private const int Stride = Line / sizeof(long);

    private readonly void** _slots;
    private readonly long _mask;
    private readonly long* _words; // tail, head, the producer's copy of head, the consumer's copy of tail

    public HandoffRing(int capacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be a power of two >= 2.");
        Capacity = capacity;
        _mask = capacity - 1;
        _slots = (void**)NativeMemory.AlignedAlloc((nuint)capacity * (nuint)sizeof(void*), Line);
        _words = (long*)NativeMemory.AlignedAlloc(4 * Line, Line);
        NativeMemory.Clear(_words, 4 * Line);
    }

    public int Capacity { get; }

    private ref long Tail => ref _words[0];
    private ref long Head => ref _words[Stride];
    private ref long ProducerHeadCopy => ref _words[2 * Stride];
    private ref long ConsumerTailCopy => ref _words[3 * Stride];

    /// <summary>True when every pushed pointer has been popped (checked between invocations).</summary>
    public bool IsEmpty => Volatile.Read(ref Tail) == Volatile.Read(ref Head);

    /// <summary>Producer side: stores <paramref name="p"/>, waiting while the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Push(void* p)
    {
        long tail = Tail;
        if (tail - ProducerHeadCopy == Capacity)
            WaitForRoom(tail);
        _slots[tail & _mask] = p;
        Volatile.Write(ref Tail, tail + 1);
    }

    /// <summary>Consumer side: takes the oldest pointer, waiting while the ring is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Pop()
    {
        long head = Head;
        if (head == ConsumerTailCopy)
            WaitForItem(head);
        void* p = _slots[head & _mask];
        Volatile.Write(ref Head, head + 1);
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WaitForRoom(long tail)
    {
        var spin = new SpinWait();
        while (tail - (ProducerHeadCopy = Volatile.Read(ref Head)) == Capacity)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WaitForItem(long head)
    {
        var spin = new SpinWait();
        while ((ConsumerTailCopy = Volatile.Read(ref Tail)) == head)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_slots);
        NativeMemory.AlignedFree(_words);
    }
}
