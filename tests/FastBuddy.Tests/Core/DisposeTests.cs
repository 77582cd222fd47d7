using System.Buffers;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.Core;

/// <summary>Dispose is the arena's "free everything": twice is fine, and every later call throws ObjectDisposedException.</summary>
public sealed unsafe class DisposeTests
{
    private sealed class NoOwner : IPageOwner
    {
        public bool Writeback(void* page) => true;
        public void Evict(void* page) { }
    }

    public static TheoryData<string> EveryCall =>
    [
        "AllocPages", "AllocPagesFromZonelist", "FreePages", "Alloc", "Realloc", "ReallocOfNull", "Free", "FreeOfNull",
        "UsableSize", "Owns", "Rent", "CacheAdd", "CacheTouch", "CacheMarkDirty", "CacheRemove", "GetStats", "Validate", "Balance",
    ];

    private static void Call(BuddyArena arena, string name, void* live)
    {
        switch (name)
        {
            case "AllocPages": arena.AllocPages(0, Mechanism); break;
            case "AllocPagesFromZonelist": arena.AllocPages(0, Mechanism, 0); break;
            case "FreePages": arena.FreePages(live, 0); break;
            case "Alloc": arena.Alloc(4096, Mechanism); break;
            case "Realloc": arena.Realloc(live, 8192, Mechanism); break;
            case "ReallocOfNull": arena.Realloc(null, 4096, Mechanism); break;
            case "Free": arena.Free(live); break;
            case "FreeOfNull": arena.Free(null); break;
            case "UsableSize": arena.UsableSize(live); break;
            case "Owns": arena.Owns(live); break;
            case "Rent": arena.Rent(100, Mechanism).Dispose(); break;
            case "CacheAdd": arena.CacheAdd(live, new NoOwner()); break;
            case "CacheTouch": arena.CacheTouch(live); break;
            case "CacheMarkDirty": arena.CacheMarkDirty(live); break;
            case "CacheRemove": arena.CacheRemove(live); break;
            case "GetStats": arena.GetStats(); break;
            case "Validate": arena.Validate(); break;
            case "Balance": arena.Balance(); break;
            default: throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    [Fact]
    public void DisposingTwice_DoesNotThrow()
    {
        using BuddyArena arena = SingleZone(64);
        void* p = arena.AllocPages(0, Mechanism);
        Assert.True(p != null);
        arena.Validate();

        arena.Dispose();
        arena.Dispose();

        Assert.Throws<ObjectDisposedException>(() => arena.Validate());
    }

    [Theory]
    [MemberData(nameof(EveryCall))]
    public void EveryCallAfterDispose_ThrowsObjectDisposedException(string call)
    {
        using BuddyArena arena = SingleZone(64);
        void* live = arena.AllocPages(0, Mechanism);
        arena.Validate();
        arena.Dispose();

        Assert.Throws<ObjectDisposedException>(() => Call(arena, call, live));
    }

    [Fact]
    public void DisposingARentedBlockAfterItsArena_DoesNotThrow()
    {
        using BuddyArena arena = SingleZone(64);
        IMemoryOwner<byte> rented = arena.Rent(100, Mechanism);
        arena.Validate();
        arena.Dispose();

        rented.Dispose();

        Assert.Throws<ObjectDisposedException>(() => arena.GetStats());
    }

    [Fact]
    public void DisposingWithLiveBlocks_ReleasesTheArenaWithoutComplaint()
    {
        using BuddyArena arena = SingleZone(256, maxOrder: 6);
        for (int order = 0; order < 6; order++)
            Assert.True(arena.AllocPages(order, Mechanism) != null);
        arena.Validate();

        arena.Dispose();

        Assert.Throws<ObjectDisposedException>(() => arena.AllocPages(0, Mechanism));
    }
}
