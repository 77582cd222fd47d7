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
            PerCpuPages = defaults.PerCpuPages,
            PerCpuBatch = defaults.PerCpuBatch,
            PerCpuOrders = defaults.PerCpuOrders,
            DecommitAfterMs = -1,
            DecommitMinOrder = -1,
            GuardPages = defaults.GuardPages ? 1 : 0,
            TransparentHugePages = defaults.TransparentHugePages ? 1 : 0,
        };
    }

    /// <summary>
    /// Reads the caller's fb_options into <see cref="ArenaOptions"/>: the defaults, overwritten by the first
    /// struct_size bytes of the caller's struct (so a host built against an older, smaller fb_options gets the
    /// defaults for the fields it does not know). Checks what only the C shape can get wrong (sizes, NULLs,
    /// reserved fields, values beyond int); the arena checks the rest.
    /// </summary>
    /// <returns>null, or what is wrong (FB_ERR_INVALID_ARGUMENT), with <paramref name="result"/> null.</returns>
    public static string? TryRead(FbOptions* options, out ArenaOptions? result, out NativeOutOfMemoryHandler? outOfMemory)
    {
        result = null;
        outOfMemory = null;
        uint size = options->StructSize;
        if (size < FbOptions.MinSize)
            return $"fb_options.struct_size is {size}: call fb_options_init first (it needs at least {FbOptions.MinSize}).";
        FbOptions o;
        WriteDefaults(&o);
        Buffer.MemoryCopy(options, &o, sizeof(FbOptions), Math.Min(size, (uint)sizeof(FbOptions)));

        if (o.Reserved0 != 0 || o.Reserved1 != 0 || o.Reserved2 != 0)
            return "The reserved fields of fb_options must be 0 (call fb_options_init first).";
        if (o.PageSize > int.MaxValue || o.MaxOrder > int.MaxValue)
            return $"page_size {o.PageSize} or max_order {o.MaxOrder} is out of range.";
        if (o.ZoneCount > 0 && o.Zones == null)
            return $"zone_count is {o.ZoneCount} but zones is NULL.";

        ArenaOptions managed = new()
        {
            PageSize = (int)o.PageSize,
            MaxOrder = (int)o.MaxOrder,
            ArenaBytes = o.ArenaBytes,
            BackgroundReclaim = o.BackgroundReclaim != 0,
            AllocWaitTimeout = o.AllocWaitMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(o.AllocWaitMs),
            BalanceRatio = o.BalanceRatio,
            LowestZoneBalanceRatio = o.LowestZoneBalanceRatio,
            BalanceMin = o.BalanceMin,
            BalanceMax = o.BalanceMax,
            PerCpuPages = o.PerCpuPages,
            PerCpuBatch = o.PerCpuBatch,
            PerCpuOrders = o.PerCpuOrders,
            DecommitAfter = o.DecommitAfterMs < 0 ? null : TimeSpan.FromMilliseconds(o.DecommitAfterMs),
            DecommitMinOrder = o.DecommitMinOrder < 0 ? null : o.DecommitMinOrder,
            GuardPages = o.GuardPages != 0,
            TransparentHugePages = o.TransparentHugePages != 0,
        };
        for (uint i = 0; i < o.ZoneCount; i++)
        {
            FbZoneOptions* zone = &o.Zones[i];
            if (zone->Name == null)
                return $"Zone {i} has no name (NULL).";
            string name = Marshal.PtrToStringUTF8((nint)zone->Name)!;
            managed.Zones.Add(new ZoneOptions(name, zone->Bytes)
            {
                PagesMin = zone->PagesMin == 0 ? null : zone->PagesMin,
            });
        }
        if (o.Log != null)
            managed.Logger = new NativeLogger(o.Log, o.LogContext);
        if (o.OutOfMemory != null)
        {
            outOfMemory = new NativeOutOfMemoryHandler(o.OutOfMemory, o.OutOfMemoryContext);
            managed.OutOfMemory = outOfMemory.Invoke;
        }
        result = managed;
        return null;
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
        // Logging runs inside the arena's own code paths: it must never throw into them.
        try
        {
            string message = formatter(state, exception);
            if (exception is not null)
                message = $"{message} ({exception.GetType().Name}: {exception.Message})";
            byte[] utf8 = new byte[Encoding.UTF8.GetMaxByteCount(message.Length) + 1];
            int length = Encoding.UTF8.GetBytes(message, utf8);
            utf8[length] = 0;
            fixed (byte* text = utf8)
                callback(context, (int)logLevel, text);
        }
        catch (Exception)
        {
            // A message that cannot be formatted or encoded is dropped.
        }
    }
}
