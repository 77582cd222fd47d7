using System.Collections.Concurrent;

namespace FastBuddy.Soak;

/// <summary>
/// One short-lived soak thread: a random mix of page, byte, bulk and page-cache calls on one arena, each block
/// filled with a pattern from its id and checked before it is freed. It lives for a random number of operations,
/// then gives back everything it holds and exits (the supervisor starts another: thread churn).
/// </summary>
internal sealed unsafe class Worker(BuddyArena arena, SoakOwner owner, ConcurrentQueue<Block> handoff, Counters counters, int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<Block> _blocks = [];
    private readonly List<nint> _cached = [];
    private long _nextId = (long)seed << 32;
    private int _blockPages, _cachedCount;

    /// <summary>Pages this thread keeps at most (blocks plus cached pages), so a few threads overcommit the arena.</summary>
    public int Budget { get; init; } = 2048;

    public void Run(int operations, Func<bool> stopping, PauseGate gate)
    {
        for (int i = 0; i < operations && !stopping(); i++)
        {
            gate.Checkpoint();
            Step();
        }
        ReleaseAll();
    }

    private void Step()
    {
        int dice = _random.Next(100);
        if (HeldPages() > Budget && (dice < 22 || dice >= 52))
            dice = 22 + _random.Next(30); // over budget: free or work the cache instead of allocating
        if (dice < 30) AllocPages();
        else if (dice < 52) FreeOne();
        else if (dice < 60) Bytes();
        else if (dice < 64) Bulk();
        else if (dice < 80) CacheAdd();
        else if (dice < 92) CacheOp();
        else if (dice < 96) HandOff();
        else TakeHandOff();
        Interlocked.Increment(ref counters.Operations);
    }

    /// <summary>This thread's cached pages (read by the monitor while the thread waits at the gate).</summary>
    public int CachedPages => Volatile.Read(ref _cachedCount);

    /// <summary>Pages of this thread's blocks (kept as a count) plus its cached pages.</summary>
    public int HeldPages() => _blockPages + Volatile.Read(ref _cachedCount);

    private void AllocPages()
    {
        if (HeldPages() > Budget)
        {
            FreeOne();
            return;
        }
        int order = _random.Next(100) switch { < 60 => 0, < 80 => 1, < 90 => 2, < 97 => 4, _ => 6 };
        AllocFlags flags = _random.Next(4) switch { 0 => AllocFlags.NoIo, 1 => AllocFlags.Atomic, _ => AllocFlags.Kernel };
        void* p = arena.AllocPages(order, flags);
        if (p == null)
        {
            OnNoMemory();
            if (BuddyArena.LastError != FastBuddyStatus.NoMemory)
                counters.Error($"AllocPages returned null with {BuddyArena.LastError}");
            return;
        }
        Keep(new Block((nint)p, order, Block.Kind.Pages, ++_nextId));
    }

    /// <summary>A host's answer to NULL: count it and give a few blocks back, as a cache would shrink.</summary>
    private void OnNoMemory()
    {
        Interlocked.Increment(ref counters.FailedAllocations);
        for (int i = 0; i < 4; i++)
            FreeOne();
    }

    private void Keep(Block block)
    {
        block.Fill(arena.PageSize);
        _blocks.Add(block);
        _blockPages += block.HeldPages;
        Interlocked.Increment(ref counters.Allocations);
    }

    private void FreeOne()
    {
        if (_blocks.Count == 0)
            return;
        int i = _random.Next(_blocks.Count);
        Block b = _blocks[i];
        _blocks[i] = _blocks[^1];
        _blocks.RemoveAt(_blocks.Count - 1);
        _blockPages -= b.HeldPages;
        Free(b);
    }

    private void Free(Block b)
    {
        if (!b.Check(arena.PageSize))
            counters.Error($"block {b.Id} at 0x{b.Address:x} lost its contents");
        if (b.What != Block.Kind.Pages)
            arena.Free((void*)b.Address);
        else
            arena.FreePages((void*)b.Address, b.Order);
        Interlocked.Increment(ref counters.Frees);
    }

    private void Bytes()
    {
        nuint size = (nuint)_random.Next(1, 64 * 1024);
        void* p = arena.Alloc(size, AllocFlags.Kernel);
        if (p == null)
        {
            OnNoMemory();
            return;
        }
        if (_random.Next(2) == 0)
        {
            // Realloc keeps the contents up to the smaller size: fill, grow or shrink, check the kept prefix.
            nuint newSize = (nuint)_random.Next(1, 128 * 1024);
            var probe = new Block((nint)p, 0, Block.Kind.Bytes, ++_nextId);
            probe.FillBytes(Math.Min(size, newSize));
            void* q = arena.Realloc(p, newSize, AllocFlags.Kernel);
            if (q == null)
            {
                OnNoMemory();
                arena.Free(p);
                return;
            }
            if (!new Block((nint)q, 0, Block.Kind.Bytes, probe.Id).CheckBytes(Math.Min(size, newSize)))
                counters.Error("Realloc lost the block's contents");
            p = q;
        }
        nuint usable = arena.UsableSize(p);
        if (usable <= (nuint)arena.SmallMax)
        {
            Keep(new Block((nint)p, 0, Block.Kind.Object, ++_nextId, usable));
            return;
        }
        int order = System.Numerics.BitOperations.Log2(usable / (nuint)arena.PageSize);
        Keep(new Block((nint)p, order, Block.Kind.Bytes, ++_nextId));
    }

    private void Bulk()
    {
        Span<nint> pages = stackalloc nint[32];
        int got = arena.AllocPagesBulk(pages, AllocFlags.Atomic);
        for (int i = 0; i < got; i++)
            Keep(new Block(pages[i], 0, Block.Kind.Pages, ++_nextId));
        // Give a bulk back at once now and then: the newest order-0 page blocks.
        if (_random.Next(2) == 0 && got > 0)
        {
            for (int i = 0; i < got; i++)
            {
                Block b = _blocks[^1];
                _blocks.RemoveAt(_blocks.Count - 1);
                _blockPages -= 1;
                if (!b.Check(arena.PageSize))
                    counters.Error("a bulk page lost its contents");
                pages[i] = b.Address;
            }
            arena.FreePagesBulk(pages[..got]);
            Interlocked.Add(ref counters.Frees, got);
        }
    }

    private void CacheAdd()
    {
        if (HeldPages() > Budget)
        {
            CacheOp();
            return;
        }
        void* p = arena.AllocPages(0, AllocFlags.NoIo);
        if (p == null)
        {
            OnNoMemory();
            return;
        }
        lock (Gate)
        {
            owner.Adding((nint)p, this);
            _cached.Add((nint)p);
            _cachedCount = _cached.Count;
        }
        arena.CacheAdd(p, owner, dirty: _random.Next(3) == 0); // from here on it may be evicted
        Interlocked.Increment(ref counters.CacheAdds);
    }

    private void CacheOp()
    {
        lock (Gate)
        {
            if (_cached.Count == 0)
                return;
            int i = _random.Next(_cached.Count);
            nint p = _cached[i];
            if (!owner.Holds(p, this))
                counters.Error($"0x{p:x} is on the worker's list but not the owner's");
            switch (_random.Next(4))
            {
                case 0:
                    arena.CacheTouch((void*)p);
                    break;
                case 1:
                    arena.CacheMarkDirty((void*)p);
                    break;
                default:
                    Uncache(i);
                    break;
            }
        }
    }

    /// <summary>The lock Evict takes: held around every cache call on this worker's pages.</summary>
    public Lock Gate { get; } = new();

    /// <summary>Evict's notice (Gate held): the page is the arena's now.</summary>
    public void Forget(nint page)
    {
        int i = _cached.IndexOf(page);
        if (i < 0)
        {
            counters.Error($"Evict of 0x{page:x}, which its worker no longer caches");
            return;
        }
        _cached[i] = _cached[^1];
        _cached.RemoveAt(_cached.Count - 1);
        _cachedCount = _cached.Count;
    }

    /// <summary>CacheRemove of _cached[i] and its free (Gate held); false means the reclaimer chose it first.</summary>
    private void Uncache(int i)
    {
        nint p = _cached[i];
        _cached[i] = _cached[^1];
        _cached.RemoveAt(_cached.Count - 1);
        if (arena.CacheRemove((void*)p))
        {
            owner.Removed(p);
            arena.FreePages((void*)p, 0);
        }
        else
        {
            // The reclaimer chose it and its Evict waits for Gate: Evict will find it gone from our list.
            _cached.Add(p);
            Interlocked.Increment(ref counters.RemovesLostToEvict);
        }
        _cachedCount = _cached.Count;
    }

    private void HandOff()
    {
        // At most 64 blocks in flight between threads, so the queue never becomes a hidden hoard.
        if (_blocks.Count == 0 || handoff.Count >= 64)
            return;
        Block b = _blocks[^1];
        _blocks.RemoveAt(_blocks.Count - 1);
        _blockPages -= b.HeldPages;
        handoff.Enqueue(b);
    }

    private void TakeHandOff()
    {
        if (handoff.TryDequeue(out Block b))
            Free(b); // a cross-thread free
    }

    private void ReleaseAll()
    {
        foreach (Block b in _blocks)
            Free(b);
        _blocks.Clear();
        _blockPages = 0;
        // Cached pages: remove each (or let its pending Evict take it), until none is left.
        while (true)
        {
            lock (Gate)
            {
                if (_cached.Count == 0)
                    break;
                Uncache(_cached.Count - 1);
            }
            Thread.Yield();
        }
    }
}
