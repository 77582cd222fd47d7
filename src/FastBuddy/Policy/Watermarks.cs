namespace FastBuddy.Policy;

/// <summary>The 2.4 watermark rule and its explicit overrides.</summary>
/// <remarks>
/// 2.4's <c>free_area_init_core</c> sets <c>m = zone pages / zone_balance_ratio</c>, clamped to
/// <c>[zone_balance_min, zone_balance_max]</c>, and gives pages_min = m, pages_low = 2m, pages_high = 3m. The lowest
/// zone of several uses its own (smaller) ratio, as ZONE_DMA did. We also cap m at zone pages / 16 so that small
/// zones stay usable. Explicit values override the rule; PagesMin alone implies low = 2 x min, high = 3 x min.
/// </remarks>
internal readonly record struct Watermarks(long Min, long Low, long High)
{
    public static Watermarks Compute(long pages, int ratio, int balanceMin, int balanceMax)
    {
        long m = Math.Clamp(pages / ratio, balanceMin, balanceMax);
        m = Math.Min(m, pages / 16);
        return new Watermarks(m, 2 * m, 3 * m);
    }

    /// <summary>Resolves a zone's watermarks; returns null and a reason when explicit ones are inconsistent.</summary>
    public static Watermarks? Resolve(ZoneOptions zone, long pages, int ratio, ArenaOptions options, out string? error)
    {
        error = null;
        if (zone.PagesMin is null)
        {
            if (zone.PagesLow is not null || zone.PagesHigh is not null)
            {
                error = $"Zone '{zone.Name}': PagesLow/PagesHigh need PagesMin.";
                return null;
            }
            return Compute(pages, ratio, options.BalanceMin, options.BalanceMax);
        }
        long min = zone.PagesMin.Value;
        long low = zone.PagesLow ?? 2 * min;
        long high = zone.PagesHigh ?? Math.Max(3 * min, low);
        if (min < 1 || min > low || low > high || high > pages)
        {
            error = $"Zone '{zone.Name}': watermarks must satisfy 1 <= min <= low <= high <= zone pages ({pages}); got {min}/{low}/{high}.";
            return null;
        }
        return new Watermarks(min, low, high);
    }
}
