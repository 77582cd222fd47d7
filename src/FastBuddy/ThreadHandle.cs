using System.Runtime.CompilerServices;
using FastBuddy.PerThread;

namespace FastBuddy;

/// <summary>
/// The calling thread's way into one arena for a hot loop: the same fast paths as <see cref="BuddyArena.Alloc"/>,
/// <see cref="BuddyArena.Free"/>, <see cref="BuddyArena.AllocPages(int, AllocFlags)"/> and
/// <see cref="BuddyArena.FreePages"/>, with the thread's magazine held in the handle instead of read from a
/// thread-static on every call. Get one with <see cref="BuddyArena.GetThreadHandle"/>.
/// </summary>
/// <remarks>
/// A <c>ref struct</c>: it lives on the stack of the thread that made it, so it cannot reach another thread
/// (no field of a class, no lambda, no <c>await</c> across it), and its magazine, which lives as long as the
/// thread, outlives it. Every call checks the magazine's arena key first: after the arena's <c>Dispose</c> (or
/// when the arena has no per-thread magazines) every call misses and takes the arena's checked path, which
/// throws, validates and reports exactly as the arena's own methods do. Results, statuses and exceptions are
/// those of the arena's methods of the same names.
/// </remarks>
public readonly unsafe ref struct ThreadHandle
{
    private readonly BuddyArena _arena;
    private readonly Magazine* _m;

    internal ThreadHandle(BuddyArena arena, Magazine* m)
    {
        _arena = arena;
        _m = m != null ? m : Magazine.Detached;
    }

    /// <summary>The arena this handle serves.</summary>
    public BuddyArena Arena => _arena;

    /// <summary>As <see cref="BuddyArena.Alloc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(nuint bytes, AllocFlags flags = AllocFlags.Kernel)
    {
        void* p = _arena.TryAllocObject(_m, bytes, flags);
        return p != null ? p : _arena.AllocChecked(bytes, flags);
    }

    /// <summary>As <see cref="BuddyArena.Free"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p)
    {
        if (!_arena.TryFreeFast(_m, p))
            _arena.FreeChecked(p);
    }

    /// <summary>As <see cref="BuddyArena.AllocPages(int, AllocFlags)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* AllocPages(int order, AllocFlags flags = AllocFlags.Kernel)
    {
        void* block = _arena.TryPopBlock(_m, order, flags);
        return block != null ? block : _arena.AllocPagesChecked(order, flags);
    }

    /// <summary>As <see cref="BuddyArena.FreePages"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FreePages(void* block, int order)
    {
        if (!_arena.TryParkBlock(_m, block, order))
            _arena.FreePagesChecked(block, order);
    }
}
