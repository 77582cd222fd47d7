using System.Runtime.InteropServices;

namespace FastBuddy.Platform;

/// <summary>The few Linux libc calls the arena makes: mmap, munmap, mprotect and madvise.</summary>
/// <remarks>
/// Source-generated P/Invoke (<see cref="LibraryImportAttribute"/>), so it needs no runtime marshalling and works
/// under NativeAOT. The constants are Linux's (the same on x86-64 and arm64); only <see cref="ArenaMemory"/>
/// calls these, and only when <see cref="OperatingSystem.IsLinux"/>.
/// </remarks>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    public const int ProtNone = 0x0;
    public const int ProtRead = 0x1;
    public const int ProtWrite = 0x2;

    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;

    public const int MadvDontNeed = 4;
    public const int MadvHugePage = 14;

    /// <summary>mmap's MAP_FAILED, (void*)-1.</summary>
    public static readonly void* MapFailed = (void*)-1;

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    [LibraryImport(Library, EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport(Library, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* address, nuint length, int advice);
}
