using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Bad orders, sizes and flags on the allocation side: refused with InvalidArgument, arena unchanged.</summary>
public sealed unsafe class BadArgumentTests
{
    private const int MaxOrder = 6;

    private static BuddyArena NewArena() => SingleZone(128, maxOrder: MaxOrder);

    [Theory]
    [InlineData(MaxOrder)]
    [InlineData(MaxOrder + 1)]
    [InlineData(31)]
    [InlineData(int.MaxValue)]
    public void AllocPagesWithAnOrderAtOrAboveMaxOrder_IsInvalidArgument_AndChangesNothing(int order)
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(order, Mechanism));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void AllocPagesWithANegativeOrder_IsInvalidArgument_AndChangesNothing(int order)
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(order, Mechanism));
    }

    [Fact]
    public void AllocOfZeroBytes_IsInvalidArgument_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Alloc(0, Mechanism));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1 << 30)]
    public void AllocOfMoreThanTheLargestZone_IsInvalidArgument_AndChangesNothing(int bytesOverZone)
    {
        using BuddyArena arena = NewArena();
        nuint bytes = arena.MaxAllocBytes + (nuint)bytesOverZone;

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Alloc(bytes, Mechanism));
    }

    [Fact]
    public void AllocOfAnAbsurdSize_IsInvalidArgument_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Alloc(nuint.MaxValue, Mechanism));
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Alloc(nuint.MaxValue / 2 + 1, Mechanism));
    }

    [Fact]
    public void AllocOfExactlyTheLargestBlock_IsAccepted()
    {
        using BuddyArena arena = NewArena();

        void* p = arena.Alloc(arena.BlockBytes(MaxOrder - 1), Mechanism);

        Assert.True(p != null);
        Assert.Equal(arena.BlockBytes(MaxOrder - 1), arena.UsableSize(p));
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void ReallocToMoreThanTheLargestZone_IsInvalidArgument_AndKeepsTheBlock()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(4096, Mechanism);
        Patterns.Fill(p, 4096, 42);

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Realloc(p, arena.MaxAllocBytes + 1, Mechanism));
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Realloc(p, nuint.MaxValue, Mechanism));

        Patterns.AssertIntact(p, 4096, 42);
        Assert.Equal((nuint)4096, arena.UsableSize(p));
        arena.Free(p);
        arena.Validate();
    }

    [Fact]
    public void AllocPagesWithUnknownFlagBits_IsInvalidArgument_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(0, (AllocFlags)(1u << 20)));
        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.AllocPages(0, (AllocFlags)0x8000_0000u | AllocFlags.Kernel));
    }

    [Fact]
    public void RentOfZeroBytes_IsInvalidArgument_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Rent(0, Mechanism));
    }

    [Fact]
    public void RentOfAnAbsurdSize_IsInvalidArgument_AndChangesNothing()
    {
        using BuddyArena arena = NewArena();

        ArenaState.AssertRejected(arena, FastBuddyStatus.InvalidArgument, () => arena.Rent(nuint.MaxValue, Mechanism));
    }
}
