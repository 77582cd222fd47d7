using FastBuddy.Buddy;
using FastBuddy.Tests.TestSupport;
using static FastBuddy.Tests.TestSupport.TestArenas;

namespace FastBuddy.Tests.OsMemory;

/// <summary>
/// Each zone is an mmap'd range of its own: aligned to its largest block, optionally between two guard pages and
/// marked for huge pages, and unmapped by Dispose. Runs alone: the checks read /proc/self/maps, which another
/// test's arenas would change meanwhile.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed unsafe class ZoneMappingTests
{
    private static ArenaOptions TwoZones(bool guardPages = false, bool hugePages = false)
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("DMA", 1024));        // 4 MiB: one top-order block
        options.Zones.Add(TinyWatermarkZone("Normal", 1024 + 3)); // a tail of smaller blocks
        options.GuardPages = guardPages;
        options.TransparentHugePages = hugePages;
        return options;
    }

    [Fact]
    public void EveryZone_IsAReadWritePrivateMapping()
    {
        using var arena = new BuddyArena(TwoZones());

        foreach (Zone zone in arena.Zones)
        {
            Assert.Equal("rw-p", ProcessMemory.PermissionsAt(zone.Base));
            Assert.Equal("rw-p", ProcessMemory.PermissionsAt(zone.End - 1));
        }
        arena.Validate();
    }

    [Fact]
    public void Dispose_UnmapsEveryZone_SoAStalePointerWouldFault()
    {
        var arena = new BuddyArena(TwoZones(guardPages: true));
        byte* p = (byte*)arena.AllocPages(0, Mechanism);
        *p = 42;
        var ranges = arena.Zones.ToArray().Select(z => (z.Base, z.End)).ToList();
        arena.Validate();

        arena.Dispose();

        foreach ((nint start, nint end) in ranges)
        {
            Assert.Null(ProcessMemory.PermissionsAt(start));
            Assert.Null(ProcessMemory.PermissionsAt(end - 1));
            Assert.Null(ProcessMemory.PermissionsAt(start - Environment.SystemPageSize)); // the guard pages went too
        }
        Assert.Null(ProcessMemory.PermissionsAt((nint)p));
    }

    [Fact]
    public void GuardPages_AreInaccessiblePagesRightBeforeAndAfterEachZone()
    {
        using var arena = new BuddyArena(TwoZones(guardPages: true));

        foreach (Zone zone in arena.Zones)
        {
            nint end = (zone.End + Environment.SystemPageSize - 1) & ~(nint)(Environment.SystemPageSize - 1);
            Assert.Equal("---p", ProcessMemory.PermissionsAt(zone.Base - 1));
            Assert.Equal("rw-p", ProcessMemory.PermissionsAt(zone.Base));
            Assert.Equal("rw-p", ProcessMemory.PermissionsAt(zone.End - 1));
            Assert.Equal("---p", ProcessMemory.PermissionsAt(end));
        }
        arena.Validate();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ZoneStart_IsAlignedToItsLargestBlock_WithOrWithoutGuardPages(bool guardPages)
    {
        ArenaOptions options = Options();
        options.Zones.Add(TinyWatermarkZone("Big", 3 << 10));  // 12 MiB: aligned to the 4 MiB top order
        options.Zones.Add(TinyWatermarkZone("Small", 24));    // 96 KiB: aligned to 128 KiB
        options.GuardPages = guardPages;
        using var arena = new BuddyArena(options);

        Assert.Equal(0, arena.Zones[0].Base % (4 << 20));
        Assert.Equal(0, arena.Zones[1].Base % (128 << 10));
        void* top = arena.AllocPages(10, Mechanism, 0);
        Assert.Equal(0, (nint)top % (4 << 20));
        arena.FreePages(top, 10);
        arena.Validate();
    }

    [Fact]
    public void TransparentHugePages_MarksEveryZoneForHugePages()
    {
        using var arena = new BuddyArena(TwoZones(hugePages: true));
        using var plain = new BuddyArena(TwoZones());

        // "hg" is VM_HUGEPAGE, set by madvise(MADV_HUGEPAGE) on a kernel with transparent huge pages.
        bool kernelHasThp = Directory.Exists("/sys/kernel/mm/transparent_hugepage");
        foreach (Zone zone in arena.Zones)
            Assert.Equal(kernelHasThp, ProcessMemory.VmFlagsAt(zone.Base)!.Contains("hg"));
        foreach (Zone zone in plain.Zones)
            Assert.DoesNotContain("hg", ProcessMemory.VmFlagsAt(zone.Base)!);
        arena.Validate();
    }

    [Fact]
    public void FreshArena_IsAllDecommitted_AndAnAllocationCommitsTheBlockItCameFrom()
    {
        using var arena = new BuddyArena(TwoZones());
        ArenaStats fresh = arena.GetStats();
        Assert.Equal(0, fresh.CommittedBytes);
        Assert.Equal(fresh.TotalPages * 4096, fresh.DecommittedBytes);

        void* p = arena.AllocPages(0, Mechanism, 0);
        ArenaStats after = arena.GetStats();

        Assert.Equal(4 << 20, after.Zones[0].CommittedBytes);    // the whole top-order unit, not just the page
        Assert.Equal(0, after.Zones[1].CommittedBytes);
        Assert.Equal(after.TotalPages * 4096, after.CommittedBytes + after.DecommittedBytes);
        arena.FreePages(p, 0);
        arena.Validate();
    }
}
