using System.Runtime.InteropServices;

namespace FastBuddy.Native;

/// <summary>fb_last_error, fb_last_error_message, fb_strerror, fb_version.</summary>
internal static unsafe class StatusExports
{
    [UnmanagedCallersOnly(EntryPoint = "fb_last_error")]
    public static int LastError() => NativeStatus.Last;

    [UnmanagedCallersOnly(EntryPoint = "fb_last_error_message")]
    public static byte* LastErrorMessage() => NativeStatus.LastMessage();

    [UnmanagedCallersOnly(EntryPoint = "fb_strerror")]
    public static byte* StrError(int status) => NativeStatus.Describe(status);

    [UnmanagedCallersOnly(EntryPoint = "fb_version")]
    public static byte* Version() => NativeStatus.Version;
}
