using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace FastBuddy.Benchmarks;

// One class so every category lands in one table. In each category the NativeMemory row of the same byte size is
// the baseline, so the Ratio column reads "FastBuddy time / NativeMemory time" (below 1 = FastBuddy is faster).
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public unsafe class PageAllocBenchmarks
{
    private const string Order0 = "order-0 pair (4 KiB)";
    private const string Order4 = "order-4 pair (64 KiB)";
    private const string Order8 = "order-8 pair (1 MiB)";
    private const string Batch = "order-0 x256 held, then freed (per op)";

    private const int BatchSize = 256;
    private const int PageSize = 4096;

    private BuddyArena _arena = null!;
    private void** _batch;
    private nint[] _bulk = null!;

    [GlobalSetup]
    public void Setup()
    {
        // 256 MiB, one zone: pages_min is clamped to 255 pages, so no watermark is ever near.
        _arena = new BuddyArena(new ArenaOptions
        {
            ArenaBytes = 256u << 20,
            PageSize = PageSize,
            BackgroundReclaim = false,
        });
        _batch = (void**)NativeMemory.AllocZeroed(BatchSize, (nuint)sizeof(void*));
        _bulk = new nint[BatchSize];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _arena.Validate();
        _arena.Dispose();
        NativeMemory.Free(_batch);
        _batch = null;
    }

    // ------------------------------------------------------------ order 0 / 4 KiB

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Order0)]
    public void NativeMemory_4KiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize));

    [Benchmark]
    [BenchmarkCategory(Order0)]
    public void FastBuddy_Order0() => _arena.FreePages(_arena.AllocPages(0, AllocFlags.Atomic), 0);

    // ------------------------------------------------------------ order 4 / 64 KiB

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Order4)]
    public void NativeMemory_64KiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize << 4));

    [Benchmark]
    [BenchmarkCategory(Order4)]
    public void FastBuddy_Order4() => _arena.FreePages(_arena.AllocPages(4, AllocFlags.Atomic), 4);

    // ------------------------------------------------------------ order 8 / 1 MiB

    [Benchmark(Baseline = true)]
    [BenchmarkCategory(Order8)]
    public void NativeMemory_1MiB() => NativeMemory.Free(NativeMemory.Alloc(PageSize << 8));

    [Benchmark]
    [BenchmarkCategory(Order8)]
    public void FastBuddy_Order8() => _arena.FreePages(_arena.AllocPages(8, AllocFlags.Atomic), 8);

    // ------------------------------------------------------------ batch: 256 held, then freed (per operation)

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * BatchSize)]
    [BenchmarkCategory(Batch)]
    public void NativeMemory_256x4KiB()
    {
        void** batch = _batch;
        for (int i = 0; i < BatchSize; i++)
            batch[i] = NativeMemory.Alloc(PageSize);
        for (int i = 0; i < BatchSize; i++)
            NativeMemory.Free(batch[i]);
    }

    [Benchmark(OperationsPerInvoke = 2 * BatchSize)]
    [BenchmarkCategory(Batch)]
    public void FastBuddy_256xOrder0()
    {
        BuddyArena arena = _arena;
        void** batch = _batch;
        for (int i = 0; i < BatchSize; i++)
            batch[i] = arena.AllocPages(0, AllocFlags.Atomic);
        for (int i = 0; i < BatchSize; i++)
            arena.FreePages(batch[i], 0);
    }

    // Not in the spec's list: the same 256 pages through the bulk API (one zone-lock round trip per zone).
    [Benchmark(OperationsPerInvoke = 2 * BatchSize)]
    [BenchmarkCategory(Batch)]
    public void FastBuddy_Bulk256xOrder0()
    {
        Span<nint> pages = _bulk;
        if (_arena.AllocPagesBulk(pages, AllocFlags.Atomic) != BatchSize)
            throw new InvalidOperationException("The bulk allocation came back short.");
        _arena.FreePagesBulk(pages);
    }
}
