namespace FastBuddy.Tests.PolicySupport;

/// <summary>
/// A file cache over a byte-array "disk" whose pages live in the arena's page cache: Writeback copies a page to its
/// block on disk, Evict forgets the block -> page mapping. Thread-safe for callers working on disjoint blocks.
/// </summary>
/// <remarks>
/// Protocol (what a real host must do): the owner's lock guards the mappings and the disk. Reads copy a cached page
/// under that lock (an Evict waits for the lock, so the page cannot be handed to anyone else meanwhile) and touch it.
/// Writes first take the page out of the cache with CacheRemove (if that returns false the arena has chosen the page
/// for eviction: it was clean, so the disk is current and the write becomes a miss), change it, and put it back
/// dirty. Allocation happens outside the lock (an Evict on the allocating thread takes it). The owner keeps its own
/// view of which blocks are dirty, so an eviction of a dirty page (lost data) is detected and counted.
/// </remarks>
internal sealed unsafe class SimulatedFileCache : IPageOwner
{
    private readonly BuddyArena _arena;
    private readonly byte[][] _disk;
    private readonly int _pageSize;
    private readonly object _gate = new();
    private readonly Dictionary<int, nint> _pageOf = new();
    private readonly Dictionary<nint, int> _blockOf = new();
    private readonly HashSet<int> _dirty = new();

    public long Hits, Misses, DiskReads, DiskWrites, Writebacks, Evictions, DirtyEvictions, AllocationFailures, LostRaces;

    public SimulatedFileCache(BuddyArena arena, byte[][] disk)
    {
        _arena = arena;
        _disk = disk;
        _pageSize = arena.PageSize;
    }

    public int CachedBlocks
    {
        get { lock (_gate) return _pageOf.Count; }
    }

    private Span<byte> PageSpan(nint page) => new((void*)page, _pageSize);

    /// <summary>Reads a block through the cache into <paramref name="into"/>.</summary>
    public void Read(int block, Span<byte> into)
    {
        lock (_gate)
        {
            if (_pageOf.TryGetValue(block, out nint page))
            {
                PageSpan(page).CopyTo(into);
                _arena.CacheTouch((void*)page);
                Interlocked.Increment(ref Hits);
                return;
            }
        }
        Interlocked.Increment(ref Misses);
        nint fresh = (nint)_arena.AllocPages(0, AllocFlags.Kernel); // may evict other blocks, on this thread
        lock (_gate)
        {
            if (_pageOf.ContainsKey(block))
                throw new InvalidOperationException("two threads work on the same block");
            _disk[block].CopyTo(into);
            Interlocked.Increment(ref DiskReads);
            if (fresh == 0)
            {
                Interlocked.Increment(ref AllocationFailures); // served from disk, not cached
                return;
            }
            _disk[block].CopyTo(PageSpan(fresh));
            Map(block, fresh);
            _arena.CacheAdd((void*)fresh, this, dirty: false);
        }
    }

    /// <summary>Writes a whole block through the cache (write-back: the disk is updated by Writeback).</summary>
    public void Write(int block, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (_pageOf.TryGetValue(block, out nint page))
            {
                if (_arena.CacheRemove((void*)page))
                {
                    data.CopyTo(PageSpan(page));
                    _dirty.Add(block);
                    _arena.CacheAdd((void*)page, this, dirty: true);
                    _arena.CacheTouch((void*)page);
                    Interlocked.Increment(ref Hits);
                    return;
                }
                // Chosen for eviction (its Evict waits for our lock): the page was clean, the disk is current.
                Unmap(block, page);
                Interlocked.Increment(ref LostRaces);
            }
        }
        Interlocked.Increment(ref Misses);
        nint fresh = (nint)_arena.AllocPages(0, AllocFlags.Kernel);
        lock (_gate)
        {
            if (_pageOf.ContainsKey(block))
                throw new InvalidOperationException("two threads work on the same block");
            if (fresh == 0)
            {
                Interlocked.Increment(ref AllocationFailures); // write-through
                data.CopyTo(_disk[block]);
                Interlocked.Increment(ref DiskWrites);
                return;
            }
            data.CopyTo(PageSpan(fresh));
            Map(block, fresh);
            _dirty.Add(block);
            _arena.CacheAdd((void*)fresh, this, dirty: true);
        }
    }

    /// <summary>The current content of a block as the cache would serve it (cached page, else disk), without allocating.</summary>
    public bool Holds(int block, ReadOnlySpan<byte> expected)
    {
        lock (_gate)
        {
            if (_pageOf.TryGetValue(block, out nint page))
                return PageSpan(page).SequenceEqual(expected);
            if (_dirty.Contains(block))
                return false;
            return _disk[block].AsSpan().SequenceEqual(expected);
        }
    }

    /// <summary>Takes every page out of the cache, writes the dirty ones to disk and frees them.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            foreach ((int block, nint page) in _pageOf.ToList())
            {
                if (_arena.CacheRemove((void*)page))
                {
                    if (_dirty.Remove(block))
                    {
                        PageSpan(page).CopyTo(_disk[block]);
                        Interlocked.Increment(ref DiskWrites);
                    }
                    _arena.FreePages((void*)page, 0);
                }
                Unmap(block, page);
            }
        }
    }

    bool IPageOwner.Writeback(void* page)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref Writebacks);
            if (!_blockOf.TryGetValue((nint)page, out int block))
                return true;
            PageSpan((nint)page).CopyTo(_disk[block]);
            _dirty.Remove(block);
            Interlocked.Increment(ref DiskWrites);
            return true;
        }
    }

    void IPageOwner.Evict(void* page)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref Evictions);
            if (_blockOf.TryGetValue((nint)page, out int block))
                Unmap(block, (nint)page);
        }
    }

    private void Map(int block, nint page)
    {
        _pageOf.Add(block, page);
        _blockOf.Add(page, block);
    }

    private void Unmap(int block, nint page)
    {
        _pageOf.Remove(block);
        _blockOf.Remove(page);
        if (_dirty.Remove(block))
            Interlocked.Increment(ref DirtyEvictions); // a dirty page left the cache without reaching the disk
    }

    public override string ToString()
        => $"hits {Hits}, misses {Misses}, disk reads {DiskReads}, disk writes {DiskWrites}, writebacks {Writebacks}, "
         + $"evictions {Evictions}, dirty evictions {DirtyEvictions}, allocation failures {AllocationFailures}, lost races {LostRaces}";
}
