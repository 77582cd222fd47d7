using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// Small objects (the slab layer's sizes), at each <see cref="Size"/> of 16, 64, 256 and 1024 bytes: one alloc + free
/// pair through FastBuddy's byte API against <c>NativeMemory.Alloc</c> (glibc, the baseline: Ratio below 1 = faster
/// than glibc) and mimalloc, jemalloc and tcmalloc of the same size in the same process; and a producer / consumer
/// pair of threads, one allocating objects of that size and the other freeing them, per object.
/// </summary>
/// <remarks>
/// <para>
/// FastBuddy runs as a host would use it out of the box: <c>BuddyArena.Create</c> (default options: per-thread
/// magazines, background reclaim on) of 512 MiB, <c>Alloc(bytes)</c> with its default flags
/// (<see cref="AllocFlags.Kernel"/>) and <c>Free(p)</c>. The native peers are loaded as in
/// <see cref="AllocatorSuite"/> (a missing one has no rows, <see cref="SuiteConfig"/>). A block of the table is one
/// category at one size (<see cref="CategoryOrderer"/>).
/// </para>
/// <para>
/// The cross-thread case runs on two persistent worker threads (<see cref="WorkerPool"/>): worker 0 allocates
/// <see cref="HandoffObjects"/> objects and pushes each into a bounded single-producer / single-consumer ring
/// (<see cref="HandoffRing"/>, <see cref="HandoffCapacity"/> slots), worker 1 pops and frees them, so every object
/// is freed by another thread than the one that allocated it, at most <see cref="HandoffCapacity"/> objects in
/// flight. One invocation moves all the objects; the figure is per object (the elapsed time of both threads
/// together divided by the objects). As everywhere in the suite, nobody writes into the objects.
/// </para>
/// </remarks>
[Config(typeof(SuiteConfig))]
public unsafe class SmallObjectSuite
{
    // Category names start with a number so that the table lists them in this order.
    public const string Pair = "1 alloc + free pair";
    public const string Handoff = "2 producer -> consumer thread (per object)";

    public const int HandoffObjects = 1 << 16;
    public const int HandoffCapacity = 256;
    public const int HandleLoop = 1024;

    private const nuint ArenaBytes = 512u << 20;

    private static readonly PeerObjects s_mimalloc = PeerObjects.For("mimalloc");
    private static readonly PeerObjects s_jemalloc = PeerObjects.For("jemalloc");
    private static readonly PeerObjects s_tcmalloc = PeerObjects.For("tcmalloc");

    private BuddyArena _arena = null!;
    private nuint _size;
    private WorkerPool? _workers;
    private HandoffRing? _ring;
    private Action<int>? _handoff;

    /// <summary>The object size in bytes.</summary>
    [Params(16, 64, 256, 1024)]
    public int Size { get; set; }

    // ================================================================== setup

    [GlobalSetup]
    public void Setup()
    {
        _arena = BuddyArena.Create(ArenaBytes);
        _size = (nuint)Size;
    }

    [GlobalSetup(Target = nameof(NativeMemory_Handoff))]
    public void SetupNativeMemoryHandoff() => SetupHandoff(side => HandoffSide(new NativeMemoryObjects(), _ring!, _size, side));

    [GlobalSetup(Target = nameof(FastBuddy_Handoff))]
    public void SetupFastBuddyHandoff() => SetupHandoff(side => HandoffSide(new FastBuddyObjects(_arena), _ring!, _size, side));

    [GlobalSetup(Target = nameof(Mimalloc_Handoff))]
    public void SetupMimallocHandoff() => SetupHandoff(side => HandoffSide(s_mimalloc, _ring!, _size, side));

    [GlobalSetup(Target = nameof(Jemalloc_Handoff))]
    public void SetupJemallocHandoff() => SetupHandoff(side => HandoffSide(s_jemalloc, _ring!, _size, side));

    [GlobalSetup(Target = nameof(Tcmalloc_Handoff))]
    public void SetupTcmallocHandoff() => SetupHandoff(side => HandoffSide(s_tcmalloc, _ring!, _size, side));

    /// <summary>The arena, the ring, the two workers, and the body both workers run (side 0 produces, 1 consumes).</summary>
    private void SetupHandoff(Action<int> body)
    {
        Setup();
        _ring = new HandoffRing(HandoffCapacity);
        _workers = new WorkerPool(2);
        _handoff = body;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _workers?.Dispose();
        _workers = null;
        if (_ring is not null)
        {
            // Every object pushed was popped and freed: nothing is lost between the threads.
            if (!_ring.IsEmpty)
                throw new InvalidOperationException("The producer/consumer ring is not empty after the run.");
            _ring.Dispose();
            _ring = null;
        }
        _arena.Validate();
        _arena.Dispose();
    }

    // ================================================================== 1: one alloc + free pair, one thread

    [Benchmark(Baseline = true), BenchmarkCategory(Pair)]
    public void NativeMemory_Pair() => PairOf(new NativeMemoryObjects());

    [Benchmark, BenchmarkCategory(Pair)]
    public void FastBuddy_Pair() => PairOf(new FastBuddyObjects(_arena));

    /// <summary>
    /// FastBuddy's pair through a <see cref="ThreadHandle"/> (no thread-static read per call): one handle per
    /// invocation, then <see cref="HandleLoop"/> pairs, the figure per pair.
    /// </summary>
    [Benchmark(OperationsPerInvoke = HandleLoop), BenchmarkCategory(Pair)]
    public void FastBuddyHandle_Pair()
    {
        ThreadHandle h = _arena.GetThreadHandle();
        nuint size = _size;
        for (int i = 0; i < HandleLoop; i++)
            h.Free(h.Alloc(size));
    }

    [Benchmark, BenchmarkCategory(Pair)]
    public void Mimalloc_Pair() => PairOf(s_mimalloc);

    [Benchmark, BenchmarkCategory(Pair)]
    public void Jemalloc_Pair() => PairOf(s_jemalloc);

    [Benchmark, BenchmarkCategory(Pair)]
    public void Tcmalloc_Pair() => PairOf(s_tcmalloc);

    /// <summary>One pair, the same code for every allocator (the struct's calls are inlined into it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PairOf<T>(T a) where T : struct, IObjectAllocator => a.Free(a.Alloc(_size));

    // ================================================================== 2: producer thread -> consumer thread

    [Benchmark(Baseline = true, OperationsPerInvoke = HandoffObjects), BenchmarkCategory(Handoff)]
    public void NativeMemory_Handoff() => _workers!.Run(_handoff!, 2);

    [Benchmark(OperationsPerInvoke = HandoffObjects), BenchmarkCategory(Handoff)]
    public void FastBuddy_Handoff() => _workers!.Run(_handoff!, 2);

    [Benchmark(OperationsPerInvoke = HandoffObjects), BenchmarkCategory(Handoff)]
    public void Mimalloc_Handoff() => _workers!.Run(_handoff!, 2);

    [Benchmark(OperationsPerInvoke = HandoffObjects), BenchmarkCategory(Handoff)]
    public void Jemalloc_Handoff() => _workers!.Run(_handoff!, 2);

    [Benchmark(OperationsPerInvoke = HandoffObjects), BenchmarkCategory(Handoff)]
    public void Tcmalloc_Handoff() => _workers!.Run(_handoff!, 2);

    /// <summary>
    /// One side of the hand-off: side 0 allocates and pushes every object, side 1 pops and frees them. A null from
    /// the allocator is pushed too (freeing null does nothing), so that the consumer never waits for an object that
    /// will not come; the producer throws at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HandoffSide<T>(T a, HandoffRing ring, nuint size, int side) where T : struct, IObjectAllocator
    {
        if (side != 0)
        {
            for (int i = 0; i < HandoffObjects; i++)
                a.Free(ring.Pop());
            return;
        }
        int failed = 0;
        for (int i = 0; i < HandoffObjects; i++)
        {
            void* p = a.Alloc(size);
            failed += p == null ? 1 : 0;
            ring.Push(p);
        }
        if (failed != 0)
            FailHandoff(failed, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FailHandoff(int failed, nuint size)
        => throw new InvalidOperationException($"{failed} of {HandoffObjects} allocations of {size} bytes returned null in the producer/consumer benchmark.");
}
