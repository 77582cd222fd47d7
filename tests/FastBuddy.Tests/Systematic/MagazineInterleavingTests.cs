using System.Reflection;
using FastBuddy.Diagnostics;
using FastBuddy.PerThread;
using FastBuddy.Tests.PolicySupport;
using Xunit.Abstractions;

namespace FastBuddy.Tests.Systematic;

/// <summary>
/// Every interleaving (within a preemption bound) of the per-thread layer's racing parties, explored by
/// <see cref="InterleavingExplorer"/>: drains against the owner's pops, refills, parks and spills; a claim (a free
/// from another thread) against the owner's own free of the same block; and Dispose against calls in flight and
/// against an allocation waiting for frees.
/// </summary>
/// <remarks>
/// <para>
/// What the explorer sees. A logical thread yields only at the library's schedule points, which lie on slow paths:
/// in the owner's slow operations (between raising <c>InUse</c> and reading <c>DrainRequested</c> in
/// <c>ThreadMagazines.Enter</c>, between the checked free's tag compare and its park, between a refill's take
/// from the zone and the list, between a spill's or drain's give-back and the list), in the handshake of a drain, a claim and Dispose's quiesce (after the requests are
/// raised and before the barrier, after the owner was waited out and before the lists are walked or the tag is
/// swapped, every turn of the wait), before every taking of a drain lock, and in Dispose between closing the gates,
/// waiting for calls in flight and releasing the memory. So every order of those steps is tried, including an
/// owner that opens its window just before or just after a drainer raises its request.
/// </para>
/// <para>
/// What it cannot see. The fast paths (<c>Magazine.TryPop</c>, <c>Magazine.TryPark</c>) carry no point, so each
/// runs as one indivisible step between two points of its thread: the explorer tries a drain or claim before and
/// after a whole pop or park, never in the middle of one. And every run is sequentially consistent: one thread at a
/// time, handed over through semaphores (full fences), so the store-load reordering that the handshake's
/// process-wide barrier exists to forbid (the owner's plain <c>InUse</c> store passing its <c>DrainRequested</c>
/// load) never happens here. Those two are covered elsewhere: the fast paths by the stress tests of PerCpu/
/// (real threads on real cores) and the C inline path by the ThreadSanitizer build; the barrier's argument is in
/// <c>ThreadMagazines</c>' remarks.
/// </para>
/// <para>
/// Each run ends with checks that fail on a broken allocator: no block handed out twice while held, exactly one of
/// two frees of one block wins (the other is refused as a double free), every page back in the zone once every
/// thread has freed what it holds (free + parked = total), the arena's allocation and free counts equal the calls
/// that succeeded, <c>Validate()</c> passes; and around Dispose, no call succeeds once the memory is being
/// released, every refused call is an <see cref="ObjectDisposedException"/> or a null with a status, and Dispose
/// returns.
/// </para>
/// </remarks>
// Alone on the machine: a schedule must replay exactly, and other tests' sweeps and load must not stretch a
// step past the drain's patience (wall-clock) and change the choices.
[Collection(TestSupport.SerialCollection.Name)]
public sealed unsafe class MagazineInterleavingTests(ITestOutputHelper output)
{
    /// <summary>1024 pages: each order-0 list holds 16 blocks, refilled 16 at a time; waits are long (only Dispose ends one).</summary>
    private static BuddyArena MagazineArena()
        => PolicyArena.Create(pages: 1024, min: 8, low: 16, high: 24, perCpuPages: 64, allocWait: TimeSpan.FromSeconds(30));

    /// <summary>The blocks the logical threads hold, and what their calls did; one thread runs at a time.</summary>
    private sealed class Host(BuddyArena arena)
    {
        public readonly HashSet<nint> Live = [];
        public long Allocations, Frees;

        public nint Alloc(AllocFlags flags = AllocFlags.Kernel)
        {
            nint p = (nint)arena.AllocPages(0, flags);
            Assert.True(p != 0, $"an order-0 allocation failed ({BuddyArena.LastError}) in a zone with free pages");
            Assert.True(Live.Add(p), $"page 0x{p:x} was handed out while a thread still holds it");
            Allocations++;
            return p;
        }

        public void Free(nint p)
        {
            Assert.True(Live.Remove(p), $"the test frees 0x{p:x}, which it does not hold");
            arena.FreePages((void*)p, 0);
            Frees++;
        }

        /// <summary>Once every thread freed what it held: every page is back, the counts match the calls, the arena is valid.</summary>
        public void CheckAllBack()
        {
            Assert.Empty(Live);
            arena.Validate(); // drains (and retires the exited threads' magazines)
            ArenaStats s = arena.GetStats();
            Assert.True(s.FreePages + s.PerCpuPages == s.TotalPages, $"free {s.FreePages} + parked {s.PerCpuPages} of {s.TotalPages}: pages were lost");
            Assert.Equal(0, s.PerCpuPages);
            Assert.True(s.Allocations == Allocations, $"the arena counts {s.Allocations} allocations, the threads made {Allocations}");
            Assert.True(s.Frees == Frees, $"the arena counts {s.Frees} frees, the threads made {Frees}");
        }
    }

    /// <summary>The owner's mix: slow-path allocations (Zero), fast pops and parks, a bulk free (slow path), all freed at the end.</summary>
    private static void OwnerWork(Host host)
    {
        nint a = host.Alloc(AllocFlags.Kernel | AllocFlags.Zero); // bind, refill (slow path)
        nint b = host.Alloc(); // fast pop
        host.Free(a); // fast park
        PointHooks.Reach("owner.between-calls");
        nint c = host.Alloc(AllocFlags.Kernel | AllocFlags.Zero); // slow pop (a again, unless drained)
        host.Free(b);
        host.Free(c);
    }

    private static Scenario DrainAgainstOwner()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        var scenario = new Scenario(arena)
            .Thread("owner", () => OwnerWork(host))
            .Thread("drainer", () => arena.Policy.Magazines.DrainAll());
        scenario.Check = host.CheckAllBack;
        return scenario;
    }

    private static Scenario TwoDrainersAgainstOwner()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        var scenario = new Scenario(arena)
            .Thread("owner", () => OwnerWork(host))
            .Thread("kswapd", () => arena.Policy.Magazines.DrainAll())
            .Thread("validate", () => arena.Policy.Magazines.DrainAll());
        scenario.Check = host.CheckAllBack;
        return scenario;
    }

    /// <summary>The owner fills its order-0 list and spills (a give-back inside its window) while a drain walks the same list.</summary>
    private static Scenario DrainAgainstOwnerSpill()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        var scenario = new Scenario(arena)
            .Thread("owner", () =>
            {
                var held = new List<nint>();
                for (int i = 0; i < 18; i++)
                    held.Add(host.Alloc());
                PointHooks.Reach("owner.holding");
                foreach (nint p in held)
                    host.Free(p); // the 17th park finds the list full: a spill
            })
            .Thread("drainer", () => arena.Policy.Magazines.DrainAll());
        scenario.Check = host.CheckAllBack;
        return scenario;
    }

    /// <summary>
    /// A thread parked pages and exited; two drains race to retire its magazine, and the one that retires it sweeps
    /// the directory, which frees the magazine's memory (its one-second grace taken as passed). The other drain's
    /// snapshot still lists it: it must not touch it (the soak's use-after-free before the drains chose their
    /// magazines under the drain lock: a stale drain's write of DrainRequested went into freed memory).
    /// </summary>
    private static Scenario TwoDrainsRetiringAnExitedThread()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        var exited = new Thread(() => OwnerWork(host));
        exited.Start();
        exited.Join();
        MagazineHandle gone = Assert.Single(arena.Policy.Magazines.Snapshot);
        typeof(MagazineHandle).GetField("_deadSince", BindingFlags.NonPublic | BindingFlags.Instance)!
            .SetValue(gone, 1L); // seen dead long ago: the next sweep frees it
        var scenario = new Scenario(arena)
            .Thread("kswapd", () => arena.Policy.Magazines.DrainAll())
            .Thread("validate", () => arena.Policy.Magazines.DrainAll());
        scenario.Check = () =>
        {
            Assert.Equal(0, arena.Policy.Magazines.ThreadCount);
            host.CheckAllBack(); // the exited thread's counts folded in exactly once
        };
        return scenario;
    }

    /// <summary>
    /// The owner frees its own block x (fast path, or the checked path when a request is up) while another thread
    /// frees x too (a claim, shutting the owner out): exactly one wins.
    /// </summary>
    private static Scenario ClaimAgainstOwnersFree()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        nint x = 0;
        FastBuddyStatus? ownerFree = null, otherFree = null;
        var scenario = new Scenario(arena)
            .Thread("owner", () =>
            {
                nint mine = host.Alloc();
                host.Live.Remove(mine); // from here on x is the race's, not one thread's
                x = mine;
                PointHooks.Reach("owner.published");
                nint y = host.Alloc();
                ownerFree = TryFree(arena, x);
                host.Free(y);
            })
            .Thread("other", () =>
            {
                while (x == 0)
                    PointHooks.Spin("other.waiting-for-x");
                otherFree = TryFree(arena, x);
            });
        scenario.Check = () =>
        {
            Assert.True((ownerFree, otherFree) is (FastBuddyStatus.Ok, FastBuddyStatus.DoubleFree) or (FastBuddyStatus.DoubleFree, FastBuddyStatus.Ok),
                $"two frees of one block: the owner's returned {ownerFree}, the other thread's {otherFree}; exactly one must win");
            host.Frees++; // the winner's
            host.CheckAllBack();
        };
        return scenario;
    }

    /// <summary>
    /// The same race on the owner's checked free: its list is full, so its own free of x misses the fast path and
    /// parks x with plain stores after comparing the tag (a point lies between the two), while the other thread
    /// claims x.
    /// </summary>
    private static Scenario ClaimAgainstOwnersCheckedFree()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        nint x = 0;
        FastBuddyStatus? ownerFree = null, otherFree = null;
        var scenario = new Scenario(arena)
            .Thread("owner", () =>
            {
                nint mine = host.Alloc();
                var held = new List<nint>();
                for (int i = 0; i < 16; i++)
                    held.Add(host.Alloc());
                MagazineList* list = Magazine.FastList(arena.ThreadMagazine(), 0);
                while (list->Count < list->Cap)
                {
                    host.Free(held[^1]);
                    held.RemoveAt(held.Count - 1);
                }
                host.Live.Remove(mine);
                x = mine;
                PointHooks.Reach("owner.published");
                ownerFree = TryFree(arena, x);
                foreach (nint p in held)
                    host.Free(p);
            })
            .Thread("other", () =>
            {
                while (x == 0)
                    PointHooks.Spin("other.waiting-for-x");
                otherFree = TryFree(arena, x);
            });
        scenario.Check = () =>
        {
            Assert.True((ownerFree, otherFree) is (FastBuddyStatus.Ok, FastBuddyStatus.DoubleFree) or (FastBuddyStatus.DoubleFree, FastBuddyStatus.Ok),
                $"two frees of one block: the owner's returned {ownerFree}, the other thread's {otherFree}; exactly one must win");
            host.Frees++;
            host.CheckAllBack();
        };
        return scenario;
    }

    /// <summary>Another thread frees the owner's block (a claim) while the owner pops, refills and parks.</summary>
    private static Scenario ClaimAgainstOwnerWork()
    {
        BuddyArena arena = MagazineArena();
        var host = new Host(arena);
        nint x = 0;
        var scenario = new Scenario(arena)
            .Thread("owner", () =>
            {
                nint mine = host.Alloc();
                x = mine;
                PointHooks.Reach("owner.published");
                OwnerWork(host);
            })
            .Thread("other", () =>
            {
                while (x == 0)
                    PointHooks.Spin("other.waiting-for-x");
                host.Free(x);
            });
        scenario.Check = host.CheckAllBack;
        return scenario;
    }

    /// <summary>What a call racing Dispose did: succeeded (and when), or was refused, and how.</summary>
    private sealed class DisposeRace
    {
        public bool Releasing;
        public readonly List<string> Violations = [];

        public void Observe(string point)
        {
            if (point == SchedulePoints.DisposeReleasing)
                Releasing = true;
        }

        /// <summary>
        /// Runs one allocation: a success must come before the memory is being released, a refusal must be clean
        /// (null, or <see cref="ObjectDisposedException"/>).
        /// </summary>
        public void Allocation(string what, Func<bool> call)
        {
            try
            {
                if (call() && Releasing)
                    Violations.Add($"{what} returned memory after Dispose began releasing it");
            }
            catch (ObjectDisposedException)
            {
            }
            catch (Exception e)
            {
                Violations.Add($"{what} threw {e.GetType().Name}: {e.Message}");
            }
        }

        /// <summary>
        /// Runs one free: it may complete even after the memory went (a free touches only the descriptors, which
        /// live as long as the arena object, never the pages), but a refusal must be clean.
        /// </summary>
        public void Free(string what, Action call) => Allocation(what, () =>
        {
            call();
            return false;
        });
    }

    private static Scenario DisposeAgainstCalls()
    {
        BuddyArena arena = MagazineArena();
        var race = new DisposeRace();
        bool disposed = false;
        var scenario = new Scenario(arena)
            .Thread("owner", () =>
            {
                // Checked allocations go through the zonelist overload: one that zeroed released memory would
                // crash the test host instead of failing the check.
                nint a = 0, b = 0;
                race.Allocation("a checked allocation", () => (a = (nint)arena.AllocPages(0, AllocFlags.Kernel, 0)) != 0);
                race.Allocation("a fast-path allocation", () => (b = (nint)arena.AllocPages(0)) != 0);
                if (a != 0)
                    race.Free("a fast-path free", () => arena.FreePages((void*)a, 0));
                race.Allocation("a checked allocation", () => (a = (nint)arena.AllocPages(0, AllocFlags.Kernel, 0)) != 0);
                if (b != 0)
                    race.Free("a bulk free", () => arena.FreePagesBulk([b]));
            })
            .Thread("disposer", () =>
            {
                arena.Dispose();
                disposed = true;
            });
        scenario.OnPoint = race.Observe;
        scenario.Check = () =>
        {
            Assert.True(disposed, "Dispose did not return");
            Assert.True(race.Violations.Count == 0, string.Join("; ", race.Violations));
        };
        return scenario;
    }

    /// <summary>The zone is taken to its reserve; an allocation waits for frees, and Dispose must wake it with a refusal.</summary>
    private static Scenario DisposeAgainstAWaitingAllocation()
    {
        BuddyArena arena = MagazineArena();
        var race = new DisposeRace();
        ArenaState.DrainTo(arena, 0);
        bool disposed = false;
        nint got = -1;
        FastBuddyStatus status = FastBuddyStatus.Ok;
        var scenario = new Scenario(arena)
            .Thread("waiter", () => race.Allocation("a waiting allocation", () =>
            {
                got = (nint)arena.AllocPages(0, AllocFlags.Kernel);
                status = BuddyArena.LastError;
                return got != 0;
            }))
            .Thread("disposer", () =>
            {
                arena.Dispose();
                disposed = true;
            });
        scenario.OnPoint = race.Observe;
        scenario.Check = () =>
        {
            Assert.True(disposed, "Dispose did not return");
            Assert.True(race.Violations.Count == 0, string.Join("; ", race.Violations));
            Assert.True(got <= 0, "an allocation from a full zone returned a page while Dispose ran");
            if (got == 0)
                Assert.True(status != FastBuddyStatus.Ok, "the refused allocation left LastError Ok");
        };
        return scenario;
    }

    private static FastBuddyStatus TryFree(BuddyArena arena, nint p)
    {
        try
        {
            arena.FreePages((void*)p, 0);
            return FastBuddyStatus.Ok;
        }
        catch (FastBuddyException e)
        {
            return e.Status;
        }
    }

    [Fact]
    public void DrainAgainstOwner_NoInterleaving_LosesOrDuplicatesABlock()
        => ExploreEveryInterleaving(DrainAgainstOwner);

    [Fact]
    public void DrainAgainstOwnerSpill_NoInterleaving_LosesOrDuplicatesABlock()
        => ExploreEveryInterleaving(DrainAgainstOwnerSpill);

    [Fact]
    public void TwoDrainersAgainstOwner_NoInterleaving_LosesOrDuplicatesABlock()
        => ExploreEveryInterleaving(TwoDrainersAgainstOwner, preemptionBound: 3);

    [Fact]
    public void TwoDrainersAgainstOwner_RandomWalk_LosesOrDuplicatesABlock()
        => Output(InterleavingExplorer.ExploreRandom(TwoDrainersAgainstOwner, seed: 20261202, runs: 300), "random walk");

    [Fact]
    public void TwoDrainsRetiringAnExitedThread_NoInterleaving_TouchesTheFreedMagazine()
        => ExploreEveryInterleaving(TwoDrainsRetiringAnExitedThread);

    [Fact]
    public void ClaimAgainstOwnersFree_NoInterleaving_LetsBothFreesWin()
        => ExploreEveryInterleaving(ClaimAgainstOwnersFree);

    [Fact]
    public void ClaimAgainstOwnersCheckedFree_NoInterleaving_LetsBothFreesWin()
        => ExploreEveryInterleaving(ClaimAgainstOwnersCheckedFree, preemptionBound: 3);

    [Fact]
    public void ClaimAgainstOwnerWork_NoInterleaving_LosesOrDuplicatesABlock()
        => ExploreEveryInterleaving(ClaimAgainstOwnerWork, preemptionBound: 3);

    [Fact]
    public void DisposeAgainstCalls_NoInterleaving_HandsOutReleasedMemoryOrFailsUncleanly()
        => ExploreEveryInterleaving(DisposeAgainstCalls);

    [Fact]
    public void DisposeAgainstAWaitingAllocation_NoInterleaving_LeavesItWaitingOrHandsOutAPage()
        => ExploreEveryInterleaving(DisposeAgainstAWaitingAllocation);

    /// <summary>Every interleaving, or every one with at most <paramref name="preemptionBound"/> preemptions.</summary>
    private void ExploreEveryInterleaving(Func<Scenario> create, int preemptionBound = int.MaxValue)
    {
        Exploration exploration = InterleavingExplorer.ExploreAll(create, preemptionBound: preemptionBound);
        Output(exploration, $"preemption bound {preemptionBound}");
        Assert.True(exploration.Complete, $"stopped after {exploration.Runs} runs");
    }

    private void Output(Exploration exploration, string how)
        => output.WriteLine($"{exploration.Runs} interleavings ({how}), all explored: {exploration.Complete}");
}
