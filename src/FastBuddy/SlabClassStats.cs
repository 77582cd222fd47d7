namespace FastBuddy;

/// <summary>One size class of the slab caches, like a line of Linux's <c>/proc/slabinfo</c>.</summary>
public sealed class SlabClassStats
{
    /// <summary>The class's object size in bytes (every request up to it, above the class below, uses it).</summary>
    public int ObjectSize { get; init; }
    /// <summary>Objects one slab holds.</summary>
    public int ObjectsPerSlab { get; init; }
    /// <summary>Pages of one slab (a block of 2^order pages).</summary>
    public int PagesPerSlab { get; init; }
    /// <summary>Slabs alive (owned by threads, pooled, spare or full).</summary>
    public long Slabs { get; init; }
    /// <summary>Empty slabs kept in the class's pool before their pages go back.</summary>
    public long SpareSlabs { get; init; }
    /// <summary>Objects handed out and not freed (frees from other threads not yet folded in by the slab's owner count as freed).</summary>
    public long ObjectsInUse { get; init; }
    /// <summary>Free objects in the class's slabs: <c>Slabs × ObjectsPerSlab − ObjectsInUse</c>.</summary>
    public long FreeObjects { get; init; }
}
