using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace FastBuddy.Cli.Tests;

/// <summary>map --svg: a well-formed SVG with one rect per page, coloured by state, and a legend.</summary>
public sealed class MapSvgTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"fastbuddy-map-{Guid.NewGuid():n}.svg");

    public void Dispose() => File.Delete(_path);

    private (XDocument Svg, CliResult Result) Map(params string[] extra)
    {
        CliResult result = Cli.RunOk(["map", "--svg", _path, "--steps", Cli.ShortChurn, .. extra]);
        return (XDocument.Load(_path), result);
    }

    private static Dictionary<string, string> Fills(XDocument svg)
    {
        string css = svg.Root!.Element(Svg + "style")!.Value;
        return Regex.Matches(css, @"\.(\w+)\{fill:(#[0-9a-f]{6})\}").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
    }

    private static List<XElement> PageRects(XDocument svg)
        => svg.Root!.Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "zone").SelectMany(g => g.Elements(Svg + "rect")).ToList();

    [Fact]
    public void Map_HasOneRectPerPage_InOneGroupPerZone()
    {
        (XDocument svg, _) = Map();

        var zones = svg.Root!.Elements(Svg + "g").Where(g => (string?)g.Attribute("class") == "zone").ToList();
        Assert.Equal(["DMA", "Normal"], zones.Select(z => (string)z.Attribute("data-zone")!).ToArray());
        Assert.Equal(4096, zones[0].Elements(Svg + "rect").Count());
        Assert.Equal(12288, zones[1].Elements(Svg + "rect").Count());
        // No two pages share a square.
        Assert.Equal(16384, PageRects(svg).Select(r => ((string)r.Attribute("x")!, (string)r.Attribute("y")!, r.Parent)).Distinct().Count());
    }

    [Fact]
    public void EveryState_HasItsOwnColour_AndALegendEntry()
    {
        (XDocument svg, _) = Map();
        Dictionary<string, string> fills = Fills(svg);

        string[] expected = [.. Enumerable.Range(0, 11).Select(o => "f" + o), "al", "ac", "id", "ic", "pt"];
        Assert.Equal(expected.Order(), fills.Keys.Order());
        Assert.Equal(fills.Count, fills.Values.Distinct().Count());
        XElement legend = svg.Root!.Elements(Svg + "g").Single(g => (string?)g.Attribute("id") == "legend");
        Assert.Equal(expected, legend.Elements(Svg + "rect").Select(r => (string)r.Attribute("class")!).ToArray());
        string[] labels = legend.Elements(Svg + "text").Select(t => t.Value).ToArray();
        foreach (string label in new[] { "free, order 0 (1 page)", "free, order 3 (8 pages)", "allocated", "page cache: active", "page cache: inactive_dirty",
                                          "page cache: inactive_clean", "per-thread (per-CPU) list" })
            Assert.Contains(label, labels);
        Assert.All(PageRects(svg), r => Assert.True(fills.ContainsKey((string)r.Attribute("class")!)));
    }

    [Fact]
    public void FragmentWorkload_ShowsEveryNonFreeState_AndSmallFreeBlocks()
    {
        (XDocument svg, _) = Map("--workload", "fragment");

        var classes = PageRects(svg).Select(r => (string)r.Attribute("class")!).ToHashSet();
        foreach (string state in new[] { "al", "ac", "id", "ic", "f0" })
            Assert.Contains(state, classes);
    }

    [Fact]
    public void ChurnWorkload_ShowsPagesParkedInPerThreadMagazines()
    {
        // A free parks only while its zone is above pages_low, so the parked pages show after plentiful churn
        // (under the fragment workload's pressure, frees go straight back to the zones).
        (XDocument svg, _) = Map("--workload", "churn");

        Assert.Contains("pt", PageRects(svg).Select(r => (string)r.Attribute("class")!).ToHashSet());
    }

    [Fact]
    public void FreeSquares_MatchTheFreeBlocksThatMapPrints()
    {
        (XDocument svg, CliResult result) = Map("--workload", "churn");

        var dma = PageRects(svg).Take(4096).ToList();
        string line = result.Lines.Single(l => l.StartsWith("  DMA: free blocks per order: ", StringComparison.Ordinal));
        long[] blocks = line["  DMA: free blocks per order: ".Length..].Split(' ').Select(long.Parse).ToArray();
        for (int order = 0; order < blocks.Length; order++)
            Assert.Equal(blocks[order] << order, dma.Count(r => (string)r.Attribute("class")! == "f" + order));
    }

    [Fact]
    public void FreshArena_IsAllLargestFreeBlocks()
    {
        (XDocument svg, _) = Map("--workload", "fresh");

        Assert.All(PageRects(svg), r => Assert.Equal("f10", (string)r.Attribute("class")!));
    }

    [Fact]
    public void Columns_SetThePagesPerRow()
    {
        (XDocument svg, _) = Map("--workload", "fresh", "--columns", "64");

        List<XElement> dma = PageRects(svg).Take(4096).ToList();
        Assert.Equal(64, dma.Select(r => (string)r.Attribute("x")!).Distinct().Count());
        Assert.Equal(64, dma.Select(r => (string)r.Attribute("y")!).Distinct().Count());
    }
}
