using System.Diagnostics;

namespace FastBuddy.Cli;

// The demo's mixed workload: random page blocks (weighted toward small orders) and byte allocations, random frees
// and reallocs, some blocks written and verified, then page-cache pages and memory pressure so reclaim happens.
// Every block the workload holds is accounted for, so ReleaseAll leaves the arena with every page free.
internal sealed unsafe class Workload
{
    private const nuint MaxWritten = 64 * 1024;
    // Weights of orders 0, 1, 2, ...: most requests are small, a few ask for large contiguous blocks.
    private static readonly int[] OrderWeights = [40, 18, 12, 9, 7, 5, 4, 2, 2, 1];

    private readonly BuddyArena _arena;
    private readonly Random _rng;
    private readonly TextWriter _out;
    private readonly List<LiveBlock> _live = [];
    private readonly List<nint> _pressure = [];
    private readonly Dictionary<string, int> _failures = [];
    private long _livePages;

    public Workload(BuddyArena arena, int seed, TextWriter output)
    {
        _arena = arena;
        _rng = new Random(seed);
        _out = output;
    }

    public CountingPageOwner Owner { get; } = new();
    public long PageAllocations { get; private set; }
    public long ByteAllocations { get; private set; }
    public long Reallocations { get; private set; }
    public long Frees { get; private set; }
    public long FailedAllocations { get; private set; }
    public long VerifiedBlocks { get; private set; }
    public long CacheRemoved { get; private set; }

    // Phase 1: random allocations and frees, keeping at most about half the arena in use.
    public void Churn(int steps, long totalPages)
    {
        long cap = totalPages / 2;
        for (int step = 0; step < steps; step++)
        {
            double r = _rng.NextDouble();
            if (_live.Count > 0 && (_livePages > cap || r < 0.40))
                FreeRandom();
            else if (r < 0.47)
                ReallocRandom();
            else if (r < 0.60)
                AllocBytes();
            else
                AllocPages();
        }
        _out.WriteLine($"churn: {steps} steps, {_live.Count} blocks ({_livePages} pages) still held");
    }

    // Phase 2: order-0 pages handed to the page cache (every third one dirty, every fourth one touched).
    public void FillCache(int pages)
    {
        int added = 0;
        for (int i = 0; i < pages; i++)
        {
            void* p = _arena.AllocPages(0, AllocFlags.Kernel);
            if (p == null)
            {
                CountFailure();
                break;
            }
            new Span<byte>(p, _arena.PageSize).Fill((byte)(i | 1));
            Owner.Track(p);
            _arena.CacheAdd(p, Owner, dirty: i % 3 == 0);
            added++;
            if (i % 4 == 0)
                Owner.WhileCached(p, page => _arena.CacheTouch((void*)page));
        }
        _out.WriteLine($"cache: {added} pages added ({(added + 2) / 3} dirty)");
    }

    // Phase 3: order-0 Kernel allocations until the policy refuses one: the cache has to give pages back.
    public void Pressure()
    {
        var clock = Stopwatch.StartNew();
        long limit = _arena.GetStats().TotalPages;
        while (_pressure.Count < limit)
        {
            void* p = _arena.AllocPages(0, AllocFlags.Kernel);
            if (p == null)
            {
                _out.WriteLine($"pressure: stopped after {_pressure.Count} pages: {BuddyArena.LastError}");
                CountFailure();
                break;
            }
            *(long*)p = _pressure.Count; // touch it, as a real user would
            _pressure.Add((nint)p);
            PageAllocations++;
        }
        _out.WriteLine($"pressure: {_pressure.Count} pages held, {clock.ElapsedMilliseconds} ms; " +
                       $"owner saw {Owner.Evictions} evictions, {Owner.Writebacks} writebacks, {Owner.CachedCount} pages still cached");
    }

    // Gives back everything: live blocks (verified first), pressure pages, and cached pages the arena did not reclaim.
    public void ReleaseAll()
    {
        while (_live.Count > 0)
            FreeAt(_live.Count - 1);
        for (int i = 0; i < _pressure.Count; i++)
        {
            nint p = _pressure[i];
            if (*(long*)p != i)
                throw new InvalidOperationException($"Pressure page 0x{p:x} lost its contents.");
            _arena.FreePages((void*)p, 0);
            Frees++;
        }
        _pressure.Clear();
        foreach (nint p in Owner.Snapshot())
        {
            // False: the arena chose the page for reclaim; its Evict takes it off the owner's books.
            if (_arena.CacheRemove((void*)p))
            {
                Owner.Forget((void*)p);
                _arena.FreePages((void*)p, 0);
                Frees++;
                CacheRemoved++;
            }
        }
    }

    public IEnumerable<KeyValuePair<string, int>> FailureReasons => _failures;

    // ------------------------------------------------------------------ steps

    private void AllocPages()
    {
        int order = PickOrder();
        double r = _rng.NextDouble();
        AllocFlags flags = r < 0.8 ? AllocFlags.Kernel : r < 0.9 ? AllocFlags.NoIo : AllocFlags.Atomic;
        int zonelist = _rng.NextDouble() < 0.15 ? 0 : _arena.ZoneCount - 1;
        void* p = _arena.AllocPages(order, flags, zonelist);
        if (p == null)
        {
            CountFailure();
            return;
        }
        PageAllocations++;
        Hold(new LiveBlock((nint)p, order, (nuint)_arena.PageSize << order, 0, 0));
    }

    private void AllocBytes()
    {
        nuint bytes = RandomByteSize();
        void* p = _arena.Alloc(bytes, AllocFlags.Kernel);
        if (p == null)
        {
            CountFailure();
            return;
        }
        nuint usable = _arena.UsableSize(p);
        if (usable < bytes)
            throw new InvalidOperationException($"Alloc({bytes}) returned a block of only {usable} bytes.");
        ByteAllocations++;
        Hold(new LiveBlock((nint)p, -1, usable, 0, 0));
    }

    private void ReallocRandom()
    {
        int index = FindByteBlock();
        if (index < 0)
        {
            AllocBytes();
            return;
        }
        LiveBlock block = _live[index];
        nuint bytes = RandomByteSize();
        void* q = _arena.Realloc((void*)block.Address, bytes, AllocFlags.Kernel);
        if (q == null)
        {
            CountFailure(); // the old block is untouched and still ours
            return;
        }
        Reallocations++;
        nuint usable = _arena.UsableSize(q);
        if (usable < bytes)
            throw new InvalidOperationException($"Realloc to {bytes} returned a block of only {usable} bytes.");
        var moved = block with { Address = (nint)q, Bytes = usable, Written = Math.Min(block.Written, usable) };
        Verify(moved, "after Realloc");
        if (moved.Pattern != 0)
        {
            moved.Written = Math.Min(usable, MaxWritten);
            new Span<byte>(q, (int)moved.Written).Fill(moved.Pattern);
        }
        _livePages += (long)(usable / (nuint)_arena.PageSize) - (long)(block.Bytes / (nuint)_arena.PageSize);
        _live[index] = moved;
    }

    private void FreeRandom() => FreeAt(_rng.Next(_live.Count));

    private void FreeAt(int index)
    {
        LiveBlock block = _live[index];
        _live[index] = _live[^1];
        _live.RemoveAt(_live.Count - 1);
        Verify(block, "before Free");
        if (block.IsBytes)
            _arena.Free((void*)block.Address);
        else
            _arena.FreePages((void*)block.Address, block.Order);
        _livePages -= (long)(block.Bytes / (nuint)_arena.PageSize);
        Frees++;
    }

    // One block in six gets a byte pattern over its first 64 KiB, checked before it is freed or after it moves.
    private void Hold(LiveBlock block)
    {
        if (_rng.Next(6) == 0)
        {
            block.Pattern = (byte)_rng.Next(1, 256);
            block.Written = Math.Min(block.Bytes, MaxWritten);
            new Span<byte>((void*)block.Address, (int)block.Written).Fill(block.Pattern);
        }
        _live.Add(block);
        _livePages += (long)(block.Bytes / (nuint)_arena.PageSize);
    }

    private void Verify(LiveBlock block, string when)
    {
        if (block.Pattern == 0)
            return;
        var span = new ReadOnlySpan<byte>((void*)block.Address, (int)block.Written);
        int bad = span.IndexOfAnyExcept(block.Pattern);
        if (bad >= 0)
            throw new InvalidOperationException(
                $"Block 0x{block.Address:x} ({block.Bytes} bytes) lost its contents {when}: byte {bad} is " +
                $"0x{span[bad]:x2}, expected 0x{block.Pattern:x2}.");
        VerifiedBlocks++;
    }

    private int FindByteBlock()
    {
        if (_live.Count == 0)
            return -1;
        int start = _rng.Next(_live.Count);
        for (int i = 0; i < _live.Count; i++)
        {
            int index = (start + i) % _live.Count;
            if (_live[index].IsBytes)
                return index;
        }
        return -1;
    }

    private int PickOrder()
    {
        int limit = Math.Min(OrderWeights.Length, _arena.MaxOrder);
        int total = 0;
        for (int i = 0; i < limit; i++)
            total += OrderWeights[i];
        int x = _rng.Next(total);
        for (int order = 0; order < limit; order++)
        {
            x -= OrderWeights[order];
            if (x < 0)
                return order;
        }
        return 0;
    }

    // 1 byte .. 256 KiB, log-uniform-ish, so most are below a page.
    private nuint RandomByteSize() => (nuint)(1 + _rng.Next(1 << _rng.Next(4, 19)));

    private void CountFailure()
    {
        FailedAllocations++;
        string reason = BuddyArena.LastError.ToString();
        _failures[reason] = _failures.GetValueOrDefault(reason) + 1;
    }
}
