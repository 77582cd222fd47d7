using System.Text;
using CommunityToolkit.HighPerformance;
using CommunityToolkit.HighPerformance.Buffers;

namespace FastBuddy.Cli;

// The page map as SVG: per zone a label and a grid of pages (one rect per page, a fixed number of columns, page
// numbers left to right and top to bottom), coloured by state; the legend on the right. Written as UTF-8 into a
// pooled buffer; each zone's grid is laid out in a Span2D over a pooled array first.
internal static class MapSvg
{
    public const int Cell = 5;
    public const int Pitch = 6;
    private const int Margin = 12;
    private const int LabelHeight = 22;
    private const int LegendWidth = 260;

    public static byte[] Render(PageMap map, int columns, string title, string subtitle)
    {
        int maxOrder = map.MaxOrder;
        int gridWidth = columns * Pitch;
        int height = Margin + 2 * LabelHeight;
        foreach (ZonePageMap zone in map.Zones)
            height += LabelHeight + Rows(zone, columns) * Pitch + Margin;
        height = Math.Max(height, Margin + 2 * LabelHeight + PagePaint.Count(maxOrder) * 18 + Margin);
        int width = Margin + gridWidth + 24 + LegendWidth;

        using var buffer = new ArrayPoolBufferWriter<byte>(1 << 16);
        var svg = new Utf8Text(buffer);
        svg.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(width).Append("\" height=\"").Append(height)
           .Append("\" viewBox=\"0 0 ").Append(width).Append(' ' + height.ToString(System.Globalization.CultureInfo.InvariantCulture))
           .Append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        WriteStyle(svg, maxOrder);
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        svg.Append("<text x=\"").Append(Margin).Append("\" y=\"").Append(Margin + 12).Append("\" font-size=\"14\">")
           .Append(Escape(title)).Append("</text>\n");
        svg.Append("<text x=\"").Append(Margin).Append("\" y=\"").Append(Margin + 12 + LabelHeight).Append("\" fill=\"#555555\">")
           .Append(Escape(subtitle)).Append("</text>\n");

        int y = Margin + 2 * LabelHeight;
        foreach (ZonePageMap zone in map.Zones)
            y = WriteZone(svg, zone, columns, maxOrder, y);
        WriteLegend(svg, maxOrder, Margin + gridWidth + 24, Margin + 2 * LabelHeight);
        svg.Append("</svg>\n");
        return buffer.WrittenSpan.ToArray();
    }

    private static int Rows(ZonePageMap zone, int columns) => (zone.Pages + columns - 1) / columns;

    private static void WriteStyle(Utf8Text svg, int maxOrder)
    {
        svg.Append("<style>\n");
        for (int paint = 0; paint < PagePaint.Count(maxOrder); paint++)
            svg.Append('.' + PagePaint.Class(paint, maxOrder) + "{fill:" + PagePaint.Fill(paint, maxOrder) + "}\n");
        svg.Append("</style>\n");
    }

    private static int WriteZone(Utf8Text svg, ZonePageMap zone, int columns, int maxOrder, int y)
    {
        svg.Append("<text x=\"").Append(Margin).Append("\" y=\"").Append(y + 14).Append("\">zone ")
           .Append(Escape(zone.Name)).Append(": ").Append(zone.Pages).Append(" pages</text>\n");
        y += LabelHeight;
        int rows = Rows(zone, columns);
        using MemoryOwner<byte> cells = MemoryOwner<byte>.Allocate(rows * columns);
        Span2D<byte> grid = new(cells.DangerousGetArray().Array!, cells.DangerousGetArray().Offset, rows, columns, 0);
        grid.Fill(PagePaint.None);
        ReadOnlySpan<PageState> states = zone.States;
        ReadOnlySpan<byte> orders = zone.BlockOrders;
        for (int page = 0; page < states.Length; page++)
            grid[page / columns, page % columns] = PagePaint.Of(states[page], orders[page], maxOrder);

        svg.Append("<g class=\"zone\" data-zone=\"").Append(Escape(zone.Name)).Append("\">\n");
        for (int row = 0; row < rows; row++)
        {
            Span<byte> line = grid.GetRowSpan(row);
            for (int column = 0; column < line.Length; column++)
            {
                if (line[column] == PagePaint.None)
                    continue;
                svg.Append("<rect x=\"").Append(Margin + column * Pitch).Append("\" y=\"").Append(y + row * Pitch)
                   .Append("\" width=\"5\" height=\"5\" class=\"").Append(PagePaint.Class(line[column], maxOrder)).Append("\"/>\n");
            }
        }
        svg.Append("</g>\n");
        return y + rows * Pitch + Margin;
    }

    private static void WriteLegend(Utf8Text svg, int maxOrder, int x, int y)
    {
        svg.Append("<g id=\"legend\">\n");
        for (int paint = 0; paint < PagePaint.Count(maxOrder); paint++)
        {
            int top = y + paint * 18;
            svg.Append("<rect x=\"").Append(x).Append("\" y=\"").Append(top).Append("\" width=\"12\" height=\"12\" class=\"")
               .Append(PagePaint.Class(paint, maxOrder)).Append("\"/><text x=\"").Append(x + 18).Append("\" y=\"").Append(top + 10)
               .Append("\">").Append(Escape(PagePaint.Label(paint, maxOrder))).Append("</text>\n");
        }
        svg.Append("</g>\n");
    }

    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            sb.Append(c switch
            {
                '<' => "&lt;",
                '>' => "&gt;",
                '&' => "&amp;",
                '"' => "&quot;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
