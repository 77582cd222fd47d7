using System.Diagnostics;
using FastBuddy.Tests.PolicySupport;

namespace FastBuddy.Tests.Policy;

/// <summary>
/// kswapd's once-a-second pass runs from the arena's creation, not only after a first wake-up: an arena never
/// under pressure still gets back the pages an exited thread left parked.
/// </summary>
public sealed unsafe class KswapdPeriodTests
{
    [Fact]
    public void ThePeriodicPass_ReturnsAnExitedThreadsParkedPages_WithoutAnyWakeup()
    {
        using BuddyArena arena = PolicyArena.Create(pages: 4096, background: true, perCpuPages: 64);
        var worker = new Thread(() =>
        {
            // Plenty of free memory: the fast path serves, nothing wakes kswapd; the frees park.
            var pages = new List<nint>();
            for (int i = 0; i < 32; i++)
                pages.Add((nint)arena.AllocPages(0));
            foreach (nint p in pages)
                arena.FreePages((void*)p, 0);
        });
        worker.Start();
        worker.Join();
        Assert.True(arena.GetStats().PerCpuPages > 0);

        var clock = Stopwatch.StartNew();
        while (arena.GetStats().PerCpuPages > 0 && clock.ElapsedMilliseconds < 5000)
            Thread.Sleep(20);

        Assert.Equal(0, arena.GetStats().PerCpuPages);
        Assert.Equal(4096, arena.GetStats().FreePages);
        arena.Validate();
    }
}
