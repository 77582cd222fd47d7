using FastBuddy.Buddy;
using FastBuddy.Tests.PolicySupport;
using Xunit.Abstractions;

namespace FastBuddy.Tests.Systematic;

/// <summary>
/// Every interleaving of the page cache's racing parties, explored by <see cref="InterleavingExplorer"/>: two
/// launderers and a host re-dirtying the page, the host's CacheRemove against reclaim, and a host's wrong free
/// against the reclaimer. Each runs with the per-thread lists off and in the default configuration.
/// </summary>
// Alone on the machine: a schedule must replay exactly, and other tests' sweeps and load must not stretch a
// step past the drain's patience (wall-clock) and change the choices.
[Collection(TestSupport.SerialCollection.Name)]
public sealed unsafe class PageCacheInterleavingTests(ITestOutputHelper output)
{
    private const long Min = 8;

    /// <summary>A 64-page zone with one cached page, drained to pages_min: kswapd's pass launders and evicts.</summary>
    private static (BuddyArena Arena, nint Page) OneCachedPage(int perCpuPages, IPageOwner owner, PageLedger ledger, bool dirty)
    {
        BuddyArena arena = PolicyArena.Create(pages: 64, min: Min, low: 16, high: 24, perCpuPages: perCpuPages);
        nint page = (nint)arena.AllocPages(0, AllocFlags.MemAlloc);
        *(int*)page = 1;
        ledger.Acknowledged[page] = 1;
        if (!dirty)
            ledger.Disk[page] = 1;
        arena.CacheAdd((void*)page, owner, dirty);
        ArenaState.AgeToInactive(arena);
        ArenaState.DrainTo(arena, Min);
        return (arena, page);
    }

    private static Scenario TwoLaunderersAndMarkDirty(int perCpuPages)
    {
        var ledger = new PageLedger();
        var owner = new CheckingOwner("A", ledger);
        (BuddyArena arena, nint page) = OneCachedPage(perCpuPages, owner, ledger, dirty: true);
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Balance())
            .Thread("balance", () => arena.Balance())
            .Thread("host", () =>
            {
                if (!owner.Holds(page))
                    return; // evicted: the host's lookup no longer finds it
                *(int*)page = 2;
                arena.CacheMarkDirty((void*)page);
                if ((ArenaState.FlagsOf(arena, page) & PageFlags.Cached) != 0)
                    ledger.Acknowledged[page] = 2; // the arena knows: version 2 must be written before eviction
            });
        scenario.Check = () =>
        {
            ledger.AssertNoViolations();
            PageFlags flags = ArenaState.FlagsOf(arena, page);
            if ((flags & (PageFlags.Cached | PageFlags.Dirty)) == PageFlags.Cached)
                Assert.True(ledger.Disk[page] == *(int*)page, $"the page is clean, but disk has version {ledger.Disk[page]} and the page {*(int*)page}");
            arena.Validate();
        };
        return scenario;
    }

    private static Scenario CacheRemoveAgainstReclaim(int perCpuPages)
    {
        var ledger = new PageLedger();
        var first = new CheckingOwner("A", ledger);
        var second = new CheckingOwner("B", ledger);
        (BuddyArena arena, nint page) = OneCachedPage(perCpuPages, first, ledger, dirty: true);
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Balance())
            .Thread("host", () =>
            {
                if (!first.Holds(page) || !arena.CacheRemove((void*)page))
                    return; // the arena chose it first: its Evict forgets it
                first.Removed.Add(page);
                PointHooks.Reach("host.removed");
                arena.CacheAdd((void*)page, second, dirty: true); // the same page, now another owner's
            });
        scenario.Check = () =>
        {
            ledger.AssertNoViolations();
            int outcomes = (first.Removed.Contains(page) ? 1 : 0) + first.Evicted.Count(p => p == page);
            Assert.True(outcomes == 1, $"CacheRemove true and Evict happened {outcomes} times in all to A's page");
            arena.Validate();
        };
        return scenario;
    }

    private static Scenario HostFreeAgainstReclaimer(int perCpuPages)
    {
        var ledger = new PageLedger();
        var owner = new CheckingOwner("A", ledger);
        (BuddyArena arena, nint page) = OneCachedPage(perCpuPages, owner, ledger, dirty: false);
        FastBuddyStatus status = FastBuddyStatus.Ok;
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Balance())
            .Thread("host", () =>
            {
                try
                {
                    arena.FreePages((void*)page, 0); // wrong: the page is cached, being reclaimed, or the arena's
                }
                catch (FastBuddyException e)
                {
                    status = e.Status;
                }
            });
        scenario.Check = () =>
        {
            Assert.True(status is FastBuddyStatus.Busy or FastBuddyStatus.DoubleFree, $"the host's free of a page the arena reclaims returned {status}");
            ledger.AssertNoViolations();
            arena.Validate();
        };
        return scenario;
    }

    private static Scenario TwoLaunderersAgainstDirtyRemoveAndRecache(int perCpuPages)
    {
        var ledger = new PageLedger();
        var first = new CheckingOwner("A", ledger);
        var second = new CheckingOwner("B", ledger);
        (BuddyArena arena, nint page) = OneCachedPage(perCpuPages, first, ledger, dirty: true);
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Balance())
            .Thread("balance", () => arena.Balance())
            .Thread("host", () =>
            {
                if (first.Holds(page))
                {
                    *(int*)page = 2;
                    arena.CacheMarkDirty((void*)page);
                    if ((ArenaState.FlagsOf(arena, page) & PageFlags.Cached) != 0)
                        ledger.Acknowledged[page] = 2;
                }
                PointHooks.Reach("host.dirtied");
                if (!first.Holds(page) || !arena.CacheRemove((void*)page))
                    return;
                first.Removed.Add(page);
                arena.CacheAdd((void*)page, second, dirty: true);
                ledger.Acknowledged[page] = *(int*)page;
            });
        scenario.Check = () =>
        {
            ledger.AssertNoViolations();
            int outcomes = (first.Removed.Contains(page) ? 1 : 0) + first.Evicted.Count(p => p == page);
            Assert.True(outcomes == 1, $"CacheRemove true and Evict happened {outcomes} times in all to A's page");
            PageFlags flags = ArenaState.FlagsOf(arena, page);
            if ((flags & (PageFlags.Cached | PageFlags.Dirty)) == PageFlags.Cached)
                Assert.True(ledger.Disk[page] == *(int*)page, $"the page is clean, but disk has version {ledger.Disk[page]} and the page {*(int*)page}");
            arena.Validate();
        };
        return scenario;
    }

    /// <summary>Two clean cached pages; kswapd's refill and a direct-reclaim allocation race the host taking both back.</summary>
    private static Scenario CacheRemoveAgainstBothReclaimers(int perCpuPages)
    {
        var ledger = new PageLedger();
        var owner = new CheckingOwner("A", ledger);
        BuddyArena arena = PolicyArena.Create(pages: 64, min: Min, low: 16, high: 24, perCpuPages: perCpuPages);
        List<nint> pages = ArenaState.MakeCleanInactive(arena, owner, 2);
        foreach (nint p in pages)
            ledger.Disk[p] = ledger.Acknowledged[p] = *(int*)p;
        ArenaState.DrainTo(arena, Min); // below pages_min + 8: a NoIo allocation reclaims directly
        nint allocated = 0;
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Balance())
            .Thread("allocator", () => allocated = (nint)arena.AllocPages(0, AllocFlags.NoIo))
            .Thread("host", () =>
            {
                foreach (nint p in pages)
                {
                    if (owner.Holds(p) && arena.CacheRemove((void*)p))
                        owner.Removed.Add(p);
                    PointHooks.Reach("host.removed-one");
                }
            });
        scenario.Check = () =>
        {
            ledger.AssertNoViolations();
            foreach (nint p in pages)
            {
                int outcomes = (owner.Removed.Contains(p) ? 1 : 0) + owner.Evicted.Count(e => e == p);
                Assert.True(outcomes == 1, $"CacheRemove true and Evict happened {outcomes} times in all to page 0x{p:x}");
            }
            // It may fail (the host took both pages back first), but never gets a page the host holds.
            Assert.False(allocated != 0 && owner.Removed.Contains(allocated), "the allocation was handed a page the host had taken back");
            arena.Validate();
        };
        return scenario;
    }

    /// <summary>
    /// A host misuse: one thread caches a page while another removes it. Either the remove comes first and is
    /// refused (the page is not cached yet), or it takes the page back; then the page must not stay on a list.
    /// </summary>
    private static Scenario CacheAddAgainstCacheRemove(int perCpuPages)
    {
        var ledger = new PageLedger();
        var owner = new CheckingOwner("A", ledger);
        BuddyArena arena = PolicyArena.Create(pages: 64, min: Min, low: 16, high: 24, perCpuPages: perCpuPages);
        nint page = (nint)arena.AllocPages(0, AllocFlags.MemAlloc);
        bool? removed = null;
        var scenario = new Scenario(arena)
            .Thread("adder", () => arena.CacheAdd((void*)page, owner))
            .Thread("remover", () =>
            {
                try
                {
                    removed = arena.CacheRemove((void*)page);
                }
                catch (FastBuddyException e) when (e.Status == FastBuddyStatus.InvalidArgument)
                {
                    removed = null; // not in the cache yet
                }
            });
        scenario.Check = () =>
        {
            PageFlags flags = ArenaState.FlagsOf(arena, page);
            if (removed == true)
                Assert.True((flags & (PageFlags.Cached | PageFlags.OnAnyList)) == 0, $"CacheRemove took the page back, but it is still {flags}");
            else
                Assert.True((flags & (PageFlags.Cached | PageFlags.OnActive)) == (PageFlags.Cached | PageFlags.OnActive), $"CacheRemove was refused, but the page is {flags}");
            arena.Validate();
            if (removed != true)
                Assert.True(arena.CacheRemove((void*)page));
            arena.FreePages((void*)page, 0);
            arena.Validate();
        };
        return scenario;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheAddAgainstCacheRemove_NoInterleaving_LeavesAnUncachedPageOnAList(int perCpuPages)
        => ExploreEveryInterleaving(() => CacheAddAgainstCacheRemove(perCpuPages));

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void TwoLaunderersAgainstDirtyRemoveAndRecache_NoInterleaving_BreaksAPromise(int perCpuPages)
        => ExploreEveryInterleaving(() => TwoLaunderersAgainstDirtyRemoveAndRecache(perCpuPages));

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemoveAgainstBothReclaimers_NoInterleaving_RemovesAndEvictsOnePage(int perCpuPages)
        => ExploreEveryInterleaving(() => CacheRemoveAgainstBothReclaimers(perCpuPages), preemptionBound: 3);

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void TwoLaunderersAndMarkDirty_NoInterleaving_LosesTheNewestDataOrEvictsDuringAWriteback(int perCpuPages)
        => ExploreEveryInterleaving(() => TwoLaunderersAndMarkDirty(perCpuPages));

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void CacheRemoveAgainstReclaim_NoInterleaving_StartsACallbackAfterRemoveSucceeded(int perCpuPages)
        => ExploreEveryInterleaving(() => CacheRemoveAgainstReclaim(perCpuPages));

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void HostFreeAgainstReclaimer_NoInterleaving_AbsorbsTheWrongFree(int perCpuPages)
        => ExploreEveryInterleaving(() => HostFreeAgainstReclaimer(perCpuPages));

    /// <summary>Every interleaving, or every one with at most <paramref name="preemptionBound"/> preemptions.</summary>
    private void ExploreEveryInterleaving(Func<Scenario> create, int preemptionBound = int.MaxValue)
    {
        Exploration exploration = InterleavingExplorer.ExploreAll(create, preemptionBound: preemptionBound);
        output.WriteLine($"{exploration.Runs} interleavings (preemption bound {preemptionBound}), all explored: {exploration.Complete}");
        Assert.True(exploration.Complete, $"stopped after {exploration.Runs} runs");
    }
}
