using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastBuddy.Buddy;

/// <summary>
/// One thread's per-CPU page lists for one arena: a small stack of parked blocks per (zone, order), used by the
/// owner thread alone without any lock or interlocked operation.
/// </summary>
/// <remarks>
/// Other threads reach the lists only to drain them, with an asymmetric handshake: the owner raises
/// <see cref="InUse"/> around each operation and checks <see cref="DrainRequested"/>; a drainer holds
/// <see cref="DrainLock"/>, raises <see cref="DrainRequested"/>, issues one process-wide memory barrier, and waits
/// for <see cref="InUse"/> to drop. After the barrier either the owner saw the request or the drainer sees the
/// owner inside its operation, so the lists are never touched by two threads at once, and the owner's fast path
/// stays free of atomics. Counters are plain fields written by the owner and summed (racily) on read.
/// </remarks>
internal sealed class ThreadPageCache
{
    private readonly int[] _slots;
    private readonly int[] _offsets;
    private readonly int[] _high;
    private readonly int[] _counts;
    private readonly int _orders;

    public ThreadPageCache(int arenaId, PerCpuLists config, int zones)
    {
        ArenaId = arenaId;
        Owner = Thread.CurrentThread;
        _orders = config.Orders;
        _offsets = new int[zones * _orders];
        _high = new int[zones * _orders];
        _counts = new int[zones * _orders];
        int total = 0;
        for (int i = 0; i < _offsets.Length; i++)
        {
            _offsets[i] = total;
            _high[i] = config.High(i / _orders, i % _orders);
            total += _high[i];
        }
        _slots = new int[Math.Max(total, 1)];
        Served = new long[zones];
        Freed = new long[zones];
    }

    public int ArenaId { get; }
    public Thread Owner { get; }
    public volatile int InUse;
    public volatile int DrainRequested;
    public readonly Lock DrainLock = new();

    /// <summary>Blocks handed out from (or through) these lists, per zone.</summary>
    public readonly long[] Served;

    /// <summary>Blocks freed into these lists, per zone.</summary>
    public readonly long[] Freed;

    /// <summary>The arena was disposed: the lists are dead.</summary>
    public bool Dead;

    public int Count(int zone, int order) => _counts[zone * _orders + order];

    public int High(int zone, int order) => _high[zone * _orders + order];

    /// <summary>Takes the most recently parked block, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Pop(int zone, int order)
    {
        int list = zone * _orders + order;
        ref int count = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), list);
        if (count == 0)
            return -1;
        count--;
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_offsets), list) + count);
    }

    /// <summary>Parks a block; false when the list is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(int zone, int order, int page)
    {
        int list = zone * _orders + order;
        ref int count = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_counts), list);
        if (count == Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_high), list))
            return false;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_offsets), list) + count) = page;
        count++;
        return true;
    }

    /// <summary>Removes up to <c>into.Length</c> of the oldest (coldest) blocks of a list into <paramref name="into"/>.</summary>
    public int TakeOldest(int zone, int order, Span<int> into)
    {
        int list = zone * _orders + order;
        int count = _counts[list];
        int n = Math.Min(into.Length, count);
        Span<int> slots = _slots.AsSpan(_offsets[list], count);
        slots[..n].CopyTo(into);
        slots[n..].CopyTo(slots);
        _counts[list] = count - n;
        return n;
    }

    /// <summary>The owner enters an operation; waits out a drain in progress.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        InUse = 1;
        if (DrainRequested != 0)
            AcknowledgeDrain();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit() => InUse = 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AcknowledgeDrain()
    {
        do
        {
            InUse = 0;
            lock (DrainLock)
                DrainRequested = 0;
            InUse = 1;
        }
        while (DrainRequested != 0);
    }
}
