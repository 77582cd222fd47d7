using System.Buffers;

namespace FastBuddy;

/// <summary>A rented arena block seen as <see cref="Memory{T}"/>; disposing it frees the block once.</summary>
internal sealed unsafe class NativeBlockOwner : MemoryManager<byte>
{
    private readonly BuddyArena _arena;
    private readonly int _length;
    private void* _block;

    public NativeBlockOwner(BuddyArena arena, void* block, int length)
    {
        _arena = arena;
        _block = block;
        _length = length;
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_block == null, this);
        return new Span<byte>(_block, _length);
    }

    // Arena memory never moves: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_block == null, this);
        if ((uint)elementIndex > (uint)_length)
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        return new MemoryHandle((byte*)_block + elementIndex);
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
