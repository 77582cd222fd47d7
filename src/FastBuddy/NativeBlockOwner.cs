using System.Buffers;

namespace FastBuddy;

/// <summary>
/// A rented arena block seen as <see cref="Memory{T}"/> of <typeparamref name="T"/>; disposing it frees the block
/// once.
/// </summary>
internal sealed unsafe class NativeBlockOwner<T> : MemoryManager<T> where T : unmanaged
{
    private readonly BuddyArena _arena;
    private readonly int _length;
    private void* _block;

    /// <param name="arena">The arena that owns the block.</param>
    /// <param name="block">The block, from <see cref="BuddyArena.Alloc"/>.</param>
    /// <param name="length">Elements of <typeparamref name="T"/> seen (at most the block's size).</param>
    public NativeBlockOwner(BuddyArena arena, void* block, int length)
    {
        _arena = arena;
        _block = block;
        _length = length;
    }

    public override Span<T> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_block == null, this);
        return new Span<T>(_block, _length);
    }

    // Arena memory never moves: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_block == null, this);
        if ((uint)elementIndex > (uint)_length)
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle((T*)_block + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        void* block = _block;
        _block = null;
        if (block != null && !_arena.IsDisposed)
            _arena.Free(block);
    }
}
