using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Benchmarks.Peers;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// One allocator seen as "a block of 2^order pages": the loops of the batch and mixed workloads are written once,
/// generic over a struct implementing this, so the JIT compiles one specialised copy per allocator (no interface
/// or delegate call in the measured loop).
/// </summary>
internal unsafe interface IBlockAllocator
{
    void* Alloc(int order);
    void Free(void* block, int order);
}

/// <summary>FastBuddy: AllocPages/FreePages with fixed flags.</summary>
internal readonly unsafe struct FastBuddyBlocks(BuddyArena arena, AllocFlags flags) : IBlockAllocator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(int order) => arena.AllocPages(order, flags);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* block, int order) => arena.FreePages(block, order);
}

/// <summary>NativeMemory.Alloc/Free (glibc malloc/free through libSystem.Native).</summary>
internal readonly unsafe struct NativeMemoryBlocks(int pageSize) : IBlockAllocator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(int order) => NativeMemory.Alloc((nuint)pageSize << order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* block, int order) => NativeMemory.Free(block);
}

/// <summary>NativeMemory.AlignedAlloc/AlignedFree, aligned to the block size (what a buddy block guarantees).</summary>
internal readonly unsafe struct AlignedBlocks(int pageSize) : IBlockAllocator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(int order) => NativeMemory.AlignedAlloc((nuint)pageSize << order, (nuint)pageSize << order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* block, int order) => NativeMemory.AlignedFree(block);
}

/// <summary>A native peer's malloc/free through unmanaged function pointers.</summary>
internal readonly unsafe struct PeerBlocks(NativePeer peer, int pageSize) : IBlockAllocator
{
    private readonly delegate* unmanaged<nuint, void*> _malloc = peer.Malloc;
    private readonly delegate* unmanaged<void*, void> _free = peer.Free;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(int order) => _malloc((nuint)pageSize << order);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* block, int order) => _free(block);
}

/// <summary>The measured loops, once for every allocator.</summary>
internal static unsafe class Workloads
{
    /// <summary>count allocations of one order held in <paramref name="slots"/>, then count frees.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Batch<T>(T a, void** slots, int count, int order) where T : struct, IBlockAllocator
    {
        for (int i = 0; i < count; i++)
        {
            void* p = a.Alloc(order);
            if (p == null)
                Fail(order);
            slots[i] = p;
        }
        for (int i = 0; i < count; i++)
            a.Free(slots[i], order);
    }

    /// <summary>Replays a <see cref="MixedSequence"/>: each entry allocates into an empty slot or frees a full one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mixed<T>(T a, int* ops, int count, void** slots) where T : struct, IBlockAllocator
    {
        for (int i = 0; i < count; i++)
        {
            int op = ops[i];
            int slot = op >> MixedSequence.SlotShift;
            int order = op & MixedSequence.OrderMask;
            if ((op & MixedSequence.FreeBit) != 0)
            {
                a.Free(slots[slot], order);
            }
            else
            {
                void* p = a.Alloc(order);
                if (p == null)
                    Fail(order);
                slots[slot] = p;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Fail(int order)
        => throw new InvalidOperationException($"An order-{order} allocation returned null in a benchmark that must never run out.");
}
