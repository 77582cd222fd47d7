using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastBuddy.Buddy;
using FastBuddy.PerThread;
using FastBuddy.Slab;
using static FastBuddy.Native.NativeStatus;

namespace FastBuddy.Native;

/// <summary>
/// The library's side of the inline path in fastbuddy.h: the layout handshake (fb__arena_create_layout,
/// fb__layout_offset) and the misses (fb__alloc_pages_miss, fb__free_pages_miss, fb__alloc_miss, fb__free_miss), which do what the plain
/// exports do and then hand the calling thread's magazine to the header's thread-local, so that its next calls
/// stay inline.
/// </summary>
/// <remarks>
/// The magazine layout C and C# share is <see cref="Magazine"/> (with <see cref="MagazineList"/> and
/// <see cref="PageDescriptor"/>); a header compiled against another layout version or other struct sizes is
/// refused at arena creation with FB_ERR_INVALID_ARGUMENT, and a C test compares every shared offset with
/// <see cref="LayoutOffset"/>.
/// </remarks>
internal static unsafe class InlinePathExports
{
    /// <summary>Fields whose offsets the C test checks, in the order of fb__layout_field in fastbuddy.h.</summary>
    private static readonly long[] s_offsets =
    [
        0, 8, 12, 16, 24, 32, 40, 48, 52, 53, 54, 55, 56,         // fb_magazine: arena_key .. freed
        Magazine.HeaderBytes + Magazine.ObjectBytes,               // the fast zone's lists
        0, 2, 4,                                                   // fb_magazine_list: count, cap, offset
        0, 4, 8,                                                   // fb_page_desc: next, prev, tag
        PageDescriptor.FlagsShift, PageDescriptor.OrderShift,      // tag fields
        (long)PageDescriptor.ParkedBit, (long)PageDescriptor.HeadTag(0, 0),
        64, Magazine.HeaderBytes, Magazine.HeaderBytes + SizeClasses.Count * 8, // slabs, current[], owned[]
        0, 8, 12, 16, 24, 28, 32, 36, 48, 64, 128,                 // fb__slab: base .. cls, free, remote
        (long)PageDescriptor.SlabBit, 60, SizeClasses.Count, SizeClasses.MaxSmall, // slab bit, fb__slab.twos
        72,                                                        // fb_magazine.recent
        Magazine.ReuseStart, Magazine.ReuseDepth,                  // the reuse lines, objects per line
    ];

    static InlinePathExports()
    {
        // The offsets above are the struct's own: keep them honest.
        Magazine m = default;
        byte* b = (byte*)&m;
        if ((byte*)&m.Freed - b != 56 || (byte*)&m.Orders - b != 55 || (byte*)&m.Gate - b != 40 || (byte*)&m.Slabs - b != 64 || (byte*)&m.Recent - b != 72)
            throw new InvalidOperationException("The magazine layout does not match the offsets the header is checked against.");
        SlabHeader s = default;
        byte* h = (byte*)&s;
        if ((byte*)&s.Inverse - h != 16 || (byte*)&s.Twos - h != 60 || (byte*)&s.Owner - h != 24 || (byte*)&s.Cursor - h != 32 || (byte*)&s.Class - h != 48
            || (byte*)s.Free - h != 64 || (byte*)s.Remote - h != 128)
            throw new InvalidOperationException("The slab header layout does not match the offsets the header is checked against.");
    }

    [UnmanagedCallersOnly(EntryPoint = "fb__arena_create_layout")]
    public static int ArenaCreateLayout(FbOptions* options, nint* result, uint version, uint magazineSize, uint descSize, uint listSize, uint slabSize)
    {
        // The version first: a header of another version may not pass a slab size at all.
        if (version != Magazine.LayoutVersion || magazineSize != Magazine.HeaderBytes
            || descSize != sizeof(PageDescriptor) || listSize != sizeof(MagazineList) || slabSize != SlabHeader.Bytes)
        {
            if (result != null)
                *result = 0;
            return Fail(InvalidArgument, $"fastbuddy.h describes layout version {version} (magazine {magazineSize} B, page " +
                $"descriptor {descSize} B, list {listSize} B) but this library has version {Magazine.LayoutVersion} " +
                $"({Magazine.HeaderBytes} B, {sizeof(PageDescriptor)} B, {sizeof(MagazineList)} B, slab {SlabHeader.Bytes} B): rebuild against its header.");
        }
        return ArenaExports.Create(options, result);
    }

    /// <summary>The library's value of a layout field (see fb__layout_field), or -1 for an unknown field.</summary>
    [UnmanagedCallersOnly(EntryPoint = "fb__layout_offset")]
    public static long LayoutOffset(uint field) => field < (uint)s_offsets.Length ? s_offsets[field] : -1;

    [UnmanagedCallersOnly(EntryPoint = "fb__alloc_pages_miss")]
    public static void* AllocPagesMiss(nint arena, uint order, uint flags, Magazine** tls)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return FailNull(InvalidArgument, NotAnArena);
        try
        {
            void* block = handle.Arena.AllocPages((int)order, (AllocFlags)flags);
            Hand(handle.Arena, tls);
            return block != null ? block : AllocationFailed();
        }
        catch (Exception e)
        {
            return FailNull(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb__free_pages_miss")]
    public static int FreePagesMiss(nint arena, void* block, uint order, Magazine** tls)
    {
        ArenaHandle? handle = HandleTable.Find(arena);
        if (handle is null)
            return Fail(InvalidArgument, NotAnArena);
        try
        {
            handle.Arena.FreePages(block, (int)order);
            Hand(handle.Arena, tls);
            return Ok;
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fb__alloc_miss")]
    public static void* AllocMiss(nint arena, nuint bytes, uint flags, Magazine** tls) => PageExports.AllocHanding(arena, bytes, flags, tls);

    [UnmanagedCallersOnly(EntryPoint = "fb__free_miss")]
    public static int FreeMiss(nint arena, void* p, Magazine** tls) => PageExports.FreeHanding(arena, p, tls);

    /// <summary>Points the header's thread-local at the calling thread's magazine of this arena (when it has one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Hand(BuddyArena arena, Magazine** tls)
    {
        if (tls != null)
            *tls = arena.ThreadMagazine();
    }
}
