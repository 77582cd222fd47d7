using System.Buffers;
using System.Diagnostics.Metrics;
using CommunityToolkit.HighPerformance;
using FastBuddy;
using Microsoft.Extensions.Logging;

namespace FastBuddy.AotSmoke;

/// <summary>
/// Exercises every public surface once under NativeAOT (pages, bytes, spans, Rent, the page cache, bad input,
/// statistics, the meter and the logger) and exits 0 only when each answer is the expected one.
/// </summary>
internal static unsafe class Program
{
    private static int s_failures;

    private static int Main()
    {
        var logger = new CountingLogger();
        var options = new ArenaOptions { BackgroundReclaim = false, Logger = logger, AllocWaitTimeout = TimeSpan.Zero };
        options.Zones.Add(new ZoneOptions("DMA", 1 << 20));
        options.Zones.Add(new ZoneOptions("Normal", 4 << 20));
        long metricPages = 0;
        using (var arena = new BuddyArena(options))
        {
            Pages(arena);
            Spans(arena);
            Cache(arena);
            BadInput(arena);
            metricPages = TotalPagesFromMeter();
            Check(metricPages == arena.GetStats().TotalPages, $"meter total pages {metricPages}");
            Exhaust(arena);
            Check(logger.Ids.Contains(1), "step 7 logged event 1");
            arena.Validate();
        }
        Console.WriteLine(s_failures == 0 ? "aot-smoke: ok" : $"aot-smoke: {s_failures} check(s) failed");
        return s_failures == 0 ? 0 : 1;
    }

    private static void Pages(BuddyArena arena)
    {
        void* page = arena.AllocPages(0);
        void* block = arena.AllocPages(4, AllocFlags.Zero, 0);
        Check(page != null && block != null, "AllocPages");
        Check(((nint)block & ((16 * arena.PageSize) - 1)) == 0, "order-4 alignment");
        arena.FreePages(page, 0);
        arena.FreePages(block, 4);
        void* bytes = arena.Alloc(10_000);
        bytes = arena.Realloc(bytes, 40_000);
        Check(arena.UsableSize(bytes) == 65536, "Realloc to 64 KiB");
        arena.Free(bytes);
    }

    private static void Spans(BuddyArena arena)
    {
        Span<int> ints = arena.AllocSpan<int>(1000);
        ints.Fill(7);
        Check(ints.Length == 1000 && ints[999] == 7, "AllocSpan<int>");
        arena.Free(ints);
        Span2D<float> grid = arena.AllocSpan2D<float>(16, 32);
        grid[15, 31] = 1.5f;
        Check(grid.Height == 16 && grid[15, 31] == 1.5f, "AllocSpan2D<float>");
        arena.Free(grid);
        using (IMemoryOwner<byte> owner = arena.Rent(1 << 16))
            owner.Memory.Span.Fill(0x42);
        using (IMemoryOwner<long> typed = arena.Rent<long>(100))
            Check(typed.Memory.Length == 100, "Rent<long>");
    }

    private static void Cache(BuddyArena arena)
    {
        var owner = new Owner();
        void* page = arena.AllocPages(0);
        arena.CacheAdd(page, owner, dirty: true);
        arena.CacheTouch(page);
        Check(arena.CacheRemove(page), "CacheRemove");
        arena.FreePages(page, 0);
    }

    private static void BadInput(BuddyArena arena)
    {
        void* page = arena.AllocPages(0);
        arena.FreePages(page, 0);
        try
        {
            arena.FreePages(page, 0);
            Check(false, "double free not refused");
        }
        catch (FastBuddyException e)
        {
            Check(e.Status == FastBuddyStatus.DoubleFree, $"double free status {e.Status}");
        }
    }

    private static void Exhaust(BuddyArena arena)
    {
        // More than a zone holds: refused (null) with the reason, and the seed's warning logged.
        var held = new List<nint>();
        void* p;
        while ((p = arena.AllocPages(arena.MaxOrder - 1, AllocFlags.Atomic)) != null)
            held.Add((nint)p);
        Check(BuddyArena.LastError == FastBuddyStatus.NoMemory, $"LastError {BuddyArena.LastError}");
        foreach (nint block in held)
            arena.FreePages((void*)block, arena.MaxOrder - 1);
    }

    private static long TotalPagesFromMeter()
    {
        long total = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "FastBuddy" && instrument.Name == "fastbuddy.pages.total")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => total += value);
        listener.Start();
        listener.RecordObservableInstruments();
        return total;
    }

    private static void Check(bool ok, string what)
    {
        if (ok)
            return;
        s_failures++;
        Console.Error.WriteLine($"aot-smoke: FAILED: {what}");
    }

    private sealed class Owner : IPageOwner
    {
        public bool Writeback(void* page) => true;

        public void Evict(void* page)
        {
        }
    }

    private sealed class CountingLogger : ILogger
    {
        public List<int> Ids { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Ids.Add(eventId.Id);
            Console.WriteLine($"log {eventId.Id} {logLevel}: {formatter(state, exception)}");
        }
    }
}
