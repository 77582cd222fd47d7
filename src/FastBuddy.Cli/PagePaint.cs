using System.Globalization;

namespace FastBuddy.Cli;

// The colours of the page map: one class per free order (light to dark green, small to large blocks) and one per
// other page state. Class names are short because the SVG has one rect per page.
internal static class PagePaint
{
    public const byte None = byte.MaxValue;

    private static readonly (PageState State, string Class, string Fill, string Label)[] States =
    [
        (PageState.Allocated, "al", "#8c8c8c", "allocated"),
        (PageState.Active, "ac", "#f28e2b", "page cache: active"),
        (PageState.InactiveDirty, "id", "#e15759", "page cache: inactive_dirty"),
        (PageState.InactiveClean, "ic", "#edc948", "page cache: inactive_clean"),
        (PageState.PerThread, "pt", "#9467bd", "per-thread (per-CPU) list"),
    ];

    // The paint index of a page: its free order, or maxOrder + the position of its state above.
    public static byte Of(PageState state, byte order, int maxOrder)
    {
        if (state == PageState.Free)
            return order;
        for (int i = 0; i < States.Length; i++)
        {
            if (States[i].State == state)
                return (byte)(maxOrder + i);
        }
        return None;
    }

    public static int Count(int maxOrder) => maxOrder + States.Length;

    public static string Class(int paint, int maxOrder)
        => paint < maxOrder ? "f" + paint.ToString(CultureInfo.InvariantCulture) : States[paint - maxOrder].Class;

    public static string Label(int paint, int maxOrder)
        => paint < maxOrder ? $"free, order {paint} ({1 << paint} {(paint == 0 ? "page" : "pages")})" : States[paint - maxOrder].Label;

    public static string Fill(int paint, int maxOrder)
    {
        if (paint >= maxOrder)
            return States[paint - maxOrder].Fill;
        // From #c7e9c0 (order 0) to #00441b (the largest order).
        double t = maxOrder == 1 ? 1 : (double)paint / (maxOrder - 1);
        int r = Lerp(0xc7, 0x00, t), g = Lerp(0xe9, 0x44, t), b = Lerp(0xc0, 0x1b, t);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    private static int Lerp(int from, int to, double t) => (int)Math.Round(from + (to - from) * t);
}
