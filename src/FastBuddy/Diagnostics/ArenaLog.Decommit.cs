using Microsoft.Extensions.Logging;

namespace FastBuddy.Diagnostics;

// The decommit step's event (kswapd's background work, never the allocation path).
internal static partial class ArenaLog
{
    [LoggerMessage(EventId = 40, EventName = "Decommitted", Level = LogLevel.Information,
        Message = "Decommitted {Blocks} free blocks ({Bytes} bytes) of zone {Zone}; {Committed} bytes of the zone stay committed.")]
    public static partial void Decommitted(ILogger logger, string zone, long blocks, long bytes, long committed);
}
