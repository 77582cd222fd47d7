using System.Runtime.InteropServices;
using FastBuddy.PerThread;
using static FastBuddy.Native.NativeStatus;

namespace FastBuddy.Native;

/// <summary>
/// Pages and bytes: fb_alloc_pages[_zonelist], fb_free_pages, fb_alloc_pages_bulk, fb_free_pages_bulk, fb_alloc,
/// fb_realloc, fb_free, fb_usable_size, fb_owns.
/// </summary>
/// <remarks>
/// The hot path is: handle lookup (an array index and a compare) and the arena call inside a try (free of cost when
/// nothing throws); a successful allocation resets the thread's LastError inside the library, so fb_last_error
/// reads FB_OK again. Failures leave through the out-of-line helpers of <see cref="NativeStatus"/>.
/// </remarks>
internal static unsafe class PageExports
{
    private const string BadBulkArray = "The page array is NULL or its count is beyond 2^31 - 1.";

    [UnmanagedCallersOnly(EntryPoint = "fb_alloc_pages")]
    public static void* AllocPages(nint arena, uint order, uint flags)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailNull(InvalidArgument, NotAnArena);
        try
        {
            void* block = handle.Arena.AllocPages((int)order, (AllocFlags)flags);
            if (block == null)
                return AllocationFailed();
            return block;
        }
        catch (Exception e)
        {
            return FailNull(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_alloc_pages_zonelist")]
    public static void* AllocPagesZonelist(nint arena, uint order, uint flags, uint zonelist)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailNull(InvalidArgument, NotAnArena);
        if (zonelist > int.MaxValue)
            return FailNull(InvalidArgument, $"Zonelist {zonelist} does not exist.");
        try
        {
            void* block = handle.Arena.AllocPages((int)order, (AllocFlags)flags, (int)zonelist);
            if (block == null)
                return AllocationFailed();
            return block;
        }
        catch (Exception e)
        {
            return FailNull(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_free_pages")]
    public static int FreePages(nint arena, void* block, uint order)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.FreePages(block, (int)order);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>Up to <paramref name="count"/> order-0 pages into <paramref name="pages"/>; returns how many.</summary>
    [UnmanagedCallersOnly(EntryPoint = "fb_alloc_pages_bulk")]
    public static nuint AllocPagesBulk(nint arena, nint* pages, nuint count, uint flags)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        if ((pages == null && count != 0) || count > int.MaxValue)
            return FailZero(InvalidArgument, BadBulkArray);
        try
        {
            int n = handle.Arena.AllocPagesBulk(new Span<nint>(pages, (int)count), (AllocFlags)flags);
            if ((nuint)n < count)
                AllocationFailed();
            return (nuint)n;
        }
        catch (Exception e)
        {
            Fail(e);
            return 0;
        }
    }

    /// <summary>All or nothing: every entry must be a live order-0 page of the arena.</summary>
    [UnmanagedCallersOnly(EntryPoint = "fb_free_pages_bulk")]
    public static int FreePagesBulk(nint arena, nint* pages, nuint count)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        if ((pages == null && count != 0) || count > int.MaxValue)
            return Fail(InvalidArgument, BadBulkArray);
        try
        {
            handle.Arena.FreePagesBulk(new ReadOnlySpan<nint>(pages, (int)count));
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_alloc")]
    public static void* Alloc(nint arena, nuint bytes, uint flags) => AllocHanding(arena, bytes, flags, null);

    /// <summary>fb_alloc, then (for the inline path's miss) the calling thread's magazine handed to <paramref name="tls"/>.</summary>
    internal static void* AllocHanding(nint arena, nuint bytes, uint flags, Magazine** tls)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailNull(InvalidArgument, NotAnArena);
        try
        {
            void* block = handle.Arena.Alloc(bytes, (AllocFlags)flags);
            InlinePathExports.Hand(handle.Arena, tls);
            if (block == null)
                return AllocationFailed();
            return block;
        }
        catch (Exception e)
        {
            return FailNull(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_realloc")]
    public static void* Realloc(nint arena, void* p, nuint bytes, uint flags)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailNull(InvalidArgument, NotAnArena);
        try
        {
            void* block = handle.Arena.Realloc(p, bytes, (AllocFlags)flags);
            if (block == null && bytes != 0)
                return AllocationFailed();
            return block; // null after a Realloc(p, 0), which freed p: not a failure
        }
        catch (Exception e)
        {
            return FailNull(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_free")]
    public static int Free(nint arena, void* p) => FreeHanding(arena, p, null);

    /// <summary>fb_free, then (for the inline path's miss) the calling thread's magazine handed to <paramref name="tls"/>.</summary>
    internal static int FreeHanding(nint arena, void* p, Magazine** tls)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.Free(p);
            InlinePathExports.Hand(handle.Arena, tls);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_usable_size")]
    public static nuint UsableSize(nint arena, void* p)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        try
        {
            return handle.Arena.UsableSize(p);
        }
        catch (Exception e)
        {
            Fail(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_small_max")]
    public static nuint SmallMax(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        try
        {
            return (nuint)handle.Arena.SmallMax;
        }
        catch (Exception e)
        {
            Fail(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_owns")]
    public static int Owns(nint arena, void* p)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return (int)FailZero(InvalidArgument, NotAnArena);
        try
        {
            return handle.Arena.Owns(p) ? 1 : 0;
        }
        catch (Exception e)
        {
            Fail(e);
            return 0;
        }
    }
}
