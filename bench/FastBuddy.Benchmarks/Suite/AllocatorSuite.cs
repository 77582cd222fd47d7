using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FastBuddy.Benchmarks.Peers;

namespace FastBuddy.Benchmarks.Suite;

/// <summary>
/// The benchmark suite of docs/design.md ("Performance targets"): FastBuddy against NativeMemory (glibc), NativeMemory.AlignedAlloc,
/// ArrayPool&lt;byte&gt;.Shared and the native peers mimalloc, jemalloc and tcmalloc, in one table grouped by
/// category. In each category the baseline is <c>NativeMemory.Alloc</c> of the same size (Ratio below 1 = faster
/// than glibc), except in the two-thread category (baseline: FastBuddy on one worker thread, so the scaling is
/// 1 / Ratio of the two-thread row) and the direct-reclaim category (baseline: the same order-0 pair with
/// <c>Kernel</c> flags served by the fast path).
/// </summary>
/// <remarks>
/// <para>
/// The native peers have one method each per category (<c>Mimalloc_4KiB</c>, ...); a peer whose library cannot be
/// loaded has no rows: <see cref="SuiteConfig"/> filters its methods out and prints "peer X missing: skipped".
/// </para>
/// <para>
/// No benchmark writes into the blocks it gets (neither does FastBuddy's allocator; glibc and the peers write their
/// own headers or free-list links). Nothing in the measured loops allocates managed memory except ArrayPool where
/// its pool is too small (the Allocated column shows it).
/// </para>
/// </remarks>
[Config(typeof(SuiteConfig))]
public unsafe class AllocatorSuite
{
    // Category names start with a number so that the table lists them in this order.
    public const string Pair4K = "1 order-0 pair (4 KiB)";
    public const int HandleLoop = 1024;
    public const string Pair64K = "2 order-4 pair (64 KiB)";
    public const string Pair1M = "3 order-8 pair (1 MiB)";
    public const string Batch = "4 256 x order-0 held, then freed (per op)";
    public const string Bulk = "5 bulk 256 x order-0 (per op)";
    public const string Mixed = "6 mixed orders 0-8 (per op)";
    public const string Threads = "7 order-0 pairs on worker threads (per pair)";
    public const string Reclaim = "8 order-0 below pages_min: direct reclaim (per pair)";

    public const int PageSize = 4096;
    public const int BatchSize = 256;
    public const int MixedLength = 4096;
    public const int MixedSlots = 64;
    public const int MixedSeed = 20240601;
    public const int PairsPerWorker = 50_000;
    public const int ReclaimPairs = 32768;

    private const int Order4 = 4;
    private const int Order8 = 8;

    // The native peers (null when missing: their benchmarks are then filtered out by SuiteConfig and never run).
    private static readonly NativePeer s_mimalloc = NativePeers.Mimalloc!;
    private static readonly NativePeer s_jemalloc = NativePeers.Jemalloc!;
    private static readonly NativePeer s_tcmalloc = NativePeers.Tcmalloc!;

    private BuddyArena _arena = null!;
    private void** _batch;
    private nint[] _bulk = null!;
    private byte[][] _arrays = null!;
    private MixedSequence _mixed = null!;
    private byte[]?[] _mixedArrays = null!;
    private WorkerPool? _workers;
    private Action<int> _fastBuddyPairs = null!;
    private Action<int> _nativeMemoryPairs = null!;
    private ReclaimScenario? _reclaim;
    private long _directReclaimsBefore;
    private long _reclaimPairsRun;

    // ================================================================== setup

    [GlobalSetup]
    public void Setup()
    {
        // 512 MiB, one zone: pages_min is clamped to 255 pages; no watermark is ever near.
        _arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = 512u << 20,
            PageSize = PageSize,
            BackgroundReclaim = false,
        });
        _batch = (void**)NativeMemory.AllocZeroed(BatchSize, (nuint)sizeof(void*));
        _bulk = new nint[BatchSize];
        _arrays = new byte[BatchSize][];
        _mixed = new MixedSequence(MixedSlots, MixedLength, MixedSeed);
        _mixedArrays = new byte[MixedSlots][];
    }

    [GlobalSetup(Targets = new[] { nameof(FastBuddy_1Thread), nameof(FastBuddy_2Threads), nameof(NativeMemory_1Thread), nameof(NativeMemory_2Threads) })]
    public void SetupThreads()
    {
        Setup();
        _workers = new WorkerPool(2);
        BuddyArena arena = _arena;
        _fastBuddyPairs = _ =>
        {
            for (int i = 0; i < PairsPerWorker; i++)
                arena.FreePages(arena.AllocPages(0, AllocFlags.Atomic), 0);
        };
        _nativeMemoryPairs = _ =>
        {
            for (int i = 0; i < PairsPerWorker; i++)
                NativeMemory.Free(NativeMemory.Alloc(PageSize));
        };
    }

    [GlobalSetup(Target = nameof(FastBuddy_DirectReclaim_NoIo))]
    public void SetupReclaimNoIo() => SetupReclaim(AllocFlags.NoIo);

    [GlobalSetup(Target = nameof(FastBuddy_DirectReclaim_Kernel))]
    public void SetupReclaimKernel() => SetupReclaim(AllocFlags.Kernel);

    private void SetupReclaim(AllocFlags flags)
    {
        Setup();
        _reclaim = new ReclaimScenario();
        _directReclaimsBefore = _reclaim.Arena.GetStats().Steps.DirectReclaim;
        _reclaimPairsRun = 0;
        // Warm the slow path up to optimized (Tier-1) code before BenchmarkDotNet measures: with one invocation per
        // iteration (forced by IterationSetup) its own warm-up is a handful of calls, and the library's slow-path
        // methods would otherwise be measured as Tier-0 code (about 3x slower: 300 ns per pair, dropping to 70-110
        // ns in the middle of a run). The pauses let the background JIT promote the methods that got hot.
        for (int round = 0; round < 24; round++)
        {
            DirectReclaimPairs(flags);
            _reclaim.Restore();
            Thread.Sleep(100);
        }
    }

    /// <summary>Puts the pages the last invocation re-cached back onto inactive_clean (BDN then runs one invocation per iteration).</summary>
    [IterationSetup(Targets = new[] { nameof(FastBuddy_DirectReclaim_NoIo), nameof(FastBuddy_DirectReclaim_Kernel) })]
    public void RestoreReclaim()
    {
        _reclaim!.Restore();
        _reclaim.Check(minClean: ReclaimScenario.CachedPages);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _workers?.Dispose();
        _workers = null;
        if (_reclaim is not null)
        {
            // Every timed allocation must have been served by direct reclaim.
            long served = _reclaim.Arena.GetStats().Steps.DirectReclaim - _directReclaimsBefore;
            Console.WriteLine($"// direct reclaim: {_reclaimPairsRun} allocations, Steps.DirectReclaim +{served}, evictions {_reclaim.Owner.Evictions}");
            if (served != _reclaimPairsRun)
                throw new InvalidOperationException($"Only {served} of {_reclaimPairsRun} allocations were served by direct reclaim.");
            _reclaim.Dispose();
            _reclaim = null;
        }
        _arena.Validate();
        _arena.Dispose();
        _mixed.Dispose();
        NativeMemory.Free(_batch);
        _batch = null;
    }

    // ================================================================== 1-3: one alloc + free pair, one thread

    [Benchmark(Baseline = true), BenchmarkCategory(Pair4K)]
    public void NativeMemory_4KiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize));

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void FastBuddy_4KiB() => _arena.FreePages(_arena.AllocPages(0, AllocFlags.Atomic), 0);

    /// <summary>The order-0 pair through a <see cref="ThreadHandle"/>: one handle per invocation, then <see cref="HandleLoop"/> pairs, the figure per pair.</summary>
    [Benchmark(OperationsPerInvoke = HandleLoop), BenchmarkCategory(Pair4K)]
    public void FastBuddyHandle_4KiB()
    {
        ThreadHandle h = _arena.GetThreadHandle();
        for (int i = 0; i < HandleLoop; i++)
            h.FreePages(h.AllocPages(0, AllocFlags.Atomic), 0);
    }

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void AlignedAlloc_4KiB() => NativeMemory.AlignedFree(NativeMemory.AlignedAlloc(PageSize, PageSize));

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void ArrayPool_4KiB() => ArrayPool<byte>.Shared.Return(ArrayPool<byte>.Shared.Rent(PageSize));

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void Mimalloc_4KiB() => s_mimalloc.Free(s_mimalloc.Malloc(PageSize));

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void Jemalloc_4KiB() => s_jemalloc.Free(s_jemalloc.Malloc(PageSize));

    [Benchmark, BenchmarkCategory(Pair4K)]
    public void Tcmalloc_4KiB() => s_tcmalloc.Free(s_tcmalloc.Malloc(PageSize));

    [Benchmark(Baseline = true), BenchmarkCategory(Pair64K)]
    public void NativeMemory_64KiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize << Order4));

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void FastBuddy_64KiB() => _arena.FreePages(_arena.AllocPages(Order4, AllocFlags.Atomic), Order4);

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void AlignedAlloc_64KiB() => NativeMemory.AlignedFree(NativeMemory.AlignedAlloc(PageSize << Order4, PageSize << Order4));

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void ArrayPool_64KiB() => ArrayPool<byte>.Shared.Return(ArrayPool<byte>.Shared.Rent(PageSize << Order4));

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void Mimalloc_64KiB() => s_mimalloc.Free(s_mimalloc.Malloc(PageSize << Order4));

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void Jemalloc_64KiB() => s_jemalloc.Free(s_jemalloc.Malloc(PageSize << Order4));

    [Benchmark, BenchmarkCategory(Pair64K)]
    public void Tcmalloc_64KiB() => s_tcmalloc.Free(s_tcmalloc.Malloc(PageSize << Order4));

    [Benchmark(Baseline = true), BenchmarkCategory(Pair1M)]
    public void NativeMemory_1MiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize << Order8));

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void FastBuddy_1MiB() => _arena.FreePages(_arena.AllocPages(Order8, AllocFlags.Atomic), Order8);

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void AlignedAlloc_1MiB() => NativeMemory.AlignedFree(NativeMemory.AlignedAlloc(PageSize << Order8, PageSize << Order8));

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void ArrayPool_1MiB() => ArrayPool<byte>.Shared.Return(ArrayPool<byte>.Shared.Rent(PageSize << Order8));

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void Mimalloc_1MiB() => s_mimalloc.Free(s_mimalloc.Malloc(PageSize << Order8));

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void Jemalloc_1MiB() => s_jemalloc.Free(s_jemalloc.Malloc(PageSize << Order8));

    [Benchmark, BenchmarkCategory(Pair1M)]
    public void Tcmalloc_1MiB() => s_tcmalloc.Free(s_tcmalloc.Malloc(PageSize << Order8));

    // ================================================================== 4: 256 order-0 held, then freed

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void NativeMemory_Batch256() => Workloads.Batch(new NativeMemoryBlocks(PageSize), _batch, BatchSize, 0);

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void FastBuddy_Batch256() => Workloads.Batch(new FastBuddyBlocks(_arena, AllocFlags.Atomic), _batch, BatchSize, 0);

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void AlignedAlloc_Batch256() => Workloads.Batch(new AlignedBlocks(PageSize), _batch, BatchSize, 0);

    /// <summary>256 rented arrays exceed what the shared pool keeps per size (the rest is allocated and dropped).</summary>
    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void ArrayPool_Batch256()
    {
        byte[][] arrays = _arrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < arrays.Length; i++)
            arrays[i] = pool.Rent(PageSize);
        for (int i = 0; i < arrays.Length; i++)
            pool.Return(arrays[i]);
    }

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void Mimalloc_Batch256() => Workloads.Batch(new PeerBlocks(s_mimalloc, PageSize), _batch, BatchSize, 0);

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void Jemalloc_Batch256() => Workloads.Batch(new PeerBlocks(s_jemalloc, PageSize), _batch, BatchSize, 0);

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Batch)]
    public void Tcmalloc_Batch256() => Workloads.Batch(new PeerBlocks(s_tcmalloc, PageSize), _batch, BatchSize, 0);

    // ================================================================== 5: the bulk API

    /// <summary>The same loop as <see cref="NativeMemory_Batch256"/>, as this category's baseline.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Bulk)]
    public void NativeMemory_Loop256() => Workloads.Batch(new NativeMemoryBlocks(PageSize), _batch, BatchSize, 0);

    [Benchmark(OperationsPerInvoke = 2 * BatchSize), BenchmarkCategory(Bulk)]
    public void FastBuddy_Bulk256()
    {
        Span<nint> pages = _bulk;
        if (_arena.AllocPagesBulk(pages, AllocFlags.Atomic) != BatchSize)
            throw new InvalidOperationException("The bulk allocation came back short.");
        _arena.FreePagesBulk(pages);
    }

    // ================================================================== 6: mixed orders

    [Benchmark(Baseline = true, OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void NativeMemory_Mixed() => Workloads.Mixed(new NativeMemoryBlocks(PageSize), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void FastBuddy_Mixed() => Workloads.Mixed(new FastBuddyBlocks(_arena, AllocFlags.Atomic), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void AlignedAlloc_Mixed() => Workloads.Mixed(new AlignedBlocks(PageSize), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void ArrayPool_Mixed()
    {
        int* ops = _mixed.Ops;
        byte[]?[] slots = _mixedArrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < MixedLength; i++)
        {
            int op = ops[i];
            int slot = op >> MixedSequence.SlotShift;
            if ((op & MixedSequence.FreeBit) != 0)
            {
                pool.Return(slots[slot]!);
                slots[slot] = null;
            }
            else
                slots[slot] = pool.Rent(PageSize << (op & MixedSequence.OrderMask));
        }
    }

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void Mimalloc_Mixed() => Workloads.Mixed(new PeerBlocks(s_mimalloc, PageSize), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void Jemalloc_Mixed() => Workloads.Mixed(new PeerBlocks(s_jemalloc, PageSize), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    [Benchmark(OperationsPerInvoke = MixedLength), BenchmarkCategory(Mixed)]
    public void Tcmalloc_Mixed() => Workloads.Mixed(new PeerBlocks(s_tcmalloc, PageSize), _mixed.Ops, _mixed.Count, _mixed.SlotTable);

    // ================================================================== 7: worker threads (throughput)

    /// <summary>One worker thread doing order-0 pairs: the single-thread throughput, measured the same way as two.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = PairsPerWorker), BenchmarkCategory(Threads)]
    public void FastBuddy_1Thread() => _workers!.Run(_fastBuddyPairs, 1);

    /// <summary>Two worker threads, one shared arena; per pair of the two together: scaling = 1 / Ratio.</summary>
    [Benchmark(OperationsPerInvoke = 2 * PairsPerWorker), BenchmarkCategory(Threads)]
    public void FastBuddy_2Threads() => _workers!.Run(_fastBuddyPairs, 2);

    [Benchmark(OperationsPerInvoke = PairsPerWorker), BenchmarkCategory(Threads)]
    public void NativeMemory_1Thread() => _workers!.Run(_nativeMemoryPairs, 1);

    [Benchmark(OperationsPerInvoke = 2 * PairsPerWorker), BenchmarkCategory(Threads)]
    public void NativeMemory_2Threads() => _workers!.Run(_nativeMemoryPairs, 2);

    // ================================================================== 8: direct reclaim

    /// <summary>The same order-0 pair with Kernel flags in the roomy arena: served by the fast path (per-CPU list).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory(Reclaim)]
    public void FastBuddy_FastPath_Kernel() => _arena.FreePages(_arena.AllocPages(0, AllocFlags.Kernel), 0);

    /// <summary>NoIo allocation below pages_min + 8 (a clean page reclaimed for the caller), then CacheAdd of it.</summary>
    [Benchmark(OperationsPerInvoke = ReclaimPairs), BenchmarkCategory(Reclaim)]
    public void FastBuddy_DirectReclaim_NoIo() => DirectReclaimPairs(AllocFlags.NoIo);

    [Benchmark(OperationsPerInvoke = ReclaimPairs), BenchmarkCategory(Reclaim)]
    public void FastBuddy_DirectReclaim_Kernel() => DirectReclaimPairs(AllocFlags.Kernel);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DirectReclaimPairs(AllocFlags flags)
    {
        BuddyArena arena = _reclaim!.Arena;
        ReclaimScenario.CountingOwner owner = _reclaim.Owner;
        for (int i = 0; i < ReclaimPairs; i++)
        {
            void* p = arena.AllocPages(0, flags);
            if (p == null)
                throw new InvalidOperationException($"Direct reclaim failed: {BuddyArena.LastError}.");
            arena.CacheAdd(p, owner);
        }
        _reclaimPairsRun += ReclaimPairs;
    }
}
