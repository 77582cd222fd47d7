using System.Text.RegularExpressions;

namespace FastBuddy.Cli.Tests;

/// <summary>The demo's story as text: phases, legend, counters, watermarks, LRU lists, logger, the live fallback.</summary>
public sealed partial class DemoTextTests
{
    private static readonly Lazy<CliResult> Run = new(() => Cli.RunOk("demo", "--seed", "4", "--steps", Cli.ShortChurn));

    private static string[] Lines => Run.Value.Lines;

    [GeneratedRegex(@"^live  (?<phase>\w+)\s+(?<percent>\d+)% \[(?<bar>[#.]+)\] (?<zones>.+)$")]
    private static partial Regex LiveLine();

    [GeneratedRegex(@"^(?<zone>\w+) free (?<free>\d+) pcp (?<pcp>\d+) lru (?<a>\d+)/(?<d>\d+)/(?<c>\d+)$")]
    private static partial Regex LiveZone();

    [GeneratedRegex(@"^  (?<zone>\w+)\s+\[(?<bar>[#.mlh>]{48})\] free\s+(?<free>\d+)  (?<band>.+)$")]
    private static partial Regex WatermarkLine();

    [GeneratedRegex(@"^  (?<zone>\w+)\s+(?<list>active|inactive_dirty|inactive_clean)\s+(?<count>\d+)  (?<pages>.+)$")]
    private static partial Regex LruLine();

    [Fact]
    public void Demo_TellsFivePhases_InOrder()
    {
        string[] titles = Lines.Where(l => l.StartsWith("== phase ", StringComparison.Ordinal)).ToArray();

        Assert.Equal(5, titles.Length);
        Assert.StartsWith("== phase 1 of 5: churn", titles[0]);
        Assert.StartsWith("== phase 5 of 5: release", titles[4]);
    }

    [Fact]
    public void Demo_ExplainsTheColumns_BeforeTheFirstTable()
    {
        string output = Run.Value.Output;
        int legend = output.IndexOf("How to read the tables", StringComparison.Ordinal);

        Assert.True(legend >= 0 && legend < output.IndexOf("-- fresh arena", StringComparison.Ordinal));
        foreach (string term in new[] { "pcp", "min low high", "oN", "inactive_clean", "step 5 higher-order reclaim" })
            Assert.Contains(term, output);
    }

    [Fact]
    public void PlainLiveView_PrintsFourParsableLinesPerWorkPhase()
    {
        var lines = Lines.Select(l => LiveLine().Match(l)).Where(m => m.Success).ToList();

        foreach (string phase in new[] { "churn", "cache", "fragment", "pressure" })
        {
            var mine = lines.Where(m => m.Groups["phase"].Value == phase).ToList();
            int[] percents = mine.Select(m => int.Parse(m.Groups["percent"].Value)).ToArray();
            // One line per quarter reached; a phase that stops early (pressure ends at the first refusal) jumps to 100.
            Assert.InRange(percents.Length, 1, 4);
            Assert.Equal(percents.Order().Distinct(), percents);
            Assert.Equal(100, percents[^1]);
            Assert.All(percents, p => Assert.Equal(0, p % 25));
            foreach (Match m in mine)
            {
                int percent = int.Parse(m.Groups["percent"].Value);
                Assert.Equal(percent / 5, m.Groups["bar"].Value.Count(c => c == '#'));
                string[] zones = m.Groups["zones"].Value.Split(" | ");
                Assert.Equal(["DMA", "Normal"], zones.Select(z => LiveZone().Match(z).Groups["zone"].Value).ToArray());
            }
        }
    }

    [Fact]
    public void EveryPhase_ReportsItsOwnCounters()
    {
        string[] counters = Lines.Where(l => l.StartsWith("this phase: ", StringComparison.Ordinal)).ToArray();

        Assert.Equal(5, counters.Length);
        // One per phase and one for the totals at the end.
        Assert.Equal(6, Lines.Count(l => l.StartsWith("  served by: step 1 fast path ", StringComparison.Ordinal)));
        Assert.Contains(Lines, l => Regex.IsMatch(l, @"step 5 higher-order reclaim [1-9]"));
        Assert.Contains(Lines, l => Regex.IsMatch(l, @"step 6 final phase [1-9]"));
    }

    [Fact]
    public void Watermarks_AreDrawnForEachZone_AfterEachWorkPhase()
    {
        var marks = Lines.Select(l => WatermarkLine().Match(l)).Where(m => m.Success).ToList();

        Assert.Equal(8, marks.Count); // two zones after each of the four work phases
        Assert.Contains(marks, m => m.Groups["band"].Value == "below pages_min");
        Assert.Contains(marks, m => m.Groups["band"].Value == "above pages_high");
        Assert.All(marks, m => Assert.Equal(1, m.Groups["bar"].Value.Count(c => c == 'm')));
    }

    [Fact]
    public void LruLists_ShowPages_OnActiveInactiveDirtyAndInactiveClean()
    {
        var lists = Lines.Select(l => LruLine().Match(l)).Where(m => m.Success).ToList();

        foreach (string list in new[] { "active", "inactive_dirty", "inactive_clean" })
        {
            Match shown = lists.First(m => m.Groups["list"].Value == list && m.Groups["count"].Value != "0");
            Assert.StartsWith("#", shown.Groups["pages"].Value);
        }
    }

    [Fact]
    public void StepSevenMessage_ComesThroughTheLogger_InThePressurePhase()
    {
        int pressure = Array.FindIndex(Lines, l => l.StartsWith("== phase 4 of 5: pressure", StringComparison.Ordinal));
        int release = Array.FindIndex(Lines, l => l.StartsWith("== phase 5 of 5", StringComparison.Ordinal));
        int logged = Array.FindIndex(Lines, l => l.StartsWith("warn: FastBuddy[1] 0-order allocation failed", StringComparison.Ordinal));

        Assert.InRange(logged, pressure, release);
    }

    [Fact]
    public void FinalTable_IsDrawnAfterThePerThreadListsAreDrained()
    {
        int parkedLine = Array.FindIndex(Lines, l => l.Contains("per-thread lists hold", StringComparison.Ordinal));
        int finalTable = Array.FindIndex(Lines, l => l.StartsWith("-- after release", StringComparison.Ordinal));
        Match total = Lines.Skip(finalTable).Select(l => Regex.Match(l, @"^total\s+(\d+)\s+(\d+)\s+(\d+) ")).First(m => m.Success);

        Assert.True(parkedLine >= 0 && parkedLine < finalTable);
        Assert.Equal(total.Groups[1].Value, total.Groups[2].Value); // every page free
        Assert.Equal("0", total.Groups[3].Value);                   // nothing parked
        Assert.Contains("validate: ok, every page is free again", Run.Value.Output);
    }

    [Fact]
    public void LiveOff_PrintsNoLiveLines()
    {
        CliResult result = Cli.RunOk("demo", "--live", "off", "--steps", "500");

        Assert.DoesNotContain(result.Lines, l => LiveLine().IsMatch(l));
    }
}
