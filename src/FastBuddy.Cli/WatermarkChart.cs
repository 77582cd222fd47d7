using System.Text;

namespace FastBuddy.Cli;

// Each zone's free pages drawn against its watermarks: a bar from 0 to 2 x pages_high, '#' up to the free pages,
// 'm', 'l' and 'h' where pages_min, pages_low and pages_high fall, '>' when the free pages are beyond the scale.
internal static class WatermarkChart
{
    public const int Width = 48;

    public static void Print(TextWriter output, ArenaStats stats)
    {
        output.WriteLine($"watermarks (bar: 0 .. 2 x pages_high; # = free pages; m, l, h = pages_min, pages_low, pages_high):");
        int nameWidth = stats.Zones.Max(z => z.Name.Length);
        foreach (ZoneStats z in stats.Zones)
            output.WriteLine($"  {z.Name.PadRight(nameWidth)} [{Bar(z)}] free {z.FreePages,6}  {Band(z)}");
    }

    public static string Bar(ZoneStats z, int width = Width)
    {
        long scale = Math.Max(2 * z.PagesHigh, 1);
        var bar = new StringBuilder(width);
        int filled = Position(z.FreePages, scale, width);
        for (int i = 0; i < width; i++)
            bar.Append(i < filled ? '#' : '.');
        bar[Position(z.PagesMin, scale, width)] = 'm';
        bar[Position(z.PagesLow, scale, width)] = 'l';
        bar[Position(z.PagesHigh, scale, width)] = 'h';
        if (z.FreePages > scale)
            bar[width - 1] = '>';
        return bar.ToString();
    }

    // Where the policy stands for this zone.
    public static string Band(ZoneStats z) =>
        z.FreePages < z.PagesMin ? "below pages_min"
        : z.FreePages < z.PagesLow ? "between pages_min and pages_low"
        : z.FreePages < z.PagesHigh ? "between pages_low and pages_high"
        : "above pages_high";

    private static int Position(long value, long scale, int width) => (int)Math.Min(width - 1, value * width / scale);
}
