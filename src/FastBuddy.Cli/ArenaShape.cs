using Microsoft.Extensions.Logging;

namespace FastBuddy.Cli;

// The arena every verb builds: zone "DMA" (omitted when its size is 0) below zone "Normal", without background
// reclaim, so that a seeded run does the same thing every time (kswapd's passes run at fixed points instead).
internal sealed record ArenaShape(ByteSize Dma, ByteSize Normal, int PageSize, int MaxOrder)
{
    public BuddyArena Create(ILogger? logger)
    {
        var options = new ArenaOptions
        {
            PageSize = PageSize,
            MaxOrder = MaxOrder,
            BackgroundReclaim = false,
            // One thread does all the work, so no free can come while a Kernel request waits for one: keep it short.
            AllocWaitTimeout = TimeSpan.FromMilliseconds(20),
            Logger = logger,
        };
        if (Dma.Bytes > 0)
            options.Zones.Add(new ZoneOptions("DMA", (nuint)Dma.Bytes));
        options.Zones.Add(new ZoneOptions("Normal", (nuint)Normal.Bytes));
        return new BuddyArena(options);
    }

    public string Describe()
        => (Dma.Bytes > 0 ? $"zones DMA {Dma} + Normal {Normal}" : $"one zone Normal {Normal}") +
           $", {PageSize}-byte pages, {MaxOrder} orders, background reclaim off";
}
