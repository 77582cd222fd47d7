using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace FastBuddy.Native;

/// <summary>
/// Statuses at the C boundary: the calling thread's last status (fb_last_error), the mapping of managed exceptions
/// to FB_ERR_* values, and the static strings of fb_strerror.
/// </summary>
/// <remarks>
/// No managed exception may cross into C: every export ends in a catch that comes here. The statuses have the
/// values of <see cref="FastBuddyStatus"/>, which fastbuddy.h repeats as FB_OK / FB_ERR_*.
/// </remarks>
internal static unsafe class NativeStatus
{
    public const int Ok = (int)FastBuddyStatus.Ok;
    public const int InvalidArgument = (int)FastBuddyStatus.InvalidArgument;
    public const int NoMemory = (int)FastBuddyStatus.NoMemory;
    public const int Corrupt = (int)FastBuddyStatus.Corrupt;
    public const int Reclaimed = (int)FastBuddyStatus.Reclaimed;

    /// <summary>The reason given for a bad handle.</summary>
    public const string NotAnArena = "The fb_arena* is not a live arena: NULL, destroyed, or not from fb_arena_create.";

    // The status itself lives in the library's per-thread state (BuddyArena.LastError), which a successful
    // allocation already resets to Ok: the C hot path writes no thread-local of its own.
    [ThreadStatic] private static string? t_reason;
    [ThreadStatic] private static byte[]? t_message;

    /// <summary>fb_last_error: the calling thread's last recorded status (FB_OK again after a successful allocation).</summary>
    public static int Last => (int)BuddyArena.LastError;

    /// <summary>Records <paramref name="status"/> (and why, for fb_last_error_message) and returns it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Fail(int status, string? reason = null)
    {
        BuddyArena.LastError = (FastBuddyStatus)status;
        t_reason = reason;
        return status;
    }

    /// <summary>Records the status an exception stands for, with its message, and returns it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Fail(Exception e) => Fail(FromException(e), e.Message);

    /// <summary>An allocation returned null: record why (the arena's LastError) and return null.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void* AllocationFailed()
    {
        FastBuddyStatus why = BuddyArena.LastError;
        Fail(why == FastBuddyStatus.Ok ? NoMemory : (int)why);
        return null;
    }

    /// <summary>Records a status for a call that returns a count or a size, and returns 0.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint FailZero(int status, string? reason = null)
    {
        Fail(status, reason);
        return 0;
    }

    /// <summary>Records a status for a call that returns a pointer, and returns null.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void* FailNull(int status, string? reason = null)
    {
        Fail(status, reason);
        return null;
    }

    /// <summary>Records the status an exception stands for, for a call that returns a pointer, and returns null.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void* FailNull(Exception e)
    {
        Fail(e);
        return null;
    }

    /// <summary>
    /// fb_last_error_message: "" while the last status is FB_OK; the recorded reason, rendered into this thread's
    /// pinned buffer; or the status's static description when no reason was given.
    /// </summary>
    public static byte* LastMessage()
    {
        if (Last == Ok)
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("\0"u8));
        string? reason = t_reason;
        if (reason is null)
            return Describe(Last);
        try
        {
            byte[] buffer = t_message ??= GC.AllocateArray<byte>(1024, pinned: true);
            Utf8.FromUtf16(reason, buffer.AsSpan(0, buffer.Length - 1), out _, out int written);
            buffer[written] = 0;
            return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        }
        catch (OutOfMemoryException)
        {
            return Describe(Last);
        }
    }

    /// <summary>
    /// Bad input is a <see cref="FastBuddyException"/> carrying its status; a destroyed arena or any other
    /// argument problem is FB_ERR_INVALID_ARGUMENT; the operating system refusing memory is FB_ERR_NO_MEMORY.
    /// Anything else is unexpected inside the library and reported as FB_ERR_CORRUPT.
    /// </summary>
    public static int FromException(Exception e) => e switch
    {
        FastBuddyException f => (int)f.Status,
        ObjectDisposedException => InvalidArgument,
        ArgumentException => InvalidArgument,
        OverflowException => InvalidArgument,
        OutOfMemoryException or InsufficientMemoryException => NoMemory,
        _ => Corrupt,
    };

    /// <summary>fb_strerror: NUL-terminated UTF-8 literals, which live in the image's read-only data and never move.</summary>
    public static byte* Describe(int status)
    {
        ReadOnlySpan<byte> text = status switch
        {
            0 => "success\0"u8,
            1 => "invalid argument (bad value, bad option, NULL, or not a live arena handle)\0"u8,
            2 => "out of memory: the allocation policy refused the request\0"u8,
            3 => "pointer not owned by this arena\0"u8,
            4 => "not the head of a block (interior or misaligned pointer)\0"u8,
            5 => "double free: the block is already free\0"u8,
            6 => "order mismatch: the block was allocated with another order\0"u8,
            7 => "corrupt: an internal invariant is broken\0"u8,
            8 => "busy: the page is in the page cache\0"u8,
            9 => "reclaimed: the arena has taken the page back\0"u8,
            _ => "unknown status\0"u8,
        };
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(text));
    }

    /// <summary>fb_version.</summary>
    public static byte* Version => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference("0.1.0\0"u8));
}
