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
    private const string Batch = "256 x order-0, then 256 frees";

    private const int BatchSize = 256;
    private const int PageSize = 4096;

    private BuddyArena _arena = null!;
    private void** _batch;

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

    [Benchmark(Baseline = true, Description = "NativeMemory 4 KiB")]
    [BenchmarkCategory(Order0)]
    public void NativeMemory4K() => NativeMemory.Free(NativeMemory.Alloc(PageSize));

    [Benchmark(Description = "FastBuddy order 0")]
    [BenchmarkCategory(Order0)]
    public void BuddyOrder0() => _arena.FreePages(_arena.AllocPages(0, AllocFlags.Atomic), 0);

    // ------------------------------------------------------------ order 4 / 64 KiB

    [Benchmark(Baseline = true, Description = "NativeMemory 64 KiB")]
    [BenchmarkCategory(Order4)]
    public void NativeMemory64K() => NativeMemory.Free(NativeMemory.Alloc(PageSize << 4));

    [Benchmark(Description = "FastBuddy order 4")]
    [BenchmarkCategory(Order4)]
    public void BuddyOrder4() => _arena.FreePages(_arena.AllocPages(4, AllocFlags.Atomic), 4);

    // ------------------------------------------------------------ order 8 / 1 MiB

    [Benchmark(Baseline = true, Description = "NativeMemory 1 MiB")]
    [BenchmarkCategory(Order8)]
    public void NativeMemory1M() => NativeMemory.Free(NativeMemory.Alloc(PageSize << 8));

    [Benchmark(Description = "FastBuddy order 8")]
    [BenchmarkCategory(Order8)]
    public void BuddyOrder8() => _arena.FreePages(_arena.AllocPages(8, AllocFlags.Atomic), 8);

    // ------------------------------------------------------------ batch: 256 held, then freed (per operation)

    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * BatchSize, Description = "NativeMemory 4 KiB x256")]
    [BenchmarkCategory(Batch)]
    public void NativeMemoryBatch()
    {
        void** batch = _batch;
        for (int i = 0; i < BatchSize; i++)
            batch[i] = NativeMemory.Alloc(PageSize);
        for (int i = 0; i < BatchSize; i++)
            NativeMemory.Free(batch[i]);
    }

    [Benchmark(OperationsPerInvoke = 2 * BatchSize, Description = "FastBuddy order 0 x256")]
    [BenchmarkCategory(Batch)]
    public void BuddyBatch()
    {
        BuddyArena arena = _arena;
        void** batch = _batch;
        for (int i = 0; i < BatchSize; i++)
            batch[i] = arena.AllocPages(0, AllocFlags.Atomic);
        for (int i = 0; i < BatchSize; i++)
            arena.FreePages(batch[i], 0);
    }
}
