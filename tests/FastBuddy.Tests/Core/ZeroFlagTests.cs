using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>AllocFlags.Zero zeroes the block; without it the allocator never touches arena memory.</summary>
public sealed unsafe class ZeroFlagTests
{
    private const byte Dirty = 0xAB;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(7)]
    public void ZeroFlag_ZeroesRecycledMemory_AtEveryOrder(int order)
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 8);
        nuint bytes = arena.BlockBytes(order);
        // Dirty the whole zone, give it back, then take it again with Zero.
        var blocks = new List<nint>();
        void* p;
        while ((p = arena.AllocPages(order, Mechanism)) != null)
        {
            Patterns.FillBytes(p, bytes, Dirty);
            blocks.Add((nint)p);
        }
        foreach (nint b in blocks)
            arena.FreePages((void*)b, order);

        for (int i = 0; i < blocks.Count; i++)
        {
            void* z = arena.AllocPages(order, Mechanism | AllocFlags.Zero);
            Assert.True(z != null);
            Patterns.AssertAllBytes(z, bytes, 0);
        }
        arena.Validate();
    }

    [Fact]
    public void ZeroFlagOnAlloc_ZeroesTheWholeUsableBlock()
    {
        using BuddyArena arena = SingleZone(1, maxOrder: 1); // one page: the reallocation must reuse it
        void* p = arena.Alloc(4096, Mechanism);
        Patterns.FillBytes(p, 4096, Dirty);
        arena.Free(p);

        void* z = arena.Alloc(10, Mechanism | AllocFlags.Zero);

        Assert.True(z == p);
        Patterns.AssertAllBytes(z, arena.UsableSize(z), 0);
        arena.Validate();
    }

    [Fact]
    public void WithoutTheZeroFlag_ARecycledPageStillHoldsItsOldContents()
    {
        using BuddyArena arena = SingleZone(1, maxOrder: 1);
        void* p = arena.AllocPages(0, Mechanism);
        Patterns.FillBytes(p, 4096, Dirty);
        arena.FreePages(p, 0);

        void* again = arena.AllocPages(0, Mechanism);

        Assert.True(again == p);
        Patterns.AssertAllBytes(again, 4096, Dirty);
        arena.Validate();
    }

    [Fact]
    public void ReallocGrowInPlaceWithZero_ZeroesTheNewPart_AndKeepsTheOld()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* big = arena.AllocPages(3, Mechanism);
        Patterns.FillBytes(big, arena.BlockBytes(3), Dirty);
        void* p = arena.Realloc(big, 4096, Mechanism); // shrink in place: the upper pages go back dirty
        Assert.True(p == big);
        Patterns.Fill(p, 4096, 7);

        void* grown = arena.Realloc(p, arena.BlockBytes(3), Mechanism | AllocFlags.Zero);

        Assert.True(grown == p);
        Patterns.AssertIntact(grown, 4096, 7);
        Patterns.AssertAllBytes((byte*)grown + 4096, arena.BlockBytes(3) - 4096, 0);
        arena.Validate();
    }

    [Fact]
    public void ReallocMoveWithZero_KeepsTheOldContents_AndZeroesTheRest()
    {
        using BuddyArena arena = OneLargestBlock(maxOrder: 4);
        void* a = arena.AllocPages(0, Mechanism);
        void* b = arena.AllocPages(0, Mechanism); // a's buddy: a cannot grow in place
        Patterns.Fill(a, 4096, 11);
        // Dirty the rest of the zone so that a fresh block is not zero by chance.
        void* rest = arena.AllocPages(2, Mechanism);
        Patterns.FillBytes(rest, arena.BlockBytes(2), Dirty);
        arena.FreePages(rest, 2);

        void* moved = arena.Realloc(a, 4 * 4096, Mechanism | AllocFlags.Zero);

        Assert.True(moved != null && moved != a);
        Patterns.AssertIntact(moved, 4096, 11);
        Patterns.AssertAllBytes((byte*)moved + 4096, 3 * 4096, 0);
        arena.FreePages(b, 0);
        arena.Free(moved);
        Assert.Equal(8, arena.GetStats().FreePages);
        arena.Validate();
    }
}
