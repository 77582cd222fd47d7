using System.Numerics;
using FastBuddy.Policy;

namespace FastBuddy.Buddy;

/// <summary>The checked shape of an arena: page size, orders and each zone's pages and watermarks.</summary>
/// <remarks>All option checking happens here, before any memory is taken, so bad options change nothing.</remarks>
internal sealed class ArenaLayout
{
    public required int PageShift { get; init; }
    public required int MaxOrder { get; init; }
    public required ZoneLayout[] Zones { get; init; }
    public required ZoneMemoryOptions Memory { get; init; }

    internal readonly record struct ZoneLayout(string Name, int Pages, Watermarks Watermarks);

    public static ArenaLayout From(ArenaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int pageSize = options.PageSize;
        if (pageSize < 64 || pageSize > 1 << 20 || !BitOperations.IsPow2(pageSize))
            Bad($"PageSize must be a power of two from 64 to 1048576 bytes; got {pageSize}.", nameof(options.PageSize));
        if (options.MaxOrder < 1 || options.MaxOrder > BuddyArena.MaxOrderLimit)
            Bad($"MaxOrder must be from 1 to {BuddyArena.MaxOrderLimit}; got {options.MaxOrder}.", nameof(options.MaxOrder));
        if (options.BalanceRatio < 1 || options.LowestZoneBalanceRatio < 1)
            Bad("BalanceRatio and LowestZoneBalanceRatio must be positive.", nameof(options.BalanceRatio));
        if (options.BalanceMin < 0 || options.BalanceMin > options.BalanceMax)
            Bad($"BalanceMin ({options.BalanceMin}) must be from 0 to BalanceMax ({options.BalanceMax}).", nameof(options.BalanceMin));
        if (options.AllocWaitTimeout < TimeSpan.Zero && options.AllocWaitTimeout != Timeout.InfiniteTimeSpan)
            Bad("AllocWaitTimeout must be zero or more, or Timeout.InfiniteTimeSpan.", nameof(options.AllocWaitTimeout));
        if (options.DecommitAfter < TimeSpan.Zero)
            Bad($"DecommitAfter must be zero or more, or null (never); got {options.DecommitAfter}.", nameof(options.DecommitAfter));
        if (options.DecommitMinOrder is int minOrder && (minOrder < 0 || minOrder >= options.MaxOrder))
            Bad($"DecommitMinOrder must be from 0 to MaxOrder - 1 ({options.MaxOrder - 1}), or null; got {minOrder}.", nameof(options.DecommitMinOrder));

        // PerCpuOrders above MaxOrder is capped at MaxOrder (the default, 9, must work with any MaxOrder).
        if (options.PerCpuPages < 0 || options.PerCpuBatch < 1 || options.PerCpuOrders < 0)
            Bad($"PerCpuPages must be 0 or more, PerCpuBatch at least 1, and PerCpuOrders 0 or more; got {options.PerCpuPages}/{options.PerCpuBatch}/{options.PerCpuOrders}.", nameof(options.PerCpuPages));

        IList<ZoneOptions> zones = options.Zones;
        if (zones.Count > 0 && options.ArenaBytes != 0)
            Bad("Give either Zones or ArenaBytes, not both.", nameof(options.ArenaBytes));
        if (zones.Count == 0)
        {
            if (options.ArenaBytes == 0)
                Bad("The arena needs a size: set ArenaBytes or add Zones.", nameof(options.ArenaBytes));
            zones = [new ZoneOptions("Normal", options.ArenaBytes)];
        }

        int shift = BitOperations.Log2((uint)pageSize);
        var result = new ZoneLayout[zones.Count];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < zones.Count; i++)
        {
            ZoneOptions z = zones[i] ?? throw Error("Zones must not contain null.", nameof(options.Zones));
            if (string.IsNullOrEmpty(z.Name))
                Bad($"Zone {i} needs a name.", nameof(options.Zones));
            if (!names.Add(z.Name))
                Bad($"Zone name '{z.Name}' is used twice.", nameof(options.Zones));
            ulong pages = z.Bytes >> shift;
            if (pages == 0)
                Bad($"Zone '{z.Name}' holds no whole page ({z.Bytes} bytes, page size {pageSize}).", nameof(options.Zones));
            if (pages >= int.MaxValue)
                Bad($"Zone '{z.Name}' has {pages} pages; at most {int.MaxValue - 1} per zone.", nameof(options.Zones));
            int ratio = zones.Count > 1 && i == 0 ? options.LowestZoneBalanceRatio : options.BalanceRatio;
            Watermarks? w = Watermarks.Resolve(z, (long)pages, ratio, options, out string? error);
            if (w is null)
                Bad(error!, nameof(options.Zones));
            result[i] = new ZoneLayout(z.Name, (int)pages, w.Value);
        }
        var memory = new ZoneMemoryOptions(options.GuardPages, options.TransparentHugePages,
            CommitMap.UnitOrderFor(shift, options.MaxOrder, options.DecommitMinOrder), options.DecommitAfter is not null);
        return new ArenaLayout { PageShift = shift, MaxOrder = options.MaxOrder, Zones = result, Memory = memory };
    }

    private static FastBuddyException Error(string message, string param)
        => new(FastBuddyStatus.InvalidArgument, message, param);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Bad(string message, string param) => ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument, message, param);
}
