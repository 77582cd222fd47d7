using System.Text.Json;

namespace FastBuddy.Cli.Tests;

/// <summary>--json on demo and stats: the documented schema, consistent counts, and repeatable seeds.</summary>
public sealed class JsonTests
{
    private static JsonElement Demo(string seed)
        => StatsDocument.Parse(Cli.RunOk("demo", "--json", "--seed", seed, "--steps", Cli.ShortChurn).Output);

    [Fact]
    public void DemoJson_FollowsTheSchema_AndEndsWithEveryPageFree()
    {
        JsonElement root = Demo("5");

        JsonElement totals = root.GetProperty("totals");
        Assert.Equal("demo", root.GetProperty("command").GetString());
        Assert.Equal(StatsDocument.Number(totals, "pages"), StatsDocument.Number(totals, "free_pages"));
        Assert.Equal(0, StatsDocument.Number(totals, "per_cpu_pages"));
        Assert.Equal(["churn", "cache", "fragment", "pressure", "release"],
            root.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToArray());
    }

    [Fact]
    public void DemoJson_IsOnlyJson_TheLoggerGoesToTheErrorWriter()
    {
        CliResult result = Cli.RunOk("demo", "--json", "--steps", Cli.ShortChurn);

        using JsonDocument document = JsonDocument.Parse(result.Output); // throws on any text around the document
        Assert.Contains("warn: FastBuddy[1] 0-order allocation failed", result.Error);
    }

    [Fact]
    public void DemoPhases_ReachEveryStep_IncludingFiveSixAndSeven()
    {
        JsonElement root = Demo("3");

        JsonElement fragment = StatsDocument.Phase(root, "fragment").GetProperty("steps");
        Assert.True(StatsDocument.Number(fragment, "higher_order_reclaim") > 0);
        JsonElement pressure = StatsDocument.Phase(root, "pressure").GetProperty("steps");
        Assert.True(StatsDocument.Number(pressure, "final_phase") > 0);
        Assert.True(StatsDocument.Number(pressure, "direct_reclaim") > 0);
        Assert.True(StatsDocument.Number(pressure, "failed") > 0);
        Assert.True(StatsDocument.Number(StatsDocument.Phase(root, "churn").GetProperty("steps"), "fast_path") > 0);
        Assert.True(StatsDocument.Number(StatsDocument.Phase(root, "fragment"), "laundered") > 0);
        Assert.True(StatsDocument.Number(StatsDocument.Phase(root, "pressure"), "laundered") > 0);
        Assert.True(StatsDocument.Number(StatsDocument.Phase(root, "pressure"), "reclaimed") > 0);
    }

    [Fact]
    public void SameSeed_GivesIdenticalJson()
    {
        // A small arena, so that each run's arena lives well under the second after which memory_pressure decays;
        // a run that took longer says so (DecayNote) and the pair is run again, up to five times.
        string[] args = ["demo", "--json", "--seed", "11", "--steps", "1000", "--dma", "4M", "--normal", "12M"];
        for (int attempt = 0; attempt < 5; attempt++)
        {
            CliResult first = Cli.RunOk(args), second = Cli.RunOk(args);
            if (first.Error.Contains(DecayNote.Prefix) || second.Error.Contains(DecayNote.Prefix))
                continue;
            Assert.Equal(first.Output, second.Output);
            return;
        }
        Assert.Fail("five pairs of runs all took longer than a second: the machine is too busy to compare them");
    }

    [Fact]
    public void ASlowRun_SaysItMayDiffer()
    {
        var error = new StringWriter();

        DecayNote.Check(TimeSpan.FromSeconds(1.5), error);
        DecayNote.Check(TimeSpan.FromSeconds(0.5), error);

        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("note: the arena lived 1.50 s: memory_pressure decayed", error.ToString());
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentRuns()
    {
        JsonElement a = Demo("1"), b = Demo("2");

        Assert.NotEqual(StatsDocument.Phase(a, "churn").GetRawText(), StatsDocument.Phase(b, "churn").GetRawText());
    }

    [Theory]
    [InlineData("fresh")]
    [InlineData("churn")]
    [InlineData("cache")]
    [InlineData("fragment")]
    [InlineData("pressure")]
    public void StatsJson_FollowsTheSchema_ForEveryWorkload(string workload)
    {
        JsonElement root = StatsDocument.Parse(Cli.RunOk("stats", "--json", "--workload", workload, "--steps", Cli.ShortChurn).Output);

        Assert.Equal("stats", root.GetProperty("command").GetString());
        Assert.Equal(workload, root.GetProperty("workload").GetString());
        Assert.False(root.TryGetProperty("phases", out _));
    }

    [Fact]
    public void StatsJson_OfAFreshArena_HasOnlyWholeLargestBlocks()
    {
        JsonElement root = StatsDocument.Parse(Cli.RunOk("stats", "--json", "--workload", "fresh").Output);

        JsonElement dma = root.GetProperty("zones")[0];
        Assert.Equal("DMA", dma.GetProperty("name").GetString());
        long[] blocks = dma.GetProperty("free_blocks").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4], blocks);
        Assert.Equal(0, StatsDocument.Number(root.GetProperty("totals"), "allocations"));
    }

    [Fact]
    public void StatsJson_AfterCache_ShowsPagesOnAllThreeLruLists()
    {
        JsonElement root = StatsDocument.Parse(Cli.RunOk("stats", "--json", "--workload", "cache", "--steps", Cli.ShortChurn).Output);

        JsonElement totals = root.GetProperty("totals");
        Assert.True(StatsDocument.Number(totals, "active_pages") > 0);
        Assert.True(StatsDocument.Number(totals, "inactive_dirty_pages") > 0);
        Assert.True(StatsDocument.Number(totals, "inactive_clean_pages") > 0);
    }
}
