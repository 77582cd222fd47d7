namespace FastBuddy.Cli.Tests;

/// <summary>Bad command lines: a clear message on the error writer and a non-zero exit code, never a stack trace.</summary>
public sealed class BadArgumentTests
{
    [Theory]
    [InlineData(new[] { "bogus" }, "Unrecognized command or argument 'bogus'")]
    [InlineData(new string[0], "Required command was not provided")]
    [InlineData(new[] { "demo", "--seed", "abc" }, "Cannot parse argument 'abc' for option '--seed'")]
    [InlineData(new[] { "demo", "--steps", "-5" }, "--steps must not be negative")]
    [InlineData(new[] { "demo", "--dma", "1X" }, "'1X' is not a size")]
    [InlineData(new[] { "demo", "--live", "fancy" }, "Argument 'fancy' not recognized")]
    [InlineData(new[] { "demo", "--frobnicate" }, "Unrecognized command or argument '--frobnicate'")]
    [InlineData(new[] { "stats", "--workload", "everything" }, "Argument 'everything' not recognized")]
    [InlineData(new[] { "map" }, "Option '--svg' is required")]
    [InlineData(new[] { "map", "--svg", "x.svg", "--columns", "4" }, "--columns must be from 8 to 1024")]
    public void BadCommandLine_ExitsWithOne_AndSaysWhy(string[] args, string message)
    {
        CliResult result = Cli.Run(args);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Theory]
    [InlineData("--page-size", "1000", "PageSize must be a power of two")]
    [InlineData("--max-order", "0", "MaxOrder")]
    [InlineData("--normal", "0", "arena rejects")]
    public void OptionsTheArenaRejects_ExitWithTwo_AndSayWhy(string option, string value, string message)
    {
        CliResult result = Cli.Run("stats", "--workload", "fresh", option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("fastbuddy: the arena rejects these options: ", result.Error);
        Assert.Contains(message, result.Error);
    }

    [Fact]
    public void UnwritableSvgPath_ExitsWithThree()
    {
        CliResult result = Cli.Run("map", "--workload", "fresh", "--svg", "/nonexistent-dir/map.svg");

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("fastbuddy: ", result.Error);
    }
}
