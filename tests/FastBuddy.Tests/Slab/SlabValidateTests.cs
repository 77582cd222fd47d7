using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using FastBuddy.Slab;

namespace FastBuddy.Tests.Slab;

/// <summary>
/// Validate really checks the slabs: each broken invariant of a slab (its count of objects in use, its bitmaps,
/// the tags of its pages, a spare that is not empty) is reported as Corrupt, and a sound slab layer passes.
/// The corruption is made and undone through the internals, on a slab no thread owns (Validate drains first).
/// </summary>
public abstract unsafe class SlabValidateTests(bool magazines) : SlabSpec(magazines)
{
    /// <summary>The header of the slab holding <paramref name="p"/>, and the descriptor of its page.</summary>
    private static SlabHeader* HeaderOf(BuddyArena arena, void* p, out PageDescriptor* desc)
    {
        Zone zone = arena.LocateAny(p, out int page);
        desc = zone.Desc + page;
        return arena.Policy.Slabs!.Header(desc->Next);
    }

    /// <summary>Breaks something, checks Validate reports Corrupt, mends it, checks Validate passes again.</summary>
    private static void AssertCorruptUntilMended(BuddyArena arena, Action breakIt, Action mendIt)
    {
        arena.Validate();
        breakIt();
        try
        {
            FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.Validate());
            Assert.Equal(FastBuddyStatus.Corrupt, ex.Status);
            Assert.Contains("Slab cache of", ex.Message);
        }
        finally
        {
            mendIt();
        }
        arena.Validate();
    }

    [Fact]
    public void ACountOfObjectsInUse_ThatDisagreesWithTheBitmap_IsCorrupt()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(64, Mechanism);
        arena.Validate(); // the slab is the class's now, not the thread's
        SlabHeader* s = HeaderOf(arena, p, out _);

        AssertCorruptUntilMended(arena, () => s->Used++, () => s->Used--);

        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void AnObjectFreeInBothBitmaps_IsCorrupt()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(64, Mechanism);
        arena.Validate();
        SlabHeader* s = HeaderOf(arena, p, out _);
        Assert.True((s->Free[0] & 2) != 0); // object 1 is free

        AssertCorruptUntilMended(arena, () => s->Remote[0] |= 2, () => s->Remote[0] &= ~2UL);

        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ABitmapBitPastTheLastObject_IsCorrupt()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(48, Mechanism); // 85 objects: bits 85 and up of the bitmap are never set
        arena.Validate();
        SlabHeader* s = HeaderOf(arena, p, out _);
        Assert.Equal(85, (int)s->Objects);

        AssertCorruptUntilMended(arena, () => s->Free[1] |= 1UL << 30, () => s->Free[1] &= ~(1UL << 30));

        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ASlabPageTaggedForAnotherSlab_IsCorrupt()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(2048, Mechanism); // a slab of 4 pages: its last page names it too
        arena.Validate();
        SlabHeader* s = HeaderOf(arena, p, out PageDescriptor* first);
        PageDescriptor* last = first + 3;
        Assert.Equal(s->Id, last->Next);

        AssertCorruptUntilMended(arena, () => last->Next = s->Id + 1, () => last->Next = s->Id);

        arena.Free(p);
        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }

    [Fact]
    public void ASpareSlabWithAnObjectInUse_IsCorrupt()
    {
        using BuddyArena arena = NewArena();
        void* p = arena.Alloc(64, Mechanism);
        arena.Free(p);
        arena.Validate(); // the empty slab is a spare now
        SlabHeader* s = HeaderOf(arena, p, out _);
        Assert.Equal(SlabState.Spare, s->State);

        AssertCorruptUntilMended(arena,
            () => { s->Free[0] &= ~1UL; s->Used = 1; },
            () => { s->Free[0] |= 1UL; s->Used = 0; });

        SlabProbe.AssertEveryObjectFreed_AndEveryPageBack(arena);
    }
}

/// <summary>Slab validation with per-thread magazines.</summary>
public sealed class SlabValidateTestsWithMagazines() : SlabValidateTests(magazines: true);

/// <summary>Slab validation without magazines.</summary>
public sealed class SlabValidateTestsShared() : SlabValidateTests(magazines: false);
