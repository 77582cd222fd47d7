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
    private struct ListHead
    {
        public int Count;
        public int High;
        public int Offset;
    }

    private readonly ListHead[] _lists;
    private readonly int[] _slots;
    private readonly long[] _served;
    private readonly long[] _freed;
    private readonly int _orders;

    public ThreadPageCache(int arenaId, PerCpuLists config, int zones, ThreadState state)
    {
        ArenaId = arenaId;
        State = state;
        Owner = Thread.CurrentThread;
        _orders = config.Orders;
        _lists = new ListHead[Math.Max(zones * _orders, 1)];
        int total = 0;
        for (int z = 0; z < zones; z++)
        {
            for (int order = 0; order < _orders; order++)
            {
                ref ListHead list = ref _lists[z * _orders + order];
                list.Offset = total;
                list.High = config.High(z, order);
                total += list.High;
            }
        }
        _slots = new int[Math.Max(total, 1)];
        _served = new long[zones];
        _freed = new long[zones];
    }

    public int ArenaId { get; }

    /// <summary>The owner thread's state (its LastError), reachable without another thread-static read.</summary>
    public ThreadState State { get; }
    public Thread Owner { get; }
    public volatile int InUse;
    public volatile int DrainRequested;
    public readonly Lock DrainLock = new();

    /// <summary>The arena was disposed: the lists are dead.</summary>
    public bool Dead;

    /// <summary>Blocks handed out from (or through) these lists in <paramref name="zone"/>.</summary>
    public long Served(int zone) => Volatile.Read(ref _served[zone]);

    /// <summary>Blocks freed into these lists in <paramref name="zone"/>.</summary>
    public long Freed(int zone) => Volatile.Read(ref _freed[zone]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountServed(int zone) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_served), zone)++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CountFreed(int zone) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_freed), zone)++;

    public int Count(int zone, int order) => _lists[zone * _orders + order].Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ListHead List(int zone, int order)
        => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_lists), zone * _orders + order);

    /// <summary>Takes the most recently parked block, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Pop(int zone, int order)
    {
        ref ListHead list = ref List(zone, order);
        int count = list.Count - 1;
        if (count < 0)
            return -1;
        list.Count = count;
        return Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), list.Offset + count);
    }

    /// <summary>Parks a block; false when the list is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Push(int zone, int order, int page)
    {
        ref ListHead list = ref List(zone, order);
        int count = list.Count;
        if (count == list.High)
            return false;
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slots), list.Offset + count) = page;
        list.Count = count + 1;
        return true;
    }

    /// <summary>Removes up to <c>into.Length</c> of the oldest (coldest) blocks of a list into <paramref name="into"/>.</summary>
    public int TakeOldest(int zone, int order, Span<int> into)
    {
        ref ListHead list = ref _lists[zone * _orders + order];
        int count = list.Count;
        int n = Math.Min(into.Length, count);
        Span<int> slots = _slots.AsSpan(list.Offset, count);
        slots[..n].CopyTo(into);
        slots[n..].CopyTo(slots);
        list.Count = count - n;
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
