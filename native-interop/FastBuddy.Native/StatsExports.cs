using System.Runtime.InteropServices;
using System.Text.Unicode;
using static FastBuddy.Native.NativeStatus;

namespace FastBuddy.Native;

/// <summary>
/// fb_get_stats and fb_get_zone_stats: a snapshot of <see cref="BuddyArena.GetStats"/> copied into the caller's
/// struct, at most its struct_size bytes of it, so hosts built against an older (smaller) or newer (larger)
/// fastbuddy.h both work.
/// </summary>
internal static unsafe class StatsExports
{
    /// <summary>A struct_size above this is taken for an uninitialised field rather than a future struct.</summary>
    private const uint MaxStructSize = 4096;

    [UnmanagedCallersOnly(EntryPoint = "fb_get_stats")]
    public static int GetStats(nint arena, FbStats* stats)
    {
        int status = Admit(arena, (uint*)stats, FbStats.MinSize, "fb_get_stats", "fb_stats", out ArenaHandle handle, out uint size);
        if (status != Ok)
            return status;
        try
        {
            BuddyArena a = handle.Arena;
            ArenaStats s = a.GetStats();
            FbStats result = new()
            {
                StructSize = size,
                TotalPages = s.TotalPages,
                FreePages = s.FreePages,
                PerCpuPages = s.PerCpuPages,
                ActivePages = s.ActivePages,
                InactiveDirtyPages = s.InactiveDirtyPages,
                InactiveCleanPages = s.InactiveCleanPages,
                MemoryPressure = s.MemoryPressure,
                InactiveTarget = s.InactiveTarget,
                Allocations = s.Allocations,
                Frees = s.Frees,
                Failures = s.Failures,
                Reclaimed = s.Reclaimed,
                Laundered = s.Laundered,
                ZoneCount = (uint)s.Zones.Count,
                PageSize = (uint)a.PageSize,
                MaxOrder = (uint)a.MaxOrder,
                FreePagesMin = s.FreePagesMin,
                FreePagesLow = s.FreePagesLow,
                FreePagesHigh = s.FreePagesHigh,
                StepFastPath = s.Steps.FastPath,
                StepHigh = s.Steps.High,
                StepLow = s.Steps.Low,
                StepMin = s.Steps.Min,
                StepDirectReclaim = s.Steps.DirectReclaim,
                StepHigherOrderReclaim = s.Steps.HigherOrderReclaim,
                StepFinalPhase = s.Steps.FinalPhase,
                StepFailed = s.Steps.Failed,
                CommittedBytes = s.CommittedBytes,
                DecommittedBytes = s.DecommittedBytes,
                Decommits = s.Decommits,
                SlabPages = s.SlabPages,
                SlabObjects = s.SlabObjects,
                SlabObjectBytes = s.SlabObjectBytes,
                SlabClassCount = (uint)s.SlabClasses.Count,
            };
            CopyOut(&result, sizeof(FbStats), stats, size);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_get_zone_stats")]
    public static int GetZoneStats(nint arena, uint zone, FbZoneStats* stats)
    {
        int status = Admit(arena, (uint*)stats, FbZoneStats.MinSize, "fb_get_zone_stats", "fb_zone_stats", out ArenaHandle handle, out uint size);
        if (status != Ok)
            return status;
        try
        {
            ArenaStats s = handle.Arena.GetStats();
            if (zone >= (uint)s.Zones.Count)
                return Fail(InvalidArgument, $"Zone {zone} does not exist; the arena has {s.Zones.Count}.");
            ZoneStats z = s.Zones[(int)zone];
            FbZoneStats result = new()
            {
                StructSize = size,
                Pages = z.Pages,
                FreePages = z.FreePages,
                PagesMin = z.PagesMin,
                PagesLow = z.PagesLow,
                PagesHigh = z.PagesHigh,
                ActivePages = z.ActivePages,
                InactiveDirtyPages = z.InactiveDirtyPages,
                InactiveCleanPages = z.InactiveCleanPages,
                PerCpuPages = z.PerCpuPages,
                CommittedBytes = z.CommittedBytes,
                DecommittedBytes = z.DecommittedBytes,
                Decommits = z.Decommits,
            };
            // The name, NUL-terminated and cut at a character boundary if it is too long.
            Utf8.FromUtf16(z.Name, new Span<byte>(result.Name, FbZoneStats.NameBytes - 1), out _, out int written);
            result.Name[written] = 0;
            int orders = Math.Min(z.FreeBlocks.Count, FbZoneStats.MaxOrders);
            for (int k = 0; k < orders; k++)
                result.FreeBlocks[k] = z.FreeBlocks[k];
            CopyOut(&result, sizeof(FbZoneStats), stats, size);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_get_slab_stats")]
    public static int GetSlabStats(nint arena, uint cls, FbSlabStats* stats)
    {
        int status = Admit(arena, (uint*)stats, FbSlabStats.MinSize, "fb_get_slab_stats", "fb_slab_stats", out ArenaHandle handle, out uint size);
        if (status != Ok)
            return status;
        try
        {
            ArenaStats s = handle.Arena.GetStats();
            if (cls >= (uint)s.SlabClasses.Count)
                return Fail(InvalidArgument, $"Size class {cls} does not exist; the arena has {s.SlabClasses.Count}.");
            SlabClassStats c = s.SlabClasses[(int)cls];
            FbSlabStats result = new()
            {
                StructSize = size,
                ObjectSize = (uint)c.ObjectSize,
                ObjectsPerSlab = (uint)c.ObjectsPerSlab,
                PagesPerSlab = (uint)c.PagesPerSlab,
                Slabs = c.Slabs,
                SpareSlabs = c.SpareSlabs,
                ObjectsInUse = c.ObjectsInUse,
                FreeObjects = c.FreeObjects,
            };
            CopyOut(&result, sizeof(FbSlabStats), stats, size);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// What every statistics call checks before it fills the caller's struct (whose first field is struct_size): a
    /// live arena, a struct, and a struct_size from the minimum to <see cref="MaxStructSize"/>. Ok, or the failure's status.
    /// </summary>
    private static int Admit(nint arena, uint* structSize, uint minSize, string call, string type, out ArenaHandle handle, out uint size)
    {
        size = 0;
        handle = HandleTable.Find(arena)!; // null only on the failure below
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        if (structSize == null)
            return Fail(InvalidArgument, $"{call} needs an {type} to fill.");
        size = *structSize;
        if (size < minSize || size > MaxStructSize)
            return Fail(InvalidArgument, $"{type}.struct_size is {size}: set it to sizeof({type}) (at least {minSize}).");
        return Ok;
    }

    /// <summary>
    /// Writes <paramref name="knownSize"/> bytes of <paramref name="source"/> into a caller struct of
    /// <paramref name="callerSize"/> bytes: truncated if the caller's is smaller, the rest zeroed if it is larger
    /// (fields this library version does not know read 0).
    /// </summary>
    private static void CopyOut(void* source, int knownSize, void* destination, uint callerSize)
    {
        uint copied = Math.Min((uint)knownSize, callerSize);
        Buffer.MemoryCopy(source, destination, callerSize, copied);
        if (callerSize > copied)
            NativeMemory.Clear((byte*)destination + copied, callerSize - copied);
    }
}
