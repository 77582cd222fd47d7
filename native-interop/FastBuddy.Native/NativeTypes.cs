using System.Runtime.InteropServices;

namespace FastBuddy.Native;

// The C structs of fastbuddy.h, field for field. Sequential layout gives the same offsets as the C compiler on
// the 64-bit System V ABI; the *MinSize constants mirror FB_*_MIN_SIZE (the part every caller must provide), and
// the C tests check the offsets from the C side.

/// <summary>fb_zone_options.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FbZoneOptions
{
    public byte* Name;
    public nuint Bytes;
    public long PagesMin;
}

/// <summary>fb_options.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FbOptions
{
    public const uint MinSize = 48;

    public uint StructSize;
    public uint PageSize;
    public uint MaxOrder;
    public uint Reserved0;
    public nuint ArenaBytes;
    public FbZoneOptions* Zones;
    public uint ZoneCount;
    public int BackgroundReclaim;
    public long AllocWaitMs;
    // Optional tail: a caller's struct may end before any of these (they then keep their defaults).
    public int BalanceRatio;
    public int LowestZoneBalanceRatio;
    public int BalanceMin;
    public int BalanceMax;
    public delegate* unmanaged<void*, int, byte*, void> Log;
    public void* LogContext;
    public delegate* unmanaged<void*, nint, uint, uint, int> OutOfMemory;
    public void* OutOfMemoryContext;
    public int PerCpuPages;
    public int PerCpuBatch;
    public int PerCpuOrders;
    public int Reserved1;
    public long DecommitAfterMs;
    public int DecommitMinOrder;
    public int GuardPages;
    public int TransparentHugePages;
    public int Reserved2;
}

/// <summary>fb_page_ops.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FbPageOps
{
    public delegate* unmanaged<void*, void*, int> Writeback;
    public delegate* unmanaged<void*, void*, void> Evict;
}

/// <summary>fb_stats.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FbStats
{
    public const uint MinSize = 116;

    public uint StructSize;
    public uint Reserved0;
    public long TotalPages;
    public long FreePages;
    public long PerCpuPages;
    public long ActivePages;
    public long InactiveDirtyPages;
    public long InactiveCleanPages;
    public long MemoryPressure;
    public long InactiveTarget;
    public long Allocations;
    public long Frees;
    public long Failures;
    public long Reclaimed;
    public long Laundered;
    public uint ZoneCount;
    // Optional tail.
    public uint PageSize;
    public uint MaxOrder;
    public uint Reserved1;
    public long FreePagesMin;
    public long FreePagesLow;
    public long FreePagesHigh;
    public long StepFastPath;
    public long StepHigh;
    public long StepLow;
    public long StepMin;
    public long StepDirectReclaim;
    public long StepHigherOrderReclaim;
    public long StepFinalPhase;
    public long StepFailed;
    public long CommittedBytes;
    public long DecommittedBytes;
    public long Decommits;
    public long SlabPages;
    public long SlabObjects;
    public long SlabObjectBytes;
    public uint SlabClassCount;
    public uint Reserved2;
}

/// <summary>fb_slab_stats.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FbSlabStats
{
    public const uint MinSize = 48;

    public uint StructSize;
    public uint ObjectSize;
    public uint ObjectsPerSlab;
    public uint PagesPerSlab;
    public long Slabs;
    public long SpareSlabs;
    public long ObjectsInUse;
    public long FreeObjects;
}

/// <summary>fb_zone_stats.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FbZoneStats
{
    public const uint MinSize = 360;
    public const int NameBytes = 32;
    public const int MaxOrders = 32;

    public uint StructSize;
    public fixed byte Name[NameBytes];
    public uint Reserved0;
    public long Pages;
    public long FreePages;
    public long PagesMin;
    public long PagesLow;
    public long PagesHigh;
    public long ActivePages;
    public long InactiveDirtyPages;
    public long InactiveCleanPages;
    public fixed long FreeBlocks[MaxOrders];
    // Optional tail.
    public long PerCpuPages;
    public long CommittedBytes;
    public long DecommittedBytes;
    public long Decommits;
}
