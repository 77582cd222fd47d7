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
}
