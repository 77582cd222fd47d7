using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Benchmarks.Peers;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// One allocator seen as malloc/free of objects of a byte size: the producer/consumer loops of
/// <see cref="SmallObjectSuite"/> are written once, generic over a struct implementing this, so that the JIT
/// compiles one specialised copy per allocator (no interface or delegate call in the measured loop).
/// </summary>
internal unsafe interface IObjectAllocator
{
    void* Alloc(nuint bytes);
    void Free(void* p);
}

/// <summary>FastBuddy's byte API with its default flags: <c>BuddyArena.Alloc</c>/<c>Free</c>.</summary>
internal readonly unsafe struct FastBuddyObjects(BuddyArena arena) : IObjectAllocator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(nuint bytes) => arena.Alloc(bytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p) => arena.Free(p);
}

/// <summary>NativeMemory.Alloc/Free (glibc malloc/free through libSystem.Native).</summary>
internal readonly unsafe struct NativeMemoryObjects : IObjectAllocator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(nuint bytes) => NativeMemory.Alloc(bytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p) => NativeMemory.Free(p);
}

/// <summary>A native peer's malloc/free of any size (its function pointers copied into the struct).</summary>
internal readonly unsafe struct PeerObjects(NativePeer peer) : IObjectAllocator
{
    private readonly delegate* unmanaged<nuint, void*> _malloc = peer.Malloc;
    private readonly delegate* unmanaged<void*, void> _free = peer.Free;

    /// <summary>
    /// The peer of that name, or a struct of null function pointers when it is missing (never called then: the
    /// suite's config filters that peer's benchmarks out).
    /// </summary>
    public static PeerObjects For(string name) => NativePeers.Find(name) is { } peer ? new PeerObjects(peer) : default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(nuint bytes) => _malloc(bytes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p) => _free(p);
}
