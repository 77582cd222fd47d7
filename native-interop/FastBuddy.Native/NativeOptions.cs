using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FastBuddy.Native;

/// <summary>fb_options ⇄ <see cref="ArenaOptions"/>: the defaults of fb_options_init and the reading of fb_arena_create.</summary>
internal static unsafe class NativeOptions
{
    /// <summary>fb_options_init: the C# defaults, written as the whole fb_options of this version.</summary>
    public static void WriteDefaults(FbOptions* options)
    {
        ArenaOptions defaults = new();
        *options = new FbOptions
        {
            StructSize = (uint)sizeof(FbOptions),
            PageSize = (uint)defaults.PageSize,
            MaxOrder = (uint)defaults.MaxOrder,
            BackgroundReclaim = defaults.BackgroundReclaim ? 1 : 0,
            AllocWaitMs = defaults.AllocWaitTimeout == Timeout.InfiniteTimeSpan
                ? -1
                : (long)defaults.AllocWaitTimeout.TotalMilliseconds,
            BalanceRatio = defaults.BalanceRatio,
            LowestZoneBalanceRatio = defaults.LowestZoneBalanceRatio,
            BalanceMin = defaults.BalanceMin,
            BalanceMax = defaults.BalanceMax,
        };
    }

    /// <summary>
    /// Reads the caller's fb_options (only struct_size bytes of it) into <see cref="ArenaOptions"/>. Checks what only
    /// the C shape can get wrong (sizes, NULLs, reserved fields, values beyond int); the arena checks the rest.
    /// </summary>
    /// <returns>FB_OK, or FB_ERR_INVALID_ARGUMENT with <paramref name="result"/> null.</returns>
    public static int TryRead(FbOptions* options, out ArenaOptions? result, out NativeOutOfMemoryHandler? outOfMemory)
    {
        result = null;
        outOfMemory = null;
        uint size = options->StructSize;
        if (size < FbOptions.MinSize)
            return NativeStatus.InvalidArgument;
        FbOptions o = default;
        Buffer.MemoryCopy(options, &o, sizeof(FbOptions), Math.Min(size, (uint)sizeof(FbOptions)));

        if (o.Reserved0 != 0 || o.PageSize > int.MaxValue || o.MaxOrder > int.MaxValue)
            return NativeStatus.InvalidArgument;
        if (o.ZoneCount > 0 && o.Zones == null)
            return NativeStatus.InvalidArgument;

        ArenaOptions managed = new()
        {
            PageSize = (int)o.PageSize,
            MaxOrder = (int)o.MaxOrder,
            ArenaBytes = o.ArenaBytes,
            BackgroundReclaim = o.BackgroundReclaim != 0,
            AllocWaitTimeout = o.AllocWaitMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(o.AllocWaitMs),
        };
        for (uint i = 0; i < o.ZoneCount; i++)
        {
            FbZoneOptions* zone = &o.Zones[i];
            if (zone->Name == null)
                return NativeStatus.InvalidArgument;
            string name = Marshal.PtrToStringUTF8((nint)zone->Name)!;
            managed.Zones.Add(new ZoneOptions(name, zone->Bytes)
            {
                PagesMin = zone->PagesMin == 0 ? null : zone->PagesMin,
            });
        }
        if (o.BalanceRatio != 0)
            managed.BalanceRatio = o.BalanceRatio;
        if (o.LowestZoneBalanceRatio != 0)
            managed.LowestZoneBalanceRatio = o.LowestZoneBalanceRatio;
        if (o.BalanceMin != 0)
            managed.BalanceMin = o.BalanceMin;
        if (o.BalanceMax != 0)
            managed.BalanceMax = o.BalanceMax;
        if (o.Log != null)
            managed.Logger = new NativeLogger(o.Log, o.LogContext);
        if (o.OutOfMemory != null)
        {
            outOfMemory = new NativeOutOfMemoryHandler(o.OutOfMemory, o.OutOfMemoryContext);
            managed.OutOfMemory = outOfMemory.Invoke;
        }
        result = managed;
        return NativeStatus.Ok;
    }
}

/// <summary>fb_options.out_of_memory as an <see cref="OutOfMemoryHandler"/>; it learns its arena's handle after creation.</summary>
internal sealed unsafe class NativeOutOfMemoryHandler(delegate* unmanaged<void*, nint, uint, uint, int> callback, void* context)
{
    /// <summary>The fb_arena* passed to the callback (set once the arena is registered).</summary>
    public nint Handle { get; set; }

    public bool Invoke(BuddyArena arena, int order, AllocFlags flags) => callback(context, Handle, (uint)order, (uint)flags) != 0;
}

/// <summary>fb_options.log as an <see cref="ILogger"/>: each message formatted, UTF-8 encoded and NUL-terminated.</summary>
internal sealed unsafe class NativeLogger(delegate* unmanaged<void*, int, byte*, void> callback, void* context) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
            return;
        string message = formatter(state, exception);
        if (exception is not null)
            message = $"{message} ({exception.GetType().Name}: {exception.Message})";
        byte[] utf8 = new byte[Encoding.UTF8.GetMaxByteCount(message.Length) + 1];
        int length = Encoding.UTF8.GetBytes(message, utf8);
        utf8[length] = 0;
        fixed (byte* text = utf8)
            callback(context, (int)logLevel, text);
    }
}
