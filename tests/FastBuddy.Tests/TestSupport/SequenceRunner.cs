using System.Numerics;

namespace FastBuddy.Tests.TestSupport;

/// <summary>
/// Runs single-threaded operations against an arena and a <see cref="LiveBlockModel"/>, predicting each outcome from
/// the model: whether an allocation succeeds and from which zone, whether a Realloc grows in place, moves, or fails,
/// and that data survives. All allocations use <see cref="TestArenas.Mechanism"/> on arenas with tiny watermarks, so
/// the policy never refuses a block that exists.
/// When <see cref="Exact"/> is false (per-CPU lists on: parked blocks count as not free and are drained only when an
/// allocation is about to fail) only what still holds is predicted: an allocation fails exactly when no free block of
/// its order exists in the zonelist, blocks stay inside their zonelist, data survives every Realloc.
/// </summary>
internal sealed unsafe class SequenceRunner
{
    private ulong _nextSeed = 1;

    public SequenceRunner(BuddyArena arena, bool exact = true)
    {
        Arena = arena;
        Exact = exact;
        Model = new LiveBlockModel(arena);
    }

    public bool Exact { get; }

    public BuddyArena Arena { get; }
    public LiveBlockModel Model { get; }
    public int Operations { get; private set; }

    /// <summary>How often each predicted outcome happened, so a test can show it exercised every path.</summary>
    public int AllocSucceeded, AllocFailed, ReallocInPlace, ReallocMoved, ReallocFailed, Freed;

    private int OrderFor(nuint bytes)
    {
        nuint pages = (bytes + (nuint)Arena.PageSize - 1) / (nuint)Arena.PageSize;
        return BitOperations.Log2(BitOperations.RoundUpToPowerOf2(pages));
    }

    /// <summary>AllocPages(order, zonelist): must come from the first zone with a large enough block, or fail exactly when there is none.</summary>
    public void Alloc(int order, int zonelist, bool zero)
    {
        Operations++;
        int expectedZone = BuddyModel.FirstZoneWithBlock(Arena, zonelist, order, Model.Intervals);
        AllocFlags flags = TestArenas.Mechanism | (zero ? AllocFlags.Zero : 0);

        void* p = Arena.AllocPages(order, flags, zonelist);

        if (expectedZone < 0)
        {
            Assert.True(p == null, $"An order-{order} block came back although the model has none free in zonelist {zonelist}.");
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
            AllocFailed++;
            return;
        }
        AllocSucceeded++;
        Assert.True(p != null, $"An order-{order} allocation from zonelist {zonelist} failed although zone {expectedZone} has a free block.");
        if (Exact)
            Assert.Equal(expectedZone, ZoneProbe.ZoneIndexOf(Arena, p));
        else
            Assert.InRange(ZoneProbe.ZoneIndexOf(Arena, p), 0, zonelist);
        if (zero)
            Patterns.AssertAllBytes(p, Arena.BlockBytes(order), 0);
        Model.Add(p, order, _nextSeed++);
    }

    /// <summary>Frees the live block number <paramref name="pick"/> (modulo the count), after checking its pattern.</summary>
    public void FreeAt(int pick, bool byteApi)
    {
        Operations++;
        if (Model.Count == 0)
            return;
        LiveBlock b = Model[pick % Model.Count];
        Patterns.AssertIntact((void*)b.Address, Arena.BlockBytes(b.Order), b.Seed);
        Model.Remove((void*)b.Address);
        Freed++;
        if (byteApi)
            Arena.Free((void*)b.Address);
        else
            Arena.FreePages((void*)b.Address, b.Order);
    }

    /// <summary>
    /// Reallocs live block number <paramref name="pick"/> to <paramref name="bytes"/>: 0 frees; a smaller or equal
    /// order stays in place; a larger one grows in place exactly when the block is aligned to the new size and the
    /// pages above it are free, else moves to a new block or, when none exists, fails leaving the block intact.
    /// A size from 1 to <see cref="BuddyArena.SmallMax"/> would move the block into an object of a slab, outside this
    /// model of page blocks (the Slab tests cover that move): it is raised to the smallest size above SmallMax.
    /// </summary>
    public void ReallocAt(int pick, nuint bytes)
    {
        Operations++;
        if (Model.Count == 0)
            return;
        if (bytes != 0 && bytes <= (nuint)Arena.SmallMax)
            bytes = (nuint)Arena.SmallMax + 1;
        LiveBlock b = Model[pick % Model.Count];
        void* p = (void*)b.Address;
        nuint oldBytes = Arena.BlockBytes(b.Order);

        if (bytes == 0)
        {
            Patterns.AssertIntact(p, oldBytes, b.Seed);
            Model.Remove(p);
            Assert.True(Arena.Realloc(p, 0, TestArenas.Mechanism) == null);
            return;
        }

        int newOrder = OrderFor(bytes);
        nuint newBytes = Arena.BlockBytes(newOrder);
        bool inPlace = newOrder <= b.Order
            || ((nuint)p % newBytes == 0 && Model.RangeIsFree((byte*)p + oldBytes, (1 << newOrder) - (1 << b.Order)));
        int moveZone = inPlace && Exact ? -1 : BuddyModel.FirstZoneWithBlock(Arena, Arena.ZoneCount - 1, newOrder, Model.Intervals);

        void* q = Arena.Realloc(p, bytes, TestArenas.Mechanism);

        if (!Exact && newOrder > b.Order)
        {
            // Parked blocks may keep the buddies from looking free: in place, moved, or (only when the model has no
            // block of the new order outside the old one either) failed.
            if (q == null)
            {
                Assert.True(moveZone < 0, $"Realloc to order {newOrder} failed although zone {moveZone} has a free block of that order.");
                Patterns.AssertIntact(p, oldBytes, b.Seed);
                Assert.Equal(oldBytes, Arena.UsableSize(p));
                ReallocFailed++;
                return;
            }
            if (q == p)
                ReallocInPlace++;
            else
                ReallocMoved++;
        }
        else if (inPlace)
        {
            Assert.True(q == p, $"Realloc of order {b.Order} to order {newOrder} should have stayed in place.");
            ReallocInPlace++;
        }
        else if (moveZone < 0)
        {
            Assert.True(q == null, $"Realloc to order {newOrder} succeeded although no block of that order is free.");
            Assert.Equal(FastBuddyStatus.NoMemory, BuddyArena.LastError);
            Patterns.AssertIntact(p, oldBytes, b.Seed);
            Assert.Equal(oldBytes, Arena.UsableSize(p));
            ReallocFailed++;
            return;
        }
        else
        {
            Assert.True(q != null && q != p, $"Realloc to order {newOrder} should have moved.");
            Assert.Equal(moveZone, ZoneProbe.ZoneIndexOf(Arena, q));
            ReallocMoved++;
        }
        Patterns.AssertIntact(q, Math.Min(oldBytes, newBytes), b.Seed);
        Assert.Equal(newBytes, Arena.UsableSize(q));
        Model.Remove(p);
        Model.Add(q, newOrder, _nextSeed++);
    }

    /// <summary>Fails unless every kind of outcome happened at least once.</summary>
    public void AssertEveryPathExercised()
    {
        Assert.True(AllocSucceeded > 0 && AllocFailed > 0 && ReallocInPlace > 0 && ReallocMoved > 0 && ReallocFailed > 0 && Freed > 0,
            $"alloc ok {AllocSucceeded}, alloc failed {AllocFailed}, realloc in place {ReallocInPlace}, moved {ReallocMoved}, failed {ReallocFailed}, freed {Freed}");
    }

    /// <summary>Frees every live block, checking its pattern first.</summary>
    public void FreeAll()
    {
        while (Model.Count > 0)
            FreeAt(Model.Count - 1, byteApi: false);
    }
}
