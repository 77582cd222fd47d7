namespace FastBuddy.Cli.Tests;

/// <summary>--help of every verb: usage, every option described, defaults shown.</summary>
public sealed class HelpTests
{
    [Fact]
    public void RootHelp_ListsTheThreeVerbs_AndTheExitCodes()
    {
        CliResult result = Cli.RunOk("--help");

        Assert.Contains("fastbuddy [command] [options]", result.Output);
        foreach (string verb in new[] { "demo", "stats", "map" })
            Assert.Contains(result.Lines, l => l.TrimStart().StartsWith(verb + " ", StringComparison.Ordinal));
        Assert.Contains("Exit codes: 0 ok, 1 bad command line, 2 options the arena rejects, 3 the run failed", result.Output);
    }

    [Theory]
    [InlineData("demo", new[] { "--json", "--live" })]
    [InlineData("stats", new[] { "--json", "--workload" })]
    [InlineData("map", new[] { "--svg", "--workload", "--columns" })]
    public void VerbHelp_DescribesEveryOption_WithItsDefault(string verb, string[] own)
    {
        CliResult result = Cli.RunOk(verb, "--help");

        Assert.Contains($"fastbuddy {verb} [options]", result.Output);
        string[] common = ["--seed", "--steps", "--requests", "--dma", "--normal", "--page-size", "--max-order"];
        foreach (string option in common.Concat(own))
        {
            string line = result.Lines.Single(l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
            bool flagOrRequired = option is "--json" or "--svg";
            if (!flagOrRequired)
                Assert.Contains("[default: ", line);
        }
        Assert.Contains("[default: 2401]", result.Output);
        Assert.Contains("[default: 16M]", result.Output);
        Assert.Contains("[default: 48M]", result.Output);
    }

    [Fact]
    public void SeedHelp_SaysHowARunIsMadeRepeatable()
    {
        CliResult result = Cli.RunOk("demo", "--help");

        string seed = result.Lines.Single(l => l.TrimStart().StartsWith("--seed ", StringComparison.Ordinal));
        Assert.Contains("background reclaim off", seed);
        Assert.Contains("Balance", seed);
    }

    [Fact]
    public void MapHelp_MarksSvgAsRequired()
    {
        CliResult result = Cli.RunOk("map", "--help");

        Assert.Contains(result.Lines, l => l.TrimStart().StartsWith("--svg <FILE> (REQUIRED)", StringComparison.Ordinal));
    }
}
