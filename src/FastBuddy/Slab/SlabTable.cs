using System.Runtime.InteropServices;

namespace FastBuddy.Slab;

/// <summary>
/// The slab headers of one arena, indexed by slab id (1 .. one per page of the arena; 0 is "no slab"), in one
/// zeroed block of native memory whose pages the OS provides only when a header is first written.
/// </summary>
/// <remarks>
/// A slab's pages carry its id in their descriptors, so that a pointer finds its header in O(1): page →
/// descriptor → id → header. Ids are reused lowest-freed-first, which keeps the touched part of the table small.
/// The table lives as long as the arena: a thread racing the release of a slab may still read a header after it
/// is reused, never after it is gone.
/// </remarks>
internal sealed unsafe class SlabTable : IDisposable
{
    private readonly Lock _lock = new();
    private readonly int[] _freeIds;
    private int _freeCount;
    private int _highWater;
    private SlabHeader* _headers;

    public SlabTable(long pages)
    {
        Capacity = (int)Math.Min(pages, int.MaxValue - 1);
        _freeIds = new int[Capacity];
        _headers = (SlabHeader*)NativeMemory.AllocZeroed((nuint)(Capacity + 1), (nuint)SlabHeader.Bytes);
    }

    /// <summary>Most slabs the arena can ever hold (one per page).</summary>
    public int Capacity { get; }

    /// <summary>Ids handed out so far are all below this (live ones and reusable ones).</summary>
    public int HighWater => Volatile.Read(ref _highWater);

    /// <summary>The table's base: header of id i at <c>Base + i</c>.</summary>
    public SlabHeader* Base => _headers;

    public SlabHeader* this[int id] => _headers + id;

    /// <summary>A free header id, or 0 when the table is full (it never is: one slab per page at most).</summary>
    public int Rent()
    {
        lock (_lock)
        {
            if (_freeCount > 0)
                return _freeIds[--_freeCount];
            return _highWater < Capacity ? ++_highWater : 0;
        }
    }

    /// <summary>Returns a header whose slab is gone.</summary>
    public void Return(int id)
    {
        lock (_lock)
            _freeIds[_freeCount++] = id;
    }

    public void Dispose()
    {
        NativeMemory.Free(_headers);
        _headers = null;
    }
}
