using System.Text.Json;
using System.Text.RegularExpressions;

namespace FastBuddy.Cli.Tests;

/// <summary>stats as text: /proc/buddyinfo and /proc/zoneinfo lines that agree with --json.</summary>
public sealed class StatsTextTests
{
    [Fact]
    public void BuddyInfo_HasOneLinePerZone_MatchingTheJsonFreeBlocks()
    {
        CliResult text = Cli.RunOk("stats", "--workload", "churn", "--steps", Cli.ShortChurn);
        JsonElement json = StatsDocument.Parse(Cli.RunOk("stats", "--json", "--workload", "churn", "--steps", Cli.ShortChurn).Output);

        var lines = text.Lines.Select(l => Regex.Match(l, @"^Node 0, zone\s+(\w+)((?:\s+\d+)+)$")).Where(m => m.Success).ToList();
        Assert.Equal(2, lines.Count);
        foreach (JsonElement zone in json.GetProperty("zones").EnumerateArray())
        {
            Match line = lines.Single(m => m.Groups[1].Value == zone.GetProperty("name").GetString());
            long[] counts = line.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
            Assert.Equal(zone.GetProperty("free_blocks").EnumerateArray().Select(e => e.GetInt64()).ToArray(), counts);
        }
    }

    [Fact]
    public void ZoneInfo_ShowsFreePagesAndWatermarks_PerZone()
    {
        CliResult text = Cli.RunOk("stats", "--workload", "fresh");

        string output = text.Output;
        Assert.Contains("Node 0, zone      DMA\n  pages free     4096\n        min      128\n        low      256\n        high     384", output.Replace("\r", ""));
        Assert.Contains("Node 0, zone   Normal\n  pages free     12288\n        min      96\n        low      192\n        high     288", output.Replace("\r", ""));
        Assert.Contains("step_fast_path 0", output);
    }

    [Fact]
    public void SlabInfo_ShowsEachClassHoldingSlabs_WithObjectsThatAddUpToTheCounter()
    {
        CliResult text = Cli.RunOk("stats", "--workload", "churn", "--steps", Cli.ShortChurn);

        var rows = text.Lines.Select(l => Regex.Match(l, @"^size-(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$"))
            .Where(m => m.Success).Select(m => Enumerable.Range(1, 8).Select(g => long.Parse(m.Groups[g].Value)).ToArray()).ToList();
        Assert.Contains("# /proc/slabinfo", text.Output);
        Assert.NotEmpty(rows);
        foreach (long[] r in rows) // name, active_objs, num_objs, objsize, objperslab, pagesperslab, slabs, spare
        {
            Assert.Equal(r[0], r[3]);
            Assert.True(r[6] > 0);
            Assert.Equal(r[6] * r[4], r[2]);
            Assert.InRange(r[1], 0, r[2]);
            Assert.True(r[4] * r[3] <= r[5] * 4096);
        }
        Assert.Equal(rows.Select(r => r[0]).Order(), rows.Select(r => r[0])); // smallest class first
        long objects = long.Parse(text.Lines.Single(l => l.StartsWith("nr_slab_objects ", StringComparison.Ordinal)).Split(' ')[1]);
        long pages = long.Parse(text.Lines.Single(l => l.StartsWith("nr_slab_pages ", StringComparison.Ordinal)).Split(' ')[1]);
        Assert.Equal(objects, rows.Sum(r => r[1]));
        Assert.Equal(pages, rows.Sum(r => r[6] * r[5]));
        Assert.True(objects > 0); // the churn's byte allocations up to 32 KiB are slab objects
    }
}
