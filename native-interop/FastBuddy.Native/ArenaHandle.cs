using System.Collections.Concurrent;

namespace FastBuddy.Native;

/// <summary>
/// What a C handle stands for: the arena, its handle value, and the arena's C page owners (one per
/// (writeback, evict, ctx) triple, so fb_cache_add with the same ops and ctx reuses one owner object).
/// </summary>
/// <remarks>Immutable but for the owner cache, so one read of a table slot gives a consistent view.</remarks>
internal sealed unsafe class ArenaHandle
{
    private readonly ConcurrentDictionary<NativePageOwner.Key, NativePageOwner> _owners = new();
    private NativePageOwner? _lastOwner;

    public ArenaHandle(BuddyArena arena, nint value)
    {
        Arena = arena;
        Value = value;
    }

    public BuddyArena Arena { get; }

    /// <summary>The fb_arena* value handed to C.</summary>
    public nint Value { get; }

    /// <summary>The owner for these callbacks and context: the last one used, or one from the cache, or a new one.</summary>
    public NativePageOwner OwnerFor(in NativePageOwner.Key key)
    {
        NativePageOwner? last = Volatile.Read(ref _lastOwner);
        if (last is not null && last.Matches(key))
            return last;
        NativePageOwner owner = _owners.GetOrAdd(key, static k => new NativePageOwner(k));
        Volatile.Write(ref _lastOwner, owner);
        return owner;
    }
}
