using System.Runtime.InteropServices;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// A precomputed, seeded sequence of allocations and frees of orders 0..8 (weighted to the small ones) over a fixed
/// set of slots; it ends with every slot empty, so replaying it leaves the allocator as it found it and every
/// replay does exactly the same operations.
/// </summary>
/// <remarks>
/// Each entry is <c>slot &lt;&lt; SlotShift | FreeBit? | order</c>. Built by picking a random slot: an empty one gets a
/// block of a random order, a full one is freed (with the order it was allocated with), until the operations so far
/// plus the frees still owed reach <c>length</c>; then every slot that is still full is freed. The length is exact
/// (it must be even: operations plus live blocks only ever grow by two), so it can be a constant
/// <c>OperationsPerInvoke</c>. With 64 slots about half are full at any time.
/// </remarks>
internal sealed unsafe class MixedSequence : IDisposable
{
    public const int SlotShift = 8;
    public const int FreeBit = 1 << 7;
    public const int OrderMask = 0x7f;

    /// <summary>Relative weight of orders 0..8 (sum 100): about half the requests are single pages.</summary>
    public static readonly int[] OrderWeights = [48, 16, 10, 8, 6, 4, 3, 3, 2];

    public MixedSequence(int slots, int length, int seed)
    {
        var rng = new Random(seed);
        var live = new int[slots];
        Array.Fill(live, -1);
        if (length % 2 != 0)
            throw new ArgumentException("The length of a mixed sequence must be even.", nameof(length));
        var ops = new List<int>(length);
        int total = OrderWeights.Sum();
        int liveCount = 0;
        while (ops.Count + liveCount < length)
        {
            int slot = rng.Next(slots);
            if (live[slot] >= 0)
            {
                ops.Add(slot << SlotShift | FreeBit | live[slot]);
                live[slot] = -1;
                liveCount--;
            }
            else
            {
                int r = rng.Next(total), order = 0;
                while (r >= OrderWeights[order])
                    r -= OrderWeights[order++];
                ops.Add(slot << SlotShift | order);
                live[slot] = order;
                liveCount++;
            }
        }
        for (int slot = 0; slot < slots; slot++)
        {
            if (live[slot] >= 0)
                ops.Add(slot << SlotShift | FreeBit | live[slot]);
        }
        if (ops.Count != length)
            throw new InvalidOperationException($"The mixed sequence has {ops.Count} operations, not {length}.");
        Count = ops.Count;
        Slots = slots;
        Ops = (int*)NativeMemory.Alloc((nuint)Count, sizeof(int));
        for (int i = 0; i < Count; i++)
            Ops[i] = ops[i];
        SlotTable = (void**)NativeMemory.AllocZeroed((nuint)slots, (nuint)sizeof(void*));
        Allocations = ops.Count(op => (op & FreeBit) == 0);
        MaxOrder = ops.Max(op => op & OrderMask);
    }

    /// <summary>Operations (allocations plus frees) in one replay.</summary>
    public int Count { get; }

    public int Allocations { get; }

    public int MaxOrder { get; }

    public int Slots { get; }

    public int* Ops { get; private set; }

    /// <summary>Native slot table for the pointer-based allocators.</summary>
    public void** SlotTable { get; private set; }

    public void Dispose()
    {
        NativeMemory.Free(Ops);
        NativeMemory.Free(SlotTable);
        Ops = null;
        SlotTable = null;
    }
}
