using System.Runtime.InteropServices;
using static FastBuddy.Native.NativeStatus;

namespace FastBuddy.Native;

/// <summary>Arena lifetime and handles: fb_options_init, fb_arena_create, fb_arena_destroy, and the arena's shape.</summary>
internal static unsafe class ArenaExports
{
    [UnmanagedCallersOnly(EntryPoint = "fb_options_init")]
    public static int OptionsInit(FbOptions* options)
    {
        if (options == null)
            return Fail(InvalidArgument, "fb_options_init needs an fb_options to fill.");
        try
        {
            NativeOptions.WriteDefaults(options);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>The plain route (hosts that cannot use the header's inline path, such as FFI bindings): no layout check.</summary>
    [UnmanagedCallersOnly(EntryPoint = "fb_arena_create")]
    public static int ArenaCreate(FbOptions* options, nint* result) => Create(options, result);

    /// <summary>Creates an arena and its handle; shared by fb_arena_create and the layout-checked fb__arena_create_layout.</summary>
    internal static int Create(FbOptions* options, nint* result)
    {
        if (result == null)
            return Fail(InvalidArgument, "fb_arena_create needs somewhere to store the handle (out is NULL).");
        *result = 0;
        if (options == null)
            return Fail(InvalidArgument, "fb_arena_create needs options (see fb_options_init).");
        try
        {
            string? problem = NativeOptions.TryRead(options, out ArenaOptions? managed, out NativeOutOfMemoryHandler? outOfMemory);
            if (problem is not null)
                return Fail(InvalidArgument, problem);
            BuddyArena arena = new(managed!);
            ArenaHandle? handle = HandleTable.Register(arena);
            if (handle is null)
            {
                arena.Dispose();
                return Fail(NoMemory, "Too many live arenas (2^20 - 1).");
            }
            // The magazines carry the handle, so that the header's inline path recognises them.
            arena.UseKey((ulong)handle.Value);
            if (outOfMemory is not null)
                outOfMemory.Handle = handle.Value;
            *result = handle.Value;
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_arena_destroy")]
    public static int ArenaDestroy(nint arena)
    {
        if (arena == 0)
            return Ok;
        try
        {
            if (!HandleTable.Remove(arena, out ArenaHandle? handle))
                return Fail(InvalidArgument, NotAnArena);
            handle!.Arena.Dispose();
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_page_size")]
    public static uint PageSize(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        return (uint)handle.Arena.PageSize;
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_max_order")]
    public static uint MaxOrder(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        return (uint)handle.Arena.MaxOrder;
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_zone_count")]
    public static uint ZoneCount(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailZero(InvalidArgument, NotAnArena);
        return (uint)handle.Arena.ZoneCount;
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_validate")]
    public static int Validate(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.Validate();
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_balance")]
    public static int Balance(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.Balance();
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_trim")]
    public static long Trim(nint arena)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return -Fail(InvalidArgument, NotAnArena);
        try
        {
            return handle.Arena.Trim();
        }
        catch (Exception e)
        {
            return -Fail(e);
        }
    }
}
