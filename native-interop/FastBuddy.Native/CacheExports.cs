using System.Runtime.InteropServices;
using static FastBuddy.Native.NativeStatus;

namespace FastBuddy.Native;

/// <summary>The page cache from C: fb_cache_add, fb_cache_touch, fb_cache_mark_dirty, fb_cache_remove.</summary>
internal static unsafe class CacheExports
{
    [UnmanagedCallersOnly(EntryPoint = "fb_cache_add")]
    public static int CacheAdd(nint arena, void* page, FbPageOps* ops, void* context, int dirty)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        if (ops == null || ops->Evict == null)
            return Fail(InvalidArgument, "fb_cache_add needs an fb_page_ops with an evict callback.");
        try
        {
            NativePageOwner owner = handle.OwnerFor(new NativePageOwner.Key((nint)ops->Writeback, (nint)ops->Evict, (nint)context));
            handle.Arena.CacheAdd(page, owner, dirty != 0);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_cache_touch")]
    public static int CacheTouch(nint arena, void* page)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.CacheTouch(page);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb_cache_mark_dirty")]
    public static int CacheMarkDirty(nint arena, void* page)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.CacheMarkDirty(page);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    /// <summary>
    /// FB_OK: the page is the host's again; FB_ERR_RECLAIMED: the arena chose it for eviction first;
    /// FB_ERR_INVALID_ARGUMENT: a live page that is not in the cache (never cached, or already removed).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "fb_cache_remove")]
    public static int CacheRemove(nint arena, void* page)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            return handle.Arena.CacheRemove(page) ? Ok : Fail(Reclaimed);
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }
}
