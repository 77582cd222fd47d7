using System.Globalization;
using System.Text;

namespace FastBuddy.Cli;

// Renders ArenaStats like /proc/buddyinfo plus the zone's watermarks and page-cache lists: one row per zone, one
// column per order (cell = free blocks of that order); "pcp" = pages parked in per-CPU lists (not counted as free).
internal static class BuddyInfoTable
{
    public static string Render(ArenaStats stats, int maxOrder)
    {
        var head = new List<string> { "zone", "pages", "free", "pcp", "min", "low", "high", "active", "dirty", "clean" };
        int fixedColumns = head.Count;
        for (int order = 0; order < maxOrder; order++)
            head.Add("o" + order.ToString(CultureInfo.InvariantCulture));

        var rows = new List<string[]> { head.ToArray() };
        foreach (ZoneStats z in stats.Zones)
        {
            var row = new List<string>
            {
                z.Name, N(z.Pages), N(z.FreePages), N(z.PerCpuPages), N(z.PagesMin), N(z.PagesLow), N(z.PagesHigh),
                N(z.ActivePages), N(z.InactiveDirtyPages), N(z.InactiveCleanPages),
            };
            for (int order = 0; order < maxOrder; order++)
                row.Add(order < z.FreeBlocks.Count ? N(z.FreeBlocks[order]) : "-");
            rows.Add(row.ToArray());
        }
        rows.Add(
        [
            "total", N(stats.TotalPages), N(stats.FreePages), N(stats.PerCpuPages), N(stats.FreePagesMin), N(stats.FreePagesLow),
            N(stats.FreePagesHigh), N(stats.ActivePages), N(stats.InactiveDirtyPages), N(stats.InactiveCleanPages),
            .. Enumerable.Repeat("", maxOrder),
        ]);

        int columns = head.Count;
        var widths = new int[columns];
        foreach (string[] row in rows)
        {
            for (int c = 0; c < columns; c++)
                widths[c] = Math.Max(widths[c], row[c].Length);
        }

        var sb = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            if (r == 1 || r == rows.Count - 1)
                AppendRule(sb, widths, fixedColumns);
            AppendRow(sb, rows[r], widths, fixedColumns);
        }
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, string[] row, int[] widths, int fixedColumns)
    {
        for (int c = 0; c < row.Length; c++)
        {
            if (c == fixedColumns)
                sb.Append(" |");
            sb.Append(c == 0 ? row[c].PadRight(widths[c]) : " " + row[c].PadLeft(widths[c]));
        }
        sb.AppendLine();
    }

    private static void AppendRule(StringBuilder sb, int[] widths, int fixedColumns)
    {
        for (int c = 0; c < widths.Length; c++)
        {
            if (c == fixedColumns)
                sb.Append("-+");
            sb.Append('-', c == 0 ? widths[c] : widths[c] + 1);
        }
        sb.AppendLine();
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
