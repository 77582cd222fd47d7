using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Validate really checks: a broken invariant is reported as Corrupt, a sound arena passes.</summary>
public sealed unsafe class ValidateTests
{
    [Fact]
    public void Validate_PassesOnAFreshArena_AndOnOneInUse()
    {
        using BuddyArena arena = Zoned(4096, 6, 40, 70);
        arena.Validate();
        void* a = arena.AllocPages(3, Mechanism);
        void* b = arena.AllocPages(0, Mechanism, 0);

        arena.Validate();

        arena.FreePages(a, 3);
        arena.FreePages(b, 0);
        arena.Validate();
    }

    [Fact]
    public void Validate_ReportsAFreePageCounterThatDisagreesWithTheFreeLists_AsCorrupt()
    {
        using BuddyArena arena = SingleZone(64, maxOrder: 5);
        void* p = arena.AllocPages(1, Mechanism);
        Zone zone = arena.Zones[0];

        lock (zone.Lock)
            zone.FreePages++;
        try
        {
            FastBuddyException ex = Assert.Throws<FastBuddyException>(() => arena.Validate());
            Assert.Equal(FastBuddyStatus.Corrupt, ex.Status);
        }
        finally
        {
            lock (zone.Lock)
                zone.FreePages--;
        }

        arena.Validate();
        arena.FreePages(p, 1);
        arena.Validate();
    }
}
