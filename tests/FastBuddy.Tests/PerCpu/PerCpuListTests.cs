namespace FastBuddy.Tests.PerCpu;

/// <summary>The per-CPU (per-thread) page lists: parking, refill, spill, drain, and their accounting.</summary>
public sealed unsafe class PerCpuListTests
{
    private static BuddyArena NewArena(int perCpuPages = 64, int batch = 16, nuint bytes = 16 << 20) => new(new ArenaOptions
    {
        ArenaBytes = bytes,
        BackgroundReclaim = false,
        PerCpuPages = perCpuPages,
        PerCpuBatch = batch,
    });

    private static void AssertAccounted(BuddyArena arena, long livePages)
    {
        ArenaStats s = arena.GetStats();
        Assert.Equal(s.TotalPages, s.FreePages + s.PerCpuPages + livePages);
    }

    [Fact]
    public void FreedPage_IsParked_CountedInPerCpuPages_NotInFreePages()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        long parkedBefore = arena.GetStats().PerCpuPages;
        long freeBefore = arena.GetStats().FreePages;
        arena.FreePages(p, 0);
        ArenaStats after = arena.GetStats();
        Assert.Equal(parkedBefore + 1, after.PerCpuPages);
        Assert.Equal(freeBefore, after.FreePages);
        AssertAccounted(arena, 0);
        arena.Validate();
    }

    [Fact]
    public void ABlockFreedThroughFree_IsParked_AfterAnObjectFreeMissedItsRecentSlab()
    {
        using BuddyArena arena = NewArena();
        void* obj = arena.Alloc(48);
        arena.Free(obj); // the object's slab is now the thread's recent one
        // Past the slab classes: a block of whole pages (order 4 at the defaults).
        nuint bytes = (nuint)arena.SmallMax * 2;
        int order = System.Numerics.BitOperations.Log2(bytes / (nuint)arena.PageSize);
        byte* block = (byte*)arena.Alloc(bytes);
        long parkedBefore = arena.GetStats().PerCpuPages;
        long freeBefore = arena.GetStats().FreePages;

        arena.Free(block);

        ArenaStats after = arena.GetStats();
        Assert.Equal(parkedBefore + (1L << order), after.PerCpuPages);
        Assert.Equal(freeBefore, after.FreePages);
        Assert.Equal((nint)block, (nint)arena.AllocPages(order, AllocFlags.Atomic));
        arena.FreePages(block, order);
        arena.Validate();
    }

    /// <summary>
    /// The two-thread scenario of the guess tests: this thread binds and allocates a block, another thread binds
    /// last; <paramref name="beforeFree"/> runs on this thread with the other thread's magazine; this thread frees its
    /// block, the other thread allocates, this thread allocates again. The block must have gone to this thread's
    /// list only. Frees both, checks the books.
    /// </summary>
    private static void FreeAndReallocateBesideAnotherThread(Action<nint> beforeFree)
    {
        using BuddyArena arena = NewArena();
        void* mine = arena.AllocPages(0, AllocFlags.Atomic); // this thread binds first
        nint theirMagazine = 0;
        nint theirs = 0;
        using var bound = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            // Binds last, so the first guess (the last switch's) is this thread's from now on; the other thread
            // finds its own in the table of stack slots.
            arena.FreePages(arena.AllocPages(0, AllocFlags.Atomic), 0);
            theirMagazine = (nint)PerThread.CurrentMagazine.Value;
            bound.Set();
            finish.Wait();
            theirs = (nint)arena.AllocPages(0, AllocFlags.Atomic);
        });
        other.Start();
        bound.Wait();

        Assert.NotEqual(0, theirMagazine);
        beforeFree(theirMagazine);
        arena.FreePages(mine, 0);
        finish.Set();
        other.Join(); // the other thread allocates after the free
        void* again = arena.AllocPages(0, AllocFlags.Atomic);

        Assert.Equal((nint)mine, (nint)again);    // parked in this thread's list and popped from it
        Assert.NotEqual((nint)mine, theirs);      // never seen by the other thread's list
        arena.FreePages(again, 0);
        arena.FreePages((void*)theirs, 0);
        ArenaStats s = arena.GetStats();
        Assert.Equal(s.Allocations, s.Frees);
        AssertAccounted(arena, 0);
        arena.Validate();
    }

    [Fact]
    public void AThreadThatDidNotBindLast_StillParksInAndPopsFromItsOwnMagazine()
        => FreeAndReallocateBesideAnotherThread(_ => { });

    [Fact]
    public void AThreadWhoseGuessesNameAnotherThreadsMagazine_StillParksInAndPopsFromItsOwn()
    {
        // Both of this thread's guesses name the other thread's magazine, as a colliding stack's switch would.
        FreeAndReallocateBesideAnotherThread(theirs => PerThread.CurrentMagazine.PlantGuess((PerThread.Magazine*)theirs));
        PerThread.CurrentMagazine.PlantGuess(PerThread.CurrentMagazine.Value);
    }

    [Fact]
    public void FirstAllocation_RefillsOneBatch_AndKeepsTheRestParked()
    {
        using BuddyArena arena = NewArena(perCpuPages: 64, batch: 16);
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        ArenaStats s = arena.GetStats();
        Assert.Equal(15, s.PerCpuPages);
        Assert.Equal(s.TotalPages - 16, s.FreePages);
        arena.FreePages(p, 0);
        arena.Validate();
    }

    [Fact]
    public void AllocationAfterFree_ReusesTheParkedBlock()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        arena.FreePages(p, 0);
        void* q = arena.AllocPages(0, AllocFlags.Atomic);
        Assert.Equal((nint)p, (nint)q);
        arena.FreePages(q, 0);
        arena.Validate();
    }

    [Fact]
    public void HigherOrderBlocks_AreParkedToo_AndStayAligned()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.AllocPages(4, AllocFlags.Atomic);
        arena.FreePages(p, 4);
        Assert.True(arena.GetStats().PerCpuPages >= 16);
        void* q = arena.AllocPages(4, AllocFlags.Atomic);
        Assert.Equal((nint)p, (nint)q);
        Assert.Equal(0, (nint)q % (arena.PageSize << 4));
        arena.FreePages(q, 4);
        arena.Validate();
    }

    [Fact]
    public void FullList_SpillsItsColdestBatch_BackToTheZone()
    {
        using BuddyArena arena = NewArena(perCpuPages: 32, batch: 8);
        var pages = new List<nint>();
        for (int i = 0; i < 100; i++)
            pages.Add((nint)arena.AllocPages(0, AllocFlags.Atomic));
        foreach (nint p in pages)
            arena.FreePages((void*)p, 0);
        ArenaStats s = arena.GetStats();
        Assert.InRange(s.PerCpuPages, 1, 32);
        AssertAccounted(arena, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void DoubleFree_OfAParkedBlock_IsDetected_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        arena.FreePages(p, 0);
        long parked = arena.GetStats().PerCpuPages;
        var e = Assert.Throws<FastBuddyException>(() => arena.FreePages(p, 0));
        Assert.Equal(FastBuddyStatus.DoubleFree, e.Status);
        Assert.Equal(parked, arena.GetStats().PerCpuPages);
        var e2 = Assert.Throws<FastBuddyException>(() => arena.Free(p));
        Assert.Equal(FastBuddyStatus.DoubleFree, e2.Status);
        arena.Validate();
    }

    [Fact]
    public void ParkedBlock_CannotBeCached_ReallocatedOrSized()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        arena.FreePages(p, 0);
        Assert.Equal(FastBuddyStatus.DoubleFree, Assert.Throws<FastBuddyException>(() => arena.CacheAdd(p, new NullOwner())).Status);
        Assert.Equal(FastBuddyStatus.DoubleFree, Assert.Throws<FastBuddyException>(() => arena.UsableSize(p)).Status);
        Assert.Equal(FastBuddyStatus.DoubleFree, Assert.Throws<FastBuddyException>(() => arena.Realloc(p, 100)).Status);
        arena.Validate();
    }

    [Fact]
    public void Validate_ReturnsParkedBlocksToTheBuddySystem()
    {
        using BuddyArena arena = NewArena();
        var blocks = new List<nint>();
        for (int i = 0; i < 40; i++)
            blocks.Add((nint)arena.AllocPages(i % 3, AllocFlags.Atomic));
        for (int i = 0; i < blocks.Count; i++)
            arena.FreePages((void*)blocks[i], i % 3);
        Assert.True(arena.GetStats().PerCpuPages > 0);
        arena.Validate();
        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.PerCpuPages);
        Assert.Equal(s.TotalPages, s.FreePages);
        Assert.Equal(s.TotalPages >> (arena.MaxOrder - 1), s.Zones[0].FreeBlocks[arena.MaxOrder - 1]);
    }

    [Fact]
    public void ParkedPages_OfAnExitedThread_AreReturnedByKswapdsPass()
    {
        using BuddyArena arena = NewArena();
        var worker = new Thread(() =>
        {
            var mine = new List<nint>();
            for (int i = 0; i < 20; i++)
                mine.Add((nint)arena.AllocPages(0, AllocFlags.Atomic));
            foreach (nint p in mine)
                arena.FreePages((void*)p, 0);
        });
        worker.Start();
        worker.Join();
        Assert.True(arena.GetStats().PerCpuPages > 0, "the exited thread left pages parked");
        arena.Balance();
        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.PerCpuPages);
        Assert.Equal(s.TotalPages, s.FreePages);
        Assert.Equal(s.Allocations, s.Frees);
        arena.Validate();
    }

    [Fact]
    public void ParkedPages_OfOtherThreads_AreDrained_WhenAnAllocationIsAboutToFail()
    {
        using BuddyArena arena = NewArena(bytes: 4 << 20); // 1024 pages: lists hold up to 16 order-0 pages
        long low = arena.GetStats().Zones[0].PagesLow;
        List<nint> held = FastBuddy.Tests.PolicySupport.ArenaState.TakeFromZone(arena, low + 20);
        // Another (live) thread frees ten pages while the zone is above pages_low: they are parked in its list,
        // not free; then the zone is emptied.
        using var freed = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            for (int i = 0; i < 10; i++)
                arena.FreePages((void*)held[i], 0);
            freed.Set();
            finish.Wait();
        });
        other.Start();
        freed.Wait();
        held.RemoveRange(0, 10);
        held.AddRange(FastBuddy.Tests.PolicySupport.ArenaState.TakeFromZone(arena, 0));
        Assert.Equal(10, arena.GetStats().PerCpuPages);
        Assert.Equal(0, arena.GetStats().FreePages);

        void* q = arena.AllocPages(0, AllocFlags.Atomic);
        Assert.True(q != null, "the slow path drains every thread's lists before it fails");
        Assert.Equal(0, arena.GetStats().PerCpuPages);
        finish.Set();
        other.Join();
        arena.FreePages(q, 0);
        foreach (nint h in held)
            arena.FreePages((void*)h, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Fact]
    public void ParkedPages_AreNotHandedOut_WhenTheZoneIsBelowPagesLow()
    {
        using BuddyArena arena = NewArena(bytes: 1 << 20); // 256 pages: min 10, low 20
        ArenaStats start = arena.GetStats();
        long low = start.Zones[0].PagesLow;
        var held = new List<nint>();
        for (int i = 0; i < 8; i++)
            held.Add((nint)arena.AllocPages(0, AllocFlags.MemAlloc));
        arena.Validate(); // drain: what is free is in the free area now
        nint parked = held[^1];
        arena.FreePages((void*)parked, 0); // above pages_low: parked
        held.RemoveAt(held.Count - 1);
        held.AddRange(FastBuddy.Tests.PolicySupport.ArenaState.TakeFromZone(arena, low - 1));
        long stepsBefore = arena.GetStats().Steps.FastPath;
        Assert.Equal(1, arena.GetStats().PerCpuPages);
        void* q = arena.AllocPages(0, AllocFlags.Atomic);
        Assert.True(q != null);
        Assert.NotEqual(parked, (nint)q);                            // served by a later step from the free area
        Assert.Equal(stepsBefore, arena.GetStats().Steps.FastPath); // step 1 refused: free < pages_low
        Assert.Equal(1, arena.GetStats().PerCpuPages);
        arena.FreePages(q, 0);
        foreach (nint h in held)
            arena.FreePages((void*)h, 0);
        arena.Validate();
    }

    [Fact]
    public void PerCpuPagesZero_TurnsTheListsOff()
    {
        using BuddyArena arena = NewArena(perCpuPages: 0);
        void* p = arena.AllocPages(0, AllocFlags.Atomic);
        ArenaStats mid = arena.GetStats();
        Assert.Equal(mid.TotalPages - 1, mid.FreePages);
        arena.FreePages(p, 0);
        ArenaStats s = arena.GetStats();
        Assert.Equal(0, s.PerCpuPages);
        Assert.Equal(s.TotalPages, s.FreePages);
        arena.Validate();
    }

    [Fact]
    public void BlocksFreedOnAnotherThread_AreAccountedAndNothingIsLost()
    {
        using BuddyArena arena = NewArena();
        var queue = new System.Collections.Concurrent.BlockingCollection<nint>(boundedCapacity: 64);
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                void* b = arena.AllocPages(i % 2, AllocFlags.Atomic);
                Assert.True(b != null);
                *(int*)b = i;
                queue.Add((nint)b | (i % 2));
            }
            queue.CompleteAdding();
        });
        var consumer = new Thread(() =>
        {
            int expected = 0;
            foreach (nint tagged in queue.GetConsumingEnumerable())
            {
                int order = (int)(tagged & 1);
                void* b = (void*)(tagged & ~(nint)1);
                Assert.Equal(expected++, *(int*)b);
                arena.FreePages(b, order);
            }
        });
        producer.Start();
        consumer.Start();
        producer.Join();
        consumer.Join();
        ArenaStats s = arena.GetStats();
        Assert.Equal(s.Allocations, s.Frees);
        AssertAccounted(arena, 0);
        arena.Validate();
        Assert.Equal(arena.GetStats().TotalPages, arena.GetStats().FreePages);
    }

    [Theory]
    [InlineData(-1, 16, 9)]
    [InlineData(64, 0, 9)]
    [InlineData(64, 16, -1)]
    public void BadPerCpuOptions_AreRejected(int pages, int batch, int orders)
    {
        var e = Assert.Throws<FastBuddyException>(() => new BuddyArena(new ArenaOptions
        {
            ArenaBytes = 1 << 20, PerCpuPages = pages, PerCpuBatch = batch, PerCpuOrders = orders,
        }));
        Assert.Equal(FastBuddyStatus.InvalidArgument, e.Status);
    }

    [Fact]
    public void PerCpuOrdersAboveMaxOrder_AreCappedAtMaxOrder()
    {
        using var arena = new BuddyArena(new ArenaOptions { ArenaBytes = 16 << 20, MaxOrder = 4, PerCpuOrders = 9, BackgroundReclaim = false });
        void* p = arena.AllocPages(3, AllocFlags.Atomic);
        arena.FreePages(p, 3);
        Assert.True(arena.GetStats().PerCpuPages >= 8);
        arena.Validate();
    }

    private sealed class NullOwner : IPageOwner
    {
        public bool Writeback(void* page) => true;
        public void Evict(void* page) { }
    }
}
