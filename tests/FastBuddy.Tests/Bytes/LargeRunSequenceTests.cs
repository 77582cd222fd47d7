using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Bytes;

/// <summary>
/// Random sequences of blocks and runs checked against a page map model: allocations fail exactly when no free
/// aligned window of the size exists, contents survive, counts add up, and the zone comes back whole.
/// </summary>
public sealed unsafe class LargeRunSequenceTests
{
    private const int MaxOrder = 4;
    private const int BlockPages = 1 << (MaxOrder - 1);
    private const int Pages = 12 * BlockPages;
    private const int Page = 4096;

    private sealed record Live(nint Address, int Pages, ulong Seed, nuint Kept);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomBlocksAndRuns_MatchThePageMap_AndGiveTheZoneBack(int seed)
    {
        using BuddyArena arena = SingleZone(Pages, maxOrder: MaxOrder);
        var random = new Random(seed);
        var live = new List<Live>();
        var used = new bool[Pages];
        nint base0 = arena.Zones[0].Base;
        var outcomes = new int[3];
        for (int step = 0; step < 1500; step++)
        {
            int op = random.Next(10);
            if (op < 4 || live.Count == 0)
                outcomes[Allocate(arena, random, live, used, base0, step)]++;
            else if (op < 7)
                Release(arena, live, used, base0, random.Next(live.Count));
            else
                Resize(arena, random, live, used, base0, random.Next(live.Count), step);
            Assert.Equal(Pages - used.Count(u => u), arena.GetStats().FreePages);
            if (step % 100 == 0)
                arena.Validate();
        }
        Assert.All(outcomes, count => Assert.True(count > 0, "the sequence must see refusals, blocks and runs"));
        while (live.Count > 0)
            Release(arena, live, used, base0, live.Count - 1);
        Assert.Equal(ZoneProbe.Counts(MaxOrder, (MaxOrder - 1, Pages / BlockPages)), ZoneProbe.StatsFreeBlocks(arena));
        arena.Validate();
    }

    /// <summary>
    /// A block of a random order through the page API, or a run of 2 to 6 blocks through the byte API. Returns 0
    /// (refused), 1 (a block) or 2 (a run).
    /// </summary>
    private static int Allocate(BuddyArena arena, Random random, List<Live> live, bool[] used, nint base0, int step)
    {
        bool run = random.Next(2) == 0;
        int blocks = random.Next(2, 7);
        int order = random.Next(MaxOrder);
        void* p = run ? arena.Alloc((nuint)((blocks - 1) * BlockPages * Page + random.Next(1, BlockPages * Page + 1)), Mechanism)
                      : arena.AllocPages(order, Mechanism);
        int pages = run ? blocks * BlockPages : 1 << order;
        if (p == null)
        {
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
            Assert.False(HasFreeWindow(used, pages, run ? BlockPages : pages), $"step {step}: {pages} pages refused, but a window is free");
            return 0;
        }
        Adopt(live, used, base0, (nint)p, pages, (ulong)step);
        return run ? 2 : 1;
    }

    private static void Release(BuddyArena arena, List<Live> live, bool[] used, nint base0, int i)
    {
        Live l = live[i];
        Patterns.AssertIntact((void*)l.Address, l.Kept, l.Seed);
        arena.Free((void*)l.Address);
        Mark(used, base0, l.Address, l.Pages, false);
        live.RemoveAt(i);
    }

    /// <summary>Realloc to a random run or page size: the kept prefix survives, a failure changes nothing.</summary>
    private static void Resize(BuddyArena arena, Random random, List<Live> live, bool[] used, nint base0, int i, int step)
    {
        Live l = live[i];
        int smallest = Math.Max(arena.SmallMax, Page) + 1; // blocks and runs only, never a slab object
        nuint bytes = (nuint)random.Next(smallest, 7 * BlockPages * Page);
        void* q = arena.Realloc((void*)l.Address, bytes, Mechanism);
        if (q == null)
        {
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
            Patterns.AssertIntact((void*)l.Address, l.Kept, l.Seed);
            return;
        }
        nuint kept = Math.Min(l.Kept, bytes) & ~(nuint)7;
        Patterns.AssertIntact(q, kept, l.Seed);
        Mark(used, base0, l.Address, l.Pages, false);
        live.RemoveAt(i);
        Adopt(live, used, base0, (nint)q, (int)(arena.UsableSize(q) / Page), (ulong)step);
    }

    private static void Adopt(List<Live> live, bool[] used, nint base0, nint p, int pages, ulong seed)
    {
        int first = (int)((p - base0) / Page);
        for (int k = first; k < first + pages; k++)
            Assert.False(used[k], $"page {k} handed out twice");
        Mark(used, base0, p, pages, true);
        nuint bytes = (nuint)pages * Page;
        Patterns.Fill((void*)p, bytes, seed);
        live.Add(new Live(p, pages, seed, bytes));
    }

    private static void Mark(bool[] used, nint base0, nint p, int pages, bool value)
    {
        int first = (int)((p - base0) / Page);
        Array.Fill(used, value, first, pages);
    }

    /// <summary>Whether <paramref name="pages"/> free pages start at some multiple of <paramref name="alignment"/>.</summary>
    private static bool HasFreeWindow(bool[] used, int pages, int alignment)
    {
        for (int start = 0; start + pages <= used.Length; start += alignment)
        {
            if (Array.IndexOf(used, true, start, pages) < 0)
                return true;
        }
        return false;
    }
}
