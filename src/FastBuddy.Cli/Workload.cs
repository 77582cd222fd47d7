namespace FastBuddy.Cli;

// The demo's workload, one method per phase: random page blocks (weighted toward small orders) and byte
// allocations with frees and reallocs; a page cache that kswapd ages and launders; a DMA zone cut into single
// pages so that a two-page request needs step 5; memory pressure down to step 7. Every block the workload holds is
// accounted for, so ReleaseAll leaves the arena with every page free. Single-threaded and seeded: with background
// reclaim off, one seed gives one run.
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
    private readonly List<nint> _driver = [];
    private readonly Dictionary<string, int> _failures = [];
    private long _livePages;

    public Workload(BuddyArena arena, int seed, TextWriter output, IPhaseProgress? progress = null)
    {
        _arena = arena;
        _rng = new Random(seed);
        _out = output;
        Progress = progress ?? SilentProgress.Instance;
    }

    public IPhaseProgress Progress { get; set; }

    public CountingPageOwner Owner { get; } = new();
    public long PageAllocations { get; private set; }
    public long ByteAllocations { get; private set; }
    public long Reallocations { get; private set; }
    public long Frees { get; private set; }
    public long FailedAllocations { get; private set; }
    public long VerifiedBlocks { get; private set; }
    public long CacheRemoved { get; private set; }

    // Phase 1: random allocations and frees, keeping at most about half the arena in use.
    public void Churn(int steps)
    {
        long cap = _arena.GetStats().TotalPages / 2;
        for (int step = 0; step < steps; step++)
        {
            Progress.Report(step, steps);
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
        Progress.Report(steps, steps);
        _out.WriteLine($"churn: {steps} steps, {_live.Count} blocks ({_livePages} pages) still held");
    }

    // Phase 2: Trim() first gives back what the churn left idle (parked blocks, this thread's slabs, empty
    // slabs), so that every page not in use is a free page; then a file cache reads pages (order 0, every third
    // one dirty, every fourth one touched again) until the arena's free pages are down to freepages.high; then
    // kswapd's pass ages, deactivates and launders them. Without the trim, the first shortage would drain and
    // reap hundreds of idle slab pages back into the free areas and the pass would find no shortage at all.
    // The free pages are counted again whenever the countdown runs out, in case the allocation path drained more.
    public void FillCache()
    {
        long trimmed = _arena.Trim();
        _out.WriteLine($"cache: Trim() gave back {trimmed} idle pages (parked blocks and empty slabs)");
        long target = _arena.GetStats().FreePagesHigh;
        long total = Math.Max(FreeAndParked() - target, 0);
        int added = 0;
        bool refused = false;
        for (long free = FreeAndParked(); free > target && !refused; free = FreeAndParked())
        {
            total = Math.Max(total, added + free - target);
            for (long i = free; i > target && !refused; i--)
            {
                Progress.Report(added, total);
                refused = !AddCachePage(added);
                if (!refused)
                    added++;
            }
        }
        Progress.Report(total, total);
        _out.WriteLine($"cache: {added} pages added ({(added + 2) / 3} dirty, {(added + 3) / 4} touched)");
    }

    private bool AddCachePage(int number)
    {
        void* p = _arena.AllocPages(0, AllocFlags.Kernel);
        if (p == null)
        {
            CountFailure();
            return false;
        }
        PageAllocations++;
        new Span<byte>(p, _arena.PageSize).Fill((byte)(number | 1));
        Owner.Track(p);
        _arena.CacheAdd(p, Owner, dirty: number % 3 == 0);
        if (number % 4 == 0)
            _arena.CacheTouch(p);
        return true;
    }

    private long FreeAndParked()
    {
        ArenaStats stats = _arena.GetStats();
        return stats.FreePages + stats.PerCpuPages;
    }

    // Phase 3: a driver takes every free page of the lowest zone one by one (as memory-management code, MemAlloc,
    // which may take the last pages_min / 4) and gives back every other one: the zone's free pages are then single
    // pages whose buddies are held. A few two-page requests follow: no free block is large enough, so step 5
    // launders and reclaims clean cache pages until a freed one merges with its buddy.
    public void Fragment(int requests)
    {
        List<nint> taken = TakeZone(0);
        int given = GiveBackEveryOther(taken);
        _out.WriteLine($"fragment: the driver took {taken.Count} pages of zone 0 and gave back {given} single pages");

        int served = 0;
        if (_arena.MaxOrder < 2)
            requests = 0; // no order-1 blocks in this arena
        for (int i = 0; i < requests; i++)
        {
            Progress.Report(i, requests);
            void* p = _arena.AllocPages(1, AllocFlags.Kernel, 0);
            if (p == null)
            {
                CountFailure();
                continue;
            }
            PageAllocations++;
            served++;
            Hold(new LiveBlock((nint)p, 1, (nuint)_arena.PageSize << 1, 0, 0));
        }
        Progress.Report(requests, requests);
        _out.WriteLine($"fragment: {served} of {requests} two-page (order-1) requests on zone 0 served");
    }

    // Every free page of a zone, one at a time, until its free areas are empty (pages parked in per-thread lists
    // are handed out first and do not count as free). In address order.
    private List<nint> TakeZone(int zone)
    {
        var taken = new List<nint>();
        bool refused = false;
        for (long free = ZoneFree(zone); free > 0 && !refused; free = ZoneFree(zone))
        {
            for (long i = 0; i < free && !refused; i++)
            {
                Progress.Report(taken.Count, taken.Count + free - i);
                void* p = _arena.AllocPages(0, AllocFlags.MemAlloc, zone);
                refused = p == null;
                if (refused)
                    CountFailure();
                else
                {
                    PageAllocations++;
                    taken.Add((nint)p);
                }
            }
        }
        taken.Sort();
        return taken;
    }

    // Frees the lower page of every pair whose upper page stays held (so it cannot merge); the driver keeps the rest.
    private int GiveBackEveryOther(List<nint> taken)
    {
        var held = new HashSet<nint>(taken);
        nint pageSize = _arena.PageSize;
        int given = 0;
        foreach (nint p in taken)
        {
            if ((p / pageSize) % 2 == 0 && held.Contains(p + pageSize))
            {
                _arena.FreePages((void*)p, 0);
                held.Remove(p);
                Frees++;
                given++;
            }
        }
        foreach (nint p in taken)
        {
            if (held.Contains(p))
                _driver.Add(p); // in address order, so that the release is the same in every run
        }
        return given;
    }

    // Phase 4: order-0 Kernel allocations until the policy refuses one (the cache gives its pages back: direct
    // reclaim, kswapd's passes, at last step 7), then Atomic ones (an interrupt handler) until refused again.
    public void Pressure()
    {
        long limit = _arena.GetStats().TotalPages;
        int kernel = TakeUntilRefused(AllocFlags.Kernel, limit);
        int atomic = TakeUntilRefused(AllocFlags.Atomic, limit);
        Progress.Report(limit, limit);
        _out.WriteLine($"pressure: {kernel} Kernel pages, then {atomic} Atomic pages held; " +
                       $"owner saw {Owner.Evictions} evictions, {Owner.Writebacks} writebacks, {Owner.CachedCount} pages still cached");
    }

    private int TakeUntilRefused(AllocFlags flags, long limit)
    {
        int taken = 0;
        while (_pressure.Count < limit)
        {
            Progress.Report(_pressure.Count, limit);
            void* p = _arena.AllocPages(0, flags);
            if (p == null)
            {
                _out.WriteLine($"pressure: a request with flags {flags} refused after {taken} pages: {BuddyArena.LastError}");
                CountFailure();
                break;
            }
            *(long*)p = _pressure.Count; // touch it, as a real user would
            _pressure.Add((nint)p);
            PageAllocations++;
            taken++;
        }
        return taken;
    }

    private long ZoneFree(int zone) => _arena.GetStats().Zones[zone].FreePages;

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
        foreach (nint p in _driver)
        {
            _arena.FreePages((void*)p, 0);
            Frees++;
        }
        _driver.Clear();
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

    // 1 byte .. 256 KiB (at most the largest block), log-uniform-ish, so most are below a page.
    private nuint RandomByteSize()
    {
        long largest = (long)_arena.PageSize << (_arena.MaxOrder - 1);
        return (nuint)Math.Min(1 + _rng.Next(1 << _rng.Next(4, 19)), largest);
    }

    private void CountFailure()
    {
        FailedAllocations++;
        string reason = BuddyArena.LastError.ToString();
        _failures[reason] = _failures.GetValueOrDefault(reason) + 1;
    }
}
